/**
 * The WebAssembly update kernels (src/ps/wasm/) and their JavaScript
 * fallbacks agree: given the same rows, row indices (repeats included),
 * gradients and learning rate, the SGD kernel leaves the same bits as
 * `sgdStep`, and the Adagrad kernel the same rows and accumulators as
 * `adagradStep` (all float32 arithmetic; a NaN may differ only in its
 * payload, so two NaNs count as equal), and the staged sum of squares is the
 * finite check (finite exactly when every gradient is) and the gradients'
 * squared norm (to float64 rounding). At the server's level, a server whose
 * tables live in shared WebAssembly memories (`kernels: 'wasm'`, the
 * default) and one in plain buffers (`kernels: 'js'`) end bit-identical
 * after the same pushes (async, sync steps, a training client's async and
 * sync pushes),
 * whatever the rule, and both refuse a non-finite
 * value with the same error before anything changes.
 * Seeds from KGSHARD_SEED (printed on failure).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { Seqlock } from '../../src/shm/seqlock.js';
import { claimPages } from '../../src/shm/wasm-memory.js';
import { UpdateKernel, updateKernelsSupported } from '../../src/ps/wasm/kernel.js';
import { adagradStep, sgdStep } from '../../src/ps/update-rules.js';
import { ParameterServer } from '../../src/ps/server.js';
import type { PsOptimizer } from '../../src/ps/config.js';
import { check } from '../helpers/prop.js';
import { errorText } from '../helpers/errors.js';

/** Same float32 bits, or both NaN. */
function sameFloats(a: Float32Array, b: Float32Array, what: string): void {
  assert.is(a.length, b.length);
  const ua = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const ub = new Uint32Array(b.buffer, b.byteOffset, b.length);
  for (let i = 0; i < a.length; i++) {
    if (ua[i] !== ub[i] && !(Number.isNaN(a[i]) && Number.isNaN(b[i]))) {
      assert.unreachable(
        `${what}: float ${i} is ${a[i]} (0x${ua[i]!.toString(16)}), expected ${b[i]} (0x${ub[i]!.toString(16)})`,
      );
    }
  }
}

const f32 = fc.float({ noNaN: true, noDefaultInfinity: true });
/** Mostly gradient-sized values, sometimes any finite float32 (subnormals, huge). */
const value = fc.oneof(
  { arbitrary: fc.float({ min: -4, max: 4, noNaN: true }), weight: 4 },
  { arbitrary: f32, weight: 1 },
);

const kernelCase = fc
  .record({ rows: fc.integer({ min: 1, max: 9 }), width: fc.integer({ min: 1, max: 37 }) })
  .chain(({ rows, width }) =>
    fc.record({
      rows: fc.constant(rows),
      width: fc.constant(width),
      table: fc.array(value, { minLength: rows * width, maxLength: rows * width }),
      push: fc.array(
        fc.tuple(fc.integer({ min: 0, max: rows - 1 }), fc.array(value, { minLength: width, maxLength: width })),
        { maxLength: 12 },
      ),
      lr: fc.oneof(fc.constantFrom(0.01, 0.1, 1), fc.double({ min: 1e-6, max: 10, noNaN: true })),
    }),
  );

test('the SGD kernel gives the bits of sgdStep, rows in order, repeats included', async () => {
  assert.ok(updateKernelsSupported(), 'Node 20 runs WebAssembly SIMD with shared memory');
  await check(
    fc.property(kernelCase, ({ rows, width, table, push, lr }) => {
      const lock = Seqlock.create({ rows, cols: width, wasmMemory: true });
      const k = UpdateKernel.forTable(lock.handle.memory, lock.data, width)!;
      assert.ok(k !== null);
      lock.data.set(table);
      const want = Float32Array.from(table);
      const rowIdx = Int32Array.from(push.map(([r]) => r));
      const grads = Float32Array.from(push.flatMap(([, g]) => g));
      const sq = k.stage(rowIdx, grads, push.length);
      let jsSq = 0;
      for (const v of grads) jsSq += v * v;
      assert.ok(Math.abs(sq - jsSq) <= 1e-12 * jsSq, `sum of squares ${sq}, expected ${jsSq}`);
      k.applyStaged(0, push.length, lr, -1);
      for (let i = 0; i < push.length; i++) sgdStep(want, rowIdx[i]! * width, grads, i * width, width, lr);
      sameFloats(lock.data, want, 'table after SGD');
    }),
    300,
  );
});

