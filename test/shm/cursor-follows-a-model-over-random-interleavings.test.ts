/**
 * Model check of the cursor: fast-check interleaves the read, compare and
 * compare-and-swap steps of up to four simulated advancers on ONE real
 * Cursor (`get` + `tryAdvanceOnce`, the steps `advance` loops over), with
 * targets small, around 2^32 and at 2^53 - 1. After every step the value
 * must equal the model's and never be lower than before; it must always be
 * the initial value or some target. When every advancer has finished, the
 * value is the largest target (or the initial value if that is larger).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { Cursor } from '../../src/shm/cursor.js';
import { check } from '../helpers/prop.js';

type Advancer = { phase: 'idle' } | { phase: 'read'; to: number } | { phase: 'cas'; to: number; expected: number };

interface Model {
  value: number;
  readonly values: Set<number>;
  readonly advancers: Advancer[];
}
interface Real {
  readonly c: Cursor;
}

function invariants(m: Model, r: Real, before: number): void {
  const v = r.c.get();
  assert.is(v, m.value, 'value agrees with the model');
  assert.ok(v >= before, `went back from ${before} to ${v}`);
  assert.ok(m.values.has(v), `${v} is neither the initial value nor a target`);
}

class Start implements fc.Command<Model, Real> {
  constructor(
    readonly p: number,
    readonly to: number,
  ) {}
  check(m: Readonly<Model>): boolean {
    return m.advancers[this.p]!.phase === 'idle';
  }
  run(m: Model, r: Real): void {
    m.advancers[this.p] = { phase: 'read', to: this.to };
    m.values.add(this.to);
    invariants(m, r, m.value);
  }
  toString(): string {
    return `start(${this.p}, ${this.to})`;
  }
}

class Read implements fc.Command<Model, Real> {
  constructor(readonly p: number) {}
  check(m: Readonly<Model>): boolean {
    return m.advancers[this.p]!.phase === 'read';
  }
  run(m: Model, r: Real): void {
    const a = m.advancers[this.p] as { phase: 'read'; to: number };
    const expected = r.c.get();
    assert.is(expected, m.value);
    m.advancers[this.p] = { phase: 'cas', to: a.to, expected };
    invariants(m, r, m.value);
  }
  toString(): string {
    return `read(${this.p})`;
  }
}

class Cas implements fc.Command<Model, Real> {
  constructor(readonly p: number) {}
  check(m: Readonly<Model>): boolean {
    return m.advancers[this.p]!.phase === 'cas';
  }
  run(m: Model, r: Real): void {
    const a = m.advancers[this.p] as { phase: 'cas'; to: number; expected: number };
    const before = m.value;
    const got = r.c.tryAdvanceOnce(a.to, a.expected);
    if (a.to <= a.expected) {
      assert.equal(got, { state: 'not-greater', current: a.expected });
      m.advancers[this.p] = { phase: 'idle' };
    } else if (m.value === a.expected) {
      assert.equal(got, { state: 'advanced' });
      m.value = a.to;
      m.advancers[this.p] = { phase: 'idle' };
    } else if (a.to <= m.value) {
      assert.equal(got, { state: 'not-greater', current: m.value });
      m.advancers[this.p] = { phase: 'idle' };
    } else {
      assert.equal(got, { state: 'raced', current: m.value });
      m.advancers[this.p] = { phase: 'cas', to: a.to, expected: m.value };
    }
    invariants(m, r, before);
  }
  toString(): string {
    return `cas(${this.p})`;
  }
}

const ADVANCERS = 4;
const target = fc.oneof(
  fc.nat(40),
  fc.integer({ min: 2 ** 32 - 3, max: 2 ** 32 + 3 }),
  fc.constant(Number.MAX_SAFE_INTEGER),
);
const commands = [
  fc.tuple(fc.nat(ADVANCERS - 1), target).map(([p, to]) => new Start(p, to)),
  fc.nat(ADVANCERS - 1).map((p) => new Read(p)),
  fc.nat(ADVANCERS - 1).map((p) => new Cas(p)),
];

test('interleaved read/compare/CAS steps never move the cursor back and end at the largest target', async () => {
  await check(
    fc.property(
      fc.oneof(fc.constant(0), fc.nat(40)),
      fc.commands(commands, { maxCommands: 300, size: 'max' }),
      (initial, cmds) => {
        const c = Cursor.create({ initial });
        const model: Model = {
          value: initial,
          values: new Set([initial]),
          advancers: Array.from({ length: ADVANCERS }, () => ({ phase: 'idle' as const })),
        };
        fc.modelRun(() => ({ model, real: { c } }), cmds);
        // Let every unfinished advancer complete with the real loop.
        for (const a of model.advancers) if (a.phase !== 'idle') c.advance(a.to);
        assert.is(c.get(), Math.max(...model.values));
      },
    ),
    200,
  );
});

test.run();
