/**
 * Barrier under real concurrency, in two parts.
 *
 * Lockstep: `parties` parties (worker threads blocking in `arriveAndWait`,
 * plus the main thread in `arriveAndWaitAsync` when `asyncParty` is 1) run
 * many rounds; each writes its round number into a shared slot before
 * arriving and checks every party's slot after passing (see
 * fixtures/barrier-shared.ts). Checks: every round passes, with the expected
 * generation, exactly one `last` per round, the same number of rounds for
 * everyone, and no timeouts. Options: parties, rounds, asyncParty,
 * timeoutMs, duration (seconds).
 *
 * Timeout: a barrier of three parties where one (the main thread) stays
 * away for `tripRounds` rounds: the two worker parties must both get
 * `timed-out` every round, with exactly one trip per generation, all counted
 * in `timeouts`. Then the main thread joins and `passRounds` rounds must
 * all pass. Options: tripRounds, shortTimeoutMs, passRounds.
 */
import { Barrier } from '../../src/shm/barrier.js';
import {
  CONTROL_GO,
  CONTROL_PHASE1_DONE,
  CONTROL_STOP_AT,
  CONTROL_WORDS,
  runParty,
  type PartyInput,
  type PartyReport,
  type TimeoutPartyInput,
  type TimeoutPartyReport,
} from '../fixtures/barrier-shared.js';
import { runWorker } from '../helpers/threads.js';
import { opt, type StressReport, type StressScenario } from './report.js';

export const lockstepScenario: StressScenario = async (opts): Promise<StressReport> => {
  const parties = opt(opts, 'parties', 4);
  const rounds = opt(opts, 'rounds', 500_000);
  const asyncParty = opt(opts, 'asyncParty', 1) > 0;
  const timeoutMs = opt(opts, 'timeoutMs', 10_000);
  const duration = opt(opts, 'duration', 30);
  const workers = asyncParty ? parties - 1 : parties;
  if (workers < 1) throw new Error(`barrier lockstep: needs at least one worker party, got parties=${parties}`);

  const barrier = Barrier.create({ parties });
  const slots = new SharedArrayBuffer(2 * parties * 4);
  new Int32Array(slots).fill(-1);
  const control = new SharedArrayBuffer(CONTROL_WORDS * 4);
  Atomics.store(new Int32Array(control), CONTROL_STOP_AT, -1);
  const base = {
    handle: barrier.handle,
    slots,
    control,
    rounds,
    timeoutMs,
    startGeneration: barrier.generation(),
    deadline: Date.now() + duration * 1000,
  };
  const started = performance.now();
  const runs: Promise<PartyReport>[] = [];
  for (let p = 0; p < workers; p++) {
    const input: PartyInput = { ...base, party: p };
    runs.push(runWorker<PartyReport>('barrier-party', input, timeoutMs + (duration + 60) * 1000));
  }
  if (asyncParty) {
    const input: PartyInput = { ...base, party: parties - 1 };
    runs.push(runParty(input, (b, t) => b.arriveAndWaitAsync(t)));
  }
  const reports = await Promise.all(runs);
  const secs = (performance.now() - started) / 1000;

  const failures = reports.flatMap((r) => r.failures);
  const done = reports[0]!.rounds;
  if (reports.some((r) => r.rounds !== done))
    failures.push(`parties ran different numbers of rounds: ${reports.map((r) => r.rounds).join(', ')}`);
  const lasts = reports.reduce((s, r) => s + r.lasts, 0);
  if (lasts !== done) failures.push(`${lasts} parties were 'last' over ${done} rounds; expected exactly one per round`);
  const expectGen = (base.startGeneration + done) & 0xffff;
  if (barrier.generation() !== expectGen)
    failures.push(`generation ${barrier.generation()} after ${done} rounds, expected ${expectGen}`);
  if (barrier.timeouts() !== 0) failures.push(`${barrier.timeouts()} rounds timed out`);
  if (barrier.arrived() !== 0) failures.push(`${barrier.arrived()} arrivals left over at the end`);
  return {
    name:
      `barrier lockstep (${parties} parties${asyncParty ? ', one async on the main thread' : ''}, ` +
      `${rounds} rounds max)`,
    ok: failures.length === 0,
    details: { rounds: done, roundsPerSecond: Math.round(done / secs), lastsByParty: reports.map((r) => r.lasts) },
    failures,
  };
};