test('the Adagrad kernel gives the bits of adagradStep, rows and accumulators, repeats included', async () => {
  const accValue = fc.oneof(
    { arbitrary: fc.float({ min: 0, max: 16, noNaN: true }), weight: 4 },
    { arbitrary: fc.constant(0), weight: 1 },
  );
  await check(
    fc.property(kernelCase, fc.array(accValue, { minLength: 9 * 37, maxLength: 9 * 37 }), (c, accs) => {
      const { rows, width, table, push, lr } = c;
      const lock = Seqlock.create({ rows, cols: width, wasmMemory: true });
      const k = UpdateKernel.forTable(lock.handle.memory, lock.data, width)!;
      const accPtr = claimPages(lock.handle.memory!, 1 + Math.ceil((rows * width * 4) / 65536));
      assert.ok(accPtr > 0, 'room for the accumulators');
      const acc = new Float32Array(lock.handle.memory!.buffer, accPtr, rows * width);
      acc.set(accs.slice(0, rows * width));
      lock.data.set(table);
      const want = Float32Array.from(table);
      const wantAcc = Float32Array.from(acc);
      const rowIdx = Int32Array.from(push.map(([r]) => r));
      const grads = Float32Array.from(push.flatMap(([, g]) => g));
      k.stage(rowIdx, grads, push.length);
      k.applyStaged(0, push.length, lr, accPtr);
      for (let i = 0; i < push.length; i++) {
        const o = rowIdx[i]! * width;
        adagradStep(want, o, wantAcc, o, grads, i * width, width, lr);
      }
      sameFloats(acc, wantAcc, 'accumulators after Adagrad');
      sameFloats(lock.data, want, 'table after Adagrad');
    }),
    300,
  );
});

test('the staged sum of squares is finite exactly when every gradient is', async () => {
  await check(
    fc.property(
      fc.integer({ min: 1, max: 40 }),
      fc.array(value, { minLength: 1, maxLength: 200 }),
      fc.array(fc.tuple(fc.nat(), fc.constantFrom(Number.NaN, Infinity, -Infinity)), { maxLength: 3 }),
      (width, values, bad) => {
        const count = Math.ceil(values.length / width);
        const grads = new Float32Array(count * width);
        grads.set(values);
        for (const [at, v] of bad) grads[at % grads.length] = v;
        const lock = Seqlock.create({ rows: 2, cols: width, wasmMemory: true });
        const k = UpdateKernel.forTable(lock.handle.memory, lock.data, width)!;
        const sq = k.stage(new Int32Array(count), grads, count);
        assert.is(Number.isFinite(sq), grads.every(Number.isFinite), `sum ${sq} (${bad.length} bad values)`);
      },
    ),
    300,
  );
});

test('a push larger than the scratch grows it; the staged copy is what is applied', () => {
  const width = 5;
  const lock = Seqlock.create({ rows: 3, cols: width, wasmMemory: true });
  const k = UpdateKernel.forTable(lock.handle.memory, lock.data, width)!;
  const count = 5000; // past the first scratch's 256 rows
  const rowIdx = Int32Array.from({ length: count }, (_, i) => i % 3);
  const grads = Float32Array.from({ length: count * width }, (_, i) => ((i % 7) - 3) / 8);
  const want = new Float32Array(lock.data);
  assert.ok(k.stage(rowIdx, grads, count) >= 0);
  k.applyStaged(0, count, 0.01, -1);
  for (let i = 0; i < count; i++) sgdStep(want, rowIdx[i]! * width, grads, i * width, width, 0.01);
  sameFloats(lock.data, want, 'table');
});

