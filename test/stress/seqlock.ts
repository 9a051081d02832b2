/**
 * Seqlock under real concurrency: one writer thread rewrites random row
 * ranges as constant vectors without pause while reader threads take
 * consistent copies; a torn copy would show a row mixing two values.
 * Options: reads (per reader), readers, rows, cols, seed.
 */
import { Seqlock } from '../../src/shm/seqlock.js';
import { firstMessage, startWorker } from '../helpers/threads.js';
import { opt, type StressReport, type StressScenario } from './report.js';

interface ReaderResult {
  reads: number;
  torn: number;
  notOk: number;
  stalls: number;
  retries: number;
  changed: number;
  firstTorn: string;
}
interface WriterResult {
  writes: number;
  failures: number;
}

export const scenario: StressScenario = async (opts): Promise<StressReport> => {
  const reads = opt(opts, 'reads', 3_000_000);
  const readers = opt(opts, 'readers', 2);
  const rows = opt(opts, 'rows', 16);
  const cols = opt(opts, 'cols', 64);
  const seed = opt(opts, 'seed', Date.now() & 0x7fffffff);
  const region = Seqlock.create({ rows, cols });
  const control = new SharedArrayBuffer(64);
  const writer = startWorker('seqlock-writer', { handle: region.handle, control, mode: 'constant', seed });
  const writerDone = firstMessage<WriterResult>(writer, 900_000);
  const readerWorkers = Array.from({ length: readers }, () =>
    startWorker('seqlock-reader', { handle: region.handle, reads }),
  );
  const results = await Promise.all(readerWorkers.map((w) => firstMessage<ReaderResult>(w, 900_000)));
  Atomics.store(new Int32Array(control), 0, 1);
  const w = await writerDone;
  await Promise.all([writer.terminate(), ...readerWorkers.map((x) => x.terminate())]);

  const total = (k: keyof ReaderResult): number => results.reduce((s, r) => s + (r[k] as number), 0);
  const failures: string[] = [];
  if (total('torn') > 0) failures.push(`${total('torn')} torn rows: ${results.find((r) => r.firstTorn)?.firstTorn}`);
  if (total('notOk') > 0) failures.push(`${total('notOk')} reads did not complete`);
  if (w.failures > 0) failures.push(`${w.failures} writes failed`);
  if (w.writes < 100) failures.push(`the writer made only ${w.writes} writes: the race was not exercised`);
  if (total('changed') < 10) failures.push('readers saw almost no writes: the race was not exercised');
  return {
    name: `seqlock(${readers} readers x ${reads} reads, ${rows}x${cols} rows, seed ${seed})`,
    ok: failures.length === 0,
    details: {
      reads: total('reads'),
      writes: w.writes,
      retries: total('retries'),
      stalls: total('stalls'),
      changesSeen: total('changed'),
      seed,
    },
    failures,
  };
};