export const timeoutScenario: StressScenario = async (opts): Promise<StressReport> => {
  const tripRounds = opt(opts, 'tripRounds', 5);
  const shortTimeoutMs = opt(opts, 'shortTimeoutMs', 200);
  const passRounds = opt(opts, 'passRounds', 1000);
  const longTimeoutMs = 20_000;
  const barrier = Barrier.create({ parties: 3 });
  const g0 = barrier.generation();
  const control = new SharedArrayBuffer(CONTROL_WORDS * 4);
  const ctl = new Int32Array(control);
  const input: TimeoutPartyInput = {
    handle: barrier.handle,
    control,
    tripRounds,
    shortTimeoutMs,
    passRounds,
    longTimeoutMs,
  };
  const workerRuns = [0, 1].map(() => runWorker<TimeoutPartyReport>('barrier-timeout-party', input, 120_000));
  const failures: string[] = [];

  // Phase 1: stay away (without blocking the event loop) until both workers
  // have finished their timed-out rounds.
  const giveUp = Date.now() + longTimeoutMs;
  while (Atomics.load(ctl, CONTROL_PHASE1_DONE) < 2 && Date.now() < giveUp) {
    await new Promise((r) => setTimeout(r, 5));
  }
  const g1 = barrier.generation();
  const arrivedBetween = barrier.arrived();
  const timeoutsAfterPhase1 = barrier.timeouts();
  // Phase 2: join; everyone arrives only after the go word, so all three land in the same generations.
  Atomics.store(ctl, CONTROL_GO, 1);
  Atomics.notify(ctl, CONTROL_GO);
  let mainPassed = 0;
  for (let i = 0; i < passRounds; i++) {
    const r = await barrier.arriveAndWaitAsync(longTimeoutMs);
    if (r.state === 'passed') mainPassed++;
    else if (failures.length < 5) failures.push(`main thread, phase 2 round ${i}: ${JSON.stringify(r)}`);
  }
  const reports = await Promise.all(workerRuns);

  // Phase 1 checks: only two of three ever arrived, so every round was tripped.
  const ended = (g1 - g0) & 0xffff;
  const all = reports.flatMap((r) => r.phase1);
  const tripsByGen = new Map<number, number>();
  for (const r of all) {
    if (r.state !== 'timed-out') {
      failures.push(`phase 1: a round ended ${JSON.stringify(r)} though one party never arrived`);
      continue;
    }
    if (r.tripped) {
      tripsByGen.set(r.generation, (tripsByGen.get(r.generation) ?? 0) + 1);
      if (r.arrived < 1 || r.arrived > 2) failures.push(`phase 1: trip reports ${r.arrived} arrived, expected 1 or 2`);
    }
  }
  const gens = new Set(all.map((r) => r.generation));
  for (const g of gens) {
    if (tripsByGen.get(g) !== 1)
      failures.push(`phase 1: generation ${g} was tripped ${tripsByGen.get(g) ?? 0} times, expected once`);
  }
  if (gens.size !== ended)
    failures.push(`phase 1: results name ${gens.size} generations but the barrier moved ${ended}`);
  if (timeoutsAfterPhase1 !== ended)
    failures.push(`timeouts word is ${timeoutsAfterPhase1} after ${ended} tripped rounds`);
  if (arrivedBetween !== 0) failures.push(`${arrivedBetween} arrivals pending between the phases`);
  if (ended < tripRounds) failures.push(`only ${ended} generations ended in phase 1, expected at least ${tripRounds}`);

  // Phase 2 checks.
  for (const r of reports) failures.push(...r.phase2Failures);
  const passed = reports.map((r) => r.phase2Passed);
  if (mainPassed !== passRounds || passed.some((n) => n !== passRounds)) {
    failures.push(`phase 2: passed ${[...passed, mainPassed].join(', ')} of ${passRounds} rounds`);
  }
  if (barrier.timeouts() !== timeoutsAfterPhase1)
    failures.push(`phase 2 added ${barrier.timeouts() - timeoutsAfterPhase1} timeouts`);
  if (barrier.generation() !== ((g1 + passRounds) & 0xffff))
    failures.push(`generation ${barrier.generation()} after phase 2, expected ${(g1 + passRounds) & 0xffff}`);
  return {
    name:
      `barrier timeout (${tripRounds} rounds short of a party at ${shortTimeoutMs} ms, ` +
      `then ${passRounds} full rounds)`,
    ok: failures.length === 0,
    details: {
      trippedRounds: ended,
      timeouts: barrier.timeouts(),
      phase1Results: all.length,
      phase2Rounds: passRounds,
    },
    failures,
  };
};

/** Both parts; `npm run stress -- barrier`. */
export const scenario: StressScenario = async (opts): Promise<StressReport> => {
  const a = await lockstepScenario(opts);
  const b = await timeoutScenario(opts);
  return {
    name: `barrier: ${a.name}; ${b.name}`,
    ok: a.ok && b.ok,
    details: { lockstep: a.details, timeout: b.details },
    failures: [...a.failures, ...b.failures],
  };
};