test('when the memory cannot grow, nothing is staged and the server applies the push in JavaScript', () => {
  const ps = ParameterServer.create({ dim: 4, numShards: 1, mode: 'async', learningRate: 0.5 }, ['a', 'b'], ['r']);
  const js = ParameterServer.create({ dim: 4, numShards: 1, mode: 'async', learningRate: 0.5 }, ['a', 'b'], ['r'], {
    kernels: 'js',
  });
  const memory = ps.handle.shards[0]!.memory!;
  while (claimPages(memory, 1) >= 0); // take every page the memory may still grow by
  const k = UpdateKernel.forTable(memory, ps.view(0), 4)!;
  assert.is(k.stage(Int32Array.of(0), Float32Array.of(1, 2, 3, 4), 1), -1, 'no room: nothing staged');
  for (const s of [ps, js])
    s.pushFlat(
      0,
      0,
      Int32Array.of(1, 0, 1),
      Float32Array.from({ length: 12 }, (_, i) => i),
      3,
    );
  sameFloats(ps.view(0), js.view(0), 'shard');
  assert.match(
    errorText(() => ps.pushFlat(0, 0, Int32Array.of(1), Float32Array.of(1, Number.NaN, 1, 1), 1)),
    /^E_NON_FINITE: ParameterServer\.pushFlat: grads\[1\] is NaN/,
  );
});

// ------------------------------------------------------------------ the server

const serverCase = fc.record({
  dim: fc.integer({ min: 1, max: 21 }),
  numShards: fc.integer({ min: 1, max: 3 }),
  optimizer: fc.constantFrom<PsOptimizer>('sgd', 'sgd', 'adagrad', 'adagrad-row'),
  maxNorm: fc.constantFrom(0, 0, 1.5),
  lr: fc.double({ min: 1e-3, max: 1, noNaN: true }),
  pushes: fc.array(
    fc.record({
      shard: fc.nat(),
      rel: fc.boolean(),
      rows: fc.array(fc.tuple(fc.nat(), fc.array(fc.float({ min: -3, max: 3, noNaN: true }), { maxLength: 21 })), {
        maxLength: 6,
      }),
    }),
    { maxLength: 8 },
  ),
});

test("servers on WebAssembly memories and on plain buffers end bit-identical ('wasm' vs 'js')", async () => {
  await check(
    fc.property(serverCase, ({ dim, numShards, optimizer, maxNorm, lr, pushes }) => {
      const ids = Array.from({ length: 12 }, (_, i) => `e${i}`);
      const rels = ['r0', 'r1', 'r2'];
      const make = (kernels: 'wasm' | 'js'): ParameterServer =>
        ParameterServer.create(
          { dim, numShards, optimizer, maxNorm, learningRate: lr, mode: 'async', strategy: 'range' },
          ids,
          rels,
          { kernels },
        );
      const servers = [make('wasm'), make('js')];
      for (const p of pushes) {
        for (const ps of servers) {
          const shard = p.shard % numShards;
          const n = p.rel ? rels.length : ps.entityIds(shard).length;
          const count = p.rows.length;
          const rowIdx = Int32Array.from(p.rows.map(([r]) => r % n));
          const grads = new Float32Array(count * dim);
          p.rows.forEach(([, g], i) => grads.set(g.slice(0, dim), i * dim));
          if (p.rel) ps.pushRelationFlat(0, rowIdx, grads, count);
          else ps.pushFlat(shard, 0, rowIdx, grads, count);
        }
      }
      const [w, j] = servers as [ParameterServer, ParameterServer];
      for (let s = 0; s < numShards; s++) sameFloats(w.view(s), j.view(s), `shard ${s}`);
      sameFloats(w.relationView(), j.relationView(), 'relations');
      assert.equal(w.shardSteps(), j.shardSteps());
      const ws = w.stats();
      const js = j.stats();
      assert.ok(Math.abs(ws.lastGradNorm - js.lastGradNorm) <= 1e-12 * js.lastGradNorm, 'last gradient norm');
    }),
    150,
  );
});

