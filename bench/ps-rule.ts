/**
 * The `rule` group of the `ps` suite: the update rule of an async push, in
 * the parameter server's WebAssembly SIMD kernels against the same server
 * with `kernels: 'js'` (its JavaScript rule), for SGD and element-wise
 * Adagrad, side by side in the same tinybench runs on the main thread.
 *
 * The table is large enough to be memory-bound (one shard of 65,536 rows of
 * dim 128: 32 MiB of rows, and as much again of Adagrad accumulators), and
 * each push names 64 rows drawn at random, so every row comes from memory.
 * Each push is `pushFlat` whole: the edge's finite check, the rule, the
 * step. Figures: rows/s, and the bytes each row moves through memory per
 * second against the machine's copy bandwidth (`Float32Array.set` of 64
 * MiB, measured in the same runs): SGD reads the row and the gradient and
 * writes the row (3 x 512 bytes); Adagrad also reads and writes the
 * accumulators (5 x 512 bytes). Checks: both servers end bit-identical
 * (the kernels and the JavaScript rules are the same float32 arithmetic).
 */
import { ParameterServer } from '../src/ps/server.js';
import type { PsOptimizer } from '../src/ps/config.js';
import { completed, type CaseResult } from './lib/report.js';
import { check, pairedRatio, round2, tinyRuns, type TinyTask, type TinyTiming } from './lib/suite.js';
import { median } from './lib/stats.js';

const ROWS = 65_536;
const DIM = 128;
const ROWS_PER_PUSH = 64;
const PUSHES_PER_CALL = 64;
/** Distinct pushes cycled through (random rows, gradient-sized values). */
const BATCHES = 64;
const COPY_BYTES = 64 * 1024 * 1024;

export interface RuleFigures {
  readonly cases: CaseResult[];
  readonly figures: Record<string, number | null>;
  readonly ratios: Record<string, number | null>;
}

function server(optimizer: PsOptimizer, kernels: 'wasm' | 'js'): ParameterServer {
  const ids = Array.from({ length: ROWS }, (_, i) => `e${i}`);
  return ParameterServer.create(
    { dim: DIM, numShards: 1, mode: 'async', learningRate: 0.05, optimizer, maxStaleness: 2 ** 31 - 1 },
    ids,
    ['r'],
    { kernels },
  );
}

/** Deterministic pushes: random rows (xorshift), gradients in ±0.5. */
function batches(): { rows: Int32Array[]; grads: Float32Array[] } {
  let x = 0x2545f491;
  const next = (): number => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 4294967296;
  };
  const rows: Int32Array[] = [];
  const grads: Float32Array[] = [];
  for (let b = 0; b < BATCHES; b++) {
    rows.push(Int32Array.from({ length: ROWS_PER_PUSH }, () => Math.floor(next() * ROWS)));
    grads.push(Float32Array.from({ length: ROWS_PER_PUSH * DIM }, () => next() - 0.5));
  }
  return { rows, grads };
}

function sameBits(a: Float32Array, b: Float32Array): boolean {
  const ua = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const ub = new Uint32Array(b.buffer, b.byteOffset, b.length);
  for (let i = 0; i < ua.length; i++) if (ua[i] !== ub[i]) return false;
  return true;
}

