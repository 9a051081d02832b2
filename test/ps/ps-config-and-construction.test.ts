import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ParameterServer, type PsHandle } from '../../src/ps/server.js';
import { DEFAULT_PS_CONFIG, validatePsConfig } from '../../src/ps/config.js';
import { errorText } from '../helpers/errors.js';

const ids = (n: number, p = 'e'): string[] => Array.from({ length: n }, (_, i) => `${p}${i}`);

test("defaults are the reference's", () => {
  assert.equal(
    { ...DEFAULT_PS_CONFIG },
    {
      dim: 32,
      relationDim: 0,
      numShards: 4,
      expectedWorkers: 4,
      mode: 'sync',
      learningRate: 0.01,
      optimizer: 'sgd',
      maxNorm: 0,
      maxStaleness: 16,
      barrierTimeoutMs: 30_000,
      strategy: 'entity-hash',
      lockLeaseMs: 2_000,
      // Placement (not in the reference, which cannot reshard): chunks of
      // 1024 rows, every shard active, no room beyond the initial rows.
      chunkRows: 1024,
      activeShards: 0,
      shardCapacityRows: 0,
      entityCapacity: 0,
      confirmQuorum: -1,
      graceMs: 250,
      workerTimeoutMs: 30_000,
      pinLeaseMs: 60_000,
    },
  );
  assert.equal(validatePsConfig({}), DEFAULT_PS_CONFIG);
});

test('a server constructs and reports its shards', () => {
  const ps = ParameterServer.create({ dim: 4, numShards: 2, expectedWorkers: 2 }, ids(8), ids(2, 'r'));
  assert.is(ps.numShards, 2);
  assert.is(ps.entityIds(0).length + ps.entityIds(1).length, 8);
  assert.equal(ps.shardSteps(), [0, 0]);
});

test('zero or negative sizes are refused, naming the field and the value', () => {
  const bad: [Record<string, unknown>, RegExp][] = [
    [{ dim: 0 }, /^E_OUT_OF_RANGE: ParameterServer\.create: dim must be in \[1, 65536\], got 0$/],
    [{ dim: -4 }, /dim must be in .*got -4/],
    [{ dim: 2.5 }, /^E_INVALID_ARGUMENT: .*dim must be a positive integer, got 2\.5/],
    [{ numShards: 0 }, /numShards must be in \[1, 4096\], got 0/],
    [{ expectedWorkers: 0 }, /expectedWorkers must be in \[1, 1024\], got 0/],
    [{ expectedWorkers: -1 }, /expectedWorkers .*got -1/],
    [{ learningRate: 0 }, /learningRate must be a finite number > 0, got 0/],
    [{ learningRate: Number.NaN }, /learningRate .*got NaN/],
    [{ maxStaleness: -1 }, /maxStaleness must be a non-negative integer, got -1/],
    [{ barrierTimeoutMs: 0 }, /barrierTimeoutMs must be in/],
    [{ mode: 'eventual' }, /mode must be 'sync' or 'async', got "eventual"/],
    [{ strategy: 'random' }, /strategy must be 'entity-hash' or 'range', got "random"/],
    [{ optimizer: 'adam' }, /optimizer must be 'sgd', 'adagrad' or 'adagrad-row', got "adam"/],
    [{ maxNorm: -1 }, /maxNorm must be a finite number >= 0 \(0: no projection\), got -1/],
    [{ lockLeaseMs: 0 }, /lockLeaseMs must be in/],
    [{ relationDim: -1 }, /relationDim must be an integer in \[0, 65536\] \(0: same as dim\), got -1/],
  ];
  for (const [config, re] of bad) {
    assert.match(
      errorText(() => ParameterServer.create(config, ids(4), ids(1, 'r'))),
      re,
      JSON.stringify(config),
    );
  }
});

test('duplicate or non-string ids are refused with their positions', () => {
  assert.match(
    errorText(() => ParameterServer.create({ dim: 2 }, ['a', 'b', 'a'], ['r'])),
    /^E_DUPLICATE_ID: ParameterServer\.create: entityIds id "a" appears twice \(positions 0 and 2\)$/,
  );
  assert.match(
    errorText(() => ParameterServer.create({ dim: 2 }, ['a'], ['r', 'r'])),
    /relationIds id "r" appears twice/,
  );
  assert.match(
    errorText(() => ParameterServer.create({ dim: 2 }, ['a', 7 as unknown as string], ['r'])),
    /entityIds\[1\] must be a string, got 7/,
  );
});

test('relation rows may be narrower or wider than entity rows', () => {
  const ps = ParameterServer.create(
    { dim: 4, relationDim: 2, numShards: 1, mode: 'async', expectedWorkers: 1, learningRate: 0.5 },
    ids(3),
    ['r0', 'r1'],
  );
  assert.is(ps.relationDim, 2);
  assert.is(ps.pull(0).relations.length, 4);
  const before = ps.relationView()[2]!;
  ps.pushRelation(0, [[1, [1, 0]]]);
  assert.is(ps.relationView()[2], Math.fround(before - 0.5));
  assert.match(
    errorText(() => ps.pushRelation(0, [[0, [1, 1, 1, 1]]])),
    /^E_DIM_MISMATCH: .*gradient has length 4, expected 2/,
  );
});

test('attach checks the handle', () => {
  const ps = ParameterServer.create({ dim: 2, numShards: 2 }, ids(4), ['r']);
  const again = ParameterServer.attach(structuredClone(ps.handle));
  assert.equal(again.pull(1).entities, ps.pull(1).entities);
  assert.match(
    errorText(() => ParameterServer.attach({ ...ps.handle, kind: 'ring' } as unknown as PsHandle)),
    /^E_BAD_HANDLE/,
  );
  assert.match(
    errorText(() => ParameterServer.attach({ ...ps.handle, shards: ps.handle.shards.slice(1) })),
    /^E_BAD_HANDLE: .*2 shard regions/,
  );
  assert.match(
    errorText(() => ParameterServer.attach({ ...ps.handle, control: ps.handle.pending[0]! })),
    /^E_LAYOUT_MAGIC/,
  );
  assert.match(
    errorText(() => ParameterServer.attach({ ...ps.handle, config: { ...ps.handle.config, numShards: 3 } })),
    /^E_LAYOUT_SIZE|^E_BAD_HANDLE/,
  );
});

test.run();