test("sync steps and training clients' pushes end bit-identical too ('wasm' vs 'js')", async () => {
  await check(
    fc.asyncProperty(serverCase, async ({ dim, numShards, optimizer, maxNorm, lr, pushes }) => {
      const ids = Array.from({ length: 12 }, (_, i) => `e${i}`);
      const make = (kernels: 'wasm' | 'js', mode: 'sync' | 'async'): ParameterServer =>
        ParameterServer.create(
          { dim, numShards, optimizer, maxNorm, learningRate: lr, mode, expectedWorkers: 1, strategy: 'range' },
          ids,
          ['r0'],
          { kernels },
        );
      // Sync, one worker: every push completes its step (the average of one push, applied at once).
      const sync = [make('wasm', 'sync'), make('js', 'sync')];
      for (const p of pushes) {
        for (const ps of sync) {
          const shard = p.shard % numShards;
          const n = ps.entityIds(shard).length;
          const rowIdx = Int32Array.from(p.rows.map(([r]) => r % n));
          const grads = new Float32Array(p.rows.length * dim);
          p.rows.forEach(([, g], i) => grads.set(g.slice(0, dim), i * dim));
          const r = await ps.pushFlatAsync(shard, 0, rowIdx, grads, p.rows.length);
          assert.is(r.state, 'step-complete');
        }
      }
      // Async, through a training client: entity indices across shards, gradients at scattered offsets.
      const clients = [make('wasm', 'async'), make('js', 'async')];
      for (const p of pushes) {
        for (const ps of clients) {
          const count = p.rows.length;
          const entity = Int32Array.from(p.rows.map(([r]) => r % ids.length));
          const grads = new Float32Array((count + 1) * dim);
          const offs = Int32Array.from({ length: count }, (_, i) => (count - i) * dim); // reversed, slot 0 unused
          p.rows.forEach(([, g], i) => grads.set(g.slice(0, dim), offs[i]));
          ps.client(0, Math.max(1, count)).pushEntities(entity, count, grads, offs);
        }
      }
      // Sync, through a training client (one worker: each shard's step completes at its push); the client
      // refills the same packed arrays for every push, which must not find an earlier push's staged copy.
      const syncClients = [make('wasm', 'sync'), make('js', 'sync')];
      for (const ps of syncClients) {
        const client = ps.client(0, 8);
        for (const p of pushes) {
          const count = Math.min(8, p.rows.length);
          const entity = Int32Array.from(p.rows.slice(0, count).map(([r]) => r % ids.length));
          const grads = new Float32Array(count * dim);
          p.rows.slice(0, count).forEach(([, g], i) => grads.set(g.slice(0, dim), i * dim));
          client.pushEntitiesSync(0, entity, count, grads);
        }
      }
      for (const [what, [w, j]] of [
        ['sync', sync],
        ['client', clients],
        ['sync client', syncClients],
      ] as const) {
        for (let s = 0; s < numShards; s++) sameFloats(w!.view(s), j!.view(s), `${what}: shard ${s}`);
        assert.equal(w!.shardSteps(), j!.shardSteps());
      }
    }),
    100,
  );
});

test('both refuse a non-finite gradient with the same one-line error, before anything changes', async () => {
  await check(
    fc.property(
      fc.integer({ min: 1, max: 9 }),
      fc.integer({ min: 1, max: 6 }),
      fc.nat(),
      fc.constantFrom(Number.NaN, Infinity, -Infinity),
      (dim, count, at, bad) => {
        for (const kernels of ['wasm', 'js'] as const) {
          const ps = ParameterServer.create(
            { dim, numShards: 1, mode: 'async', learningRate: 0.1 },
            ['a', 'b', 'c'],
            ['r'],
            { kernels },
          );
          const before = Float32Array.from(ps.view(0));
          const grads = new Float32Array(count * dim).fill(0.5);
          const k = at % grads.length;
          grads[k] = bad;
          const rowIdx = Int32Array.from({ length: count }, (_, i) => i % 3);
          assert.is(
            errorText(() => ps.pushFlat(0, 0, rowIdx, grads, count)),
            `E_NON_FINITE: ParameterServer.pushFlat: grads[${k}] is ${bad}; gradients must be finite`,
          );
          sameFloats(ps.view(0), before, `${kernels}: shard after the refused push`);
          assert.equal(ps.shardSteps(), [0]);
          // The refused arrays, once repaired, push as usual (nothing stale stays staged).
          grads[k] = 0.5;
          ps.pushFlat(0, 0, rowIdx, grads, count);
          assert.equal(ps.shardSteps(), [1]);
        }
      },
    ),
    100,
  );
});

test.run();