export async function ruleSuite(timing: TinyTiming, log: (m: string) => void): Promise<RuleFigures> {
  const { rows, grads } = batches();
  const cases: CaseResult[] = [];
  const figures: Record<string, number | null> = {};
  const ratios: Record<string, number | null> = {};
  const src = new Float32Array(new SharedArrayBuffer(COPY_BYTES));
  const dst = new Float32Array(new SharedArrayBuffer(COPY_BYTES));
  src.fill(1);
  for (const optimizer of ['sgd', 'adagrad'] as const) {
    log(`update rule ${optimizer}`);
    const servers = { wasm: server(optimizer, 'wasm'), js: server(optimizer, 'js') };
    const cursor = { wasm: 0, js: 0 };
    const tasks: TinyTask[] = (['wasm', 'js'] as const).map((k) => ({
      name: `ps push rule ${optimizer} ${k}`,
      opsPerCall: PUSHES_PER_CALL * ROWS_PER_PUSH,
      fn: () => {
        const ps = servers[k];
        for (let i = 0; i < PUSHES_PER_CALL; i++) {
          const b = cursor[k]++ % BATCHES;
          ps.pushFlat(0, 0, rows[b]!, grads[b]!, ROWS_PER_PUSH);
        }
      },
    }));
    tasks.push({
      name: `Float32Array.set 64 MiB (${optimizer} runs)`,
      opsPerCall: 1,
      fn: () => dst.set(src),
    });
    // tinybench calls each task a different number of times; compare the
    // tables only when both servers applied the same pushes.
    let checked = 0;
    const afterRun = (): void => {
      const applied = servers.wasm.stats().pushes;
      if (applied !== servers.js.stats().pushes) return;
      check(sameBits(servers.wasm.view(0), servers.js.view(0)), `rule ${optimizer}: the kernels' table differs`);
      checked++;
    };
    const { ns } = await tinyRuns(tasks, timing, afterRun);
    // Bring both servers to the same pushes, then compare once more.
    const a = servers.wasm.stats().pushes;
    const b = servers.js.stats().pushes;
    const behind = a < b ? 'wasm' : 'js';
    for (let i = Math.min(a, b); i < Math.max(a, b); i++) {
      const j = cursor[behind]++ % BATCHES;
      servers[behind].pushFlat(0, 0, rows[j]!, grads[j]!, ROWS_PER_PUSH);
    }
    check(
      sameBits(servers.wasm.view(0), servers.js.view(0)),
      `rule ${optimizer}: after the same ${Math.max(a, b)} pushes the kernels' table differs from the JS rule's`,
    );
    checked++;
    const bytesPerRow = (optimizer === 'sgd' ? 3 : 5) * DIM * 4;
    for (const k of ['wasm', 'js'] as const) {
      const name = `ps push rule ${optimizer} ${k}`;
      const rowsPerS = ns.get(name)!.map((x) => 1e9 / x);
      cases.push(
        completed(
          name,
          'rule',
          'rows/s',
          'higher',
          rowsPerS,
          {
            optimizer,
            kernels: k,
            rows: ROWS,
            dim: DIM,
            rowsPerPush: ROWS_PER_PUSH,
            bytesPerRow,
            how:
              `main thread: ParameterServer.pushFlat(0, 0, rows, grads, ${ROWS_PER_PUSH}), async, ` +
              'random rows of a 32 MiB shard',
          },
          { tablesComparedBitForBit: checked },
        ),
      );
      figures[`rule_${optimizer}_${k}_rows_per_s`] = median(rowsPerS);
      figures[`rule_${optimizer}_${k}_gbps`] = round2((median(rowsPerS) * bytesPerRow) / 1e9);
    }
    const copyName = `Float32Array.set 64 MiB (${optimizer} runs)`;
    const copyGbps = ns.get(copyName)!.map((x) => (2 * COPY_BYTES) / x);
    cases.push(completed(copyName, 'baseline', 'GB/s (read + write)', 'higher', copyGbps, { bytes: COPY_BYTES }, {}));
    figures[`copy_64mib_gbps_${optimizer}_runs`] = round2(median(copyGbps));
    ratios[`rule_${optimizer}_wasm_vs_js`] = pairedRatio(
      cases,
      `ps push rule ${optimizer} wasm`,
      `ps push rule ${optimizer} js`,
    );
    const gb = figures[`rule_${optimizer}_wasm_gbps`]!;
    ratios[`rule_${optimizer}_wasm_vs_copy_bandwidth`] = round2(gb / median(copyGbps));
  }
  return { cases, figures, ratios };
}
