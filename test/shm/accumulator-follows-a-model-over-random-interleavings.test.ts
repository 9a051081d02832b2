/**
 * Model check of the threshold accumulator: fast-check interleaves the
 * steps of up to four simulated adders on ONE real Accumulator (`deposit`,
 * then `tryClaim` until it stops racing; the steps `add` loops over), whole
 * `add` calls and `drain`s, with random thresholds and amounts. After every
 * step: the real pending total and flush count equal the model's, and
 * claimed + pending == added. Every successful claim is at least the
 * threshold and is exactly the total it replaced, so one crossing has one
 * claimer. When every adder has finished its claim steps, what is pending
 * is below the threshold (no due flush was suppressed).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { Accumulator } from '../../src/shm/accumulator.js';
import { check } from '../helpers/prop.js';

type Adder = { phase: 'idle' } | { phase: 'claiming'; expected: number };

interface Model {
  readonly threshold: number;
  pending: number;
  added: number;
  claimed: number;
  claims: number;
  readonly adders: Adder[];
}
interface Real {
  readonly a: Accumulator;
}

function invariants(m: Model, r: Real): void {
  assert.is(r.a.pending(), m.pending, 'pending');
  assert.is(r.a.flushes(), m.claims, 'flushes');
  assert.is(m.claimed + m.pending, m.added, 'claimed + pending == added');
}

function claimed(m: Model, amount: number): void {
  assert.ok(amount >= m.threshold, `claim ${amount} below threshold ${m.threshold}`);
  m.claimed += amount;
  m.claims++;
  m.pending = 0;
}

class Deposit implements fc.Command<Model, Real> {
  constructor(
    readonly p: number,
    readonly n: number,
  ) {}
  check(m: Readonly<Model>): boolean {
    return m.adders[this.p]!.phase === 'idle';
  }
  run(m: Model, r: Real): void {
    const after = r.a.deposit(this.n);
    m.pending += this.n;
    m.added += this.n;
    assert.is(after, m.pending);
    m.adders[this.p] = { phase: 'claiming', expected: after };
    invariants(m, r);
  }
  toString(): string {
    return `deposit(${this.p}, ${this.n})`;
  }
}

class Claim implements fc.Command<Model, Real> {
  constructor(readonly p: number) {}
  check(m: Readonly<Model>): boolean {
    return m.adders[this.p]!.phase === 'claiming';
  }
  run(m: Model, r: Real): void {
    const { expected } = m.adders[this.p] as { phase: 'claiming'; expected: number };
    const got = r.a.tryClaim(expected);
    if (expected < m.threshold) {
      assert.equal(got, { state: 'below-threshold', current: expected });
      m.adders[this.p] = { phase: 'idle' };
    } else if (m.pending === expected) {
      assert.equal(got, { state: 'claimed', amount: expected });
      claimed(m, expected);
      m.adders[this.p] = { phase: 'idle' };
    } else if (m.pending >= m.threshold) {
      assert.equal(got, { state: 'raced', current: m.pending });
      m.adders[this.p] = { phase: 'claiming', expected: m.pending };
    } else {
      assert.equal(got, { state: 'below-threshold', current: m.pending });
      m.adders[this.p] = { phase: 'idle' };
    }
    invariants(m, r);
  }
  toString(): string {
    return `claim(${this.p})`;
  }
}

class Add implements fc.Command<Model, Real> {
  constructor(readonly n: number) {}
  check(): boolean {
    return true;
  }
  run(m: Model, r: Real): void {
    const got = r.a.add(this.n);
    m.pending += this.n;
    m.added += this.n;
    if (m.pending >= m.threshold) {
      assert.is(got, m.pending);
      claimed(m, got);
    } else {
      assert.is(got, 0);
    }
    invariants(m, r);
  }
  toString(): string {
    return `add(${this.n})`;
  }
}

class Drain implements fc.Command<Model, Real> {
  check(): boolean {
    return true;
  }
  run(m: Model, r: Real): void {
    assert.is(r.a.drain(), m.pending);
    m.claimed += m.pending;
    m.pending = 0;
    invariants(m, r);
  }
  toString(): string {
    return 'drain()';
  }
}

const ADDERS = 4;
const amount = fc.oneof(fc.nat(30), fc.constant(0));
const commands = [
  fc.tuple(fc.nat(ADDERS - 1), amount).map(([p, n]) => new Deposit(p, n)),
  fc.nat(ADDERS - 1).map((p) => new Claim(p)),
  amount.map((n) => new Add(n)),
  fc.constant(new Drain()),
];

test('interleaved deposit/claim steps conserve every amount and claim each crossing once', async () => {
  await check(
    fc.property(
      fc.integer({ min: 1, max: 60 }),
      fc.commands(commands, { maxCommands: 300, size: 'max' }),
      (threshold, cmds) => {
        const a = Accumulator.create({ threshold });
        const model: Model = {
          threshold,
          pending: 0,
          added: 0,
          claimed: 0,
          claims: 0,
          adders: Array.from({ length: ADDERS }, () => ({ phase: 'idle' as const })),
        };
        fc.modelRun(() => ({ model, real: { a } }), cmds);
        // Let every adder finish its claim steps, as `add` would.
        for (const adder of model.adders) {
          if (adder.phase !== 'claiming') continue;
          let step = a.tryClaim(adder.expected);
          while (step.state === 'raced') step = a.tryClaim(step.current);
          if (step.state === 'claimed') {
            model.claimed += step.amount;
            assert.ok(step.amount >= threshold);
          }
        }
        assert.ok(a.pending() < threshold, `quiescent pending ${a.pending()} >= threshold ${threshold}`);
        assert.is(model.claimed + a.pending(), model.added);
      },
    ),
    200,
  );
});

test.run();
