/**
 * `ps` suite, postMessage baseline, server side: owns the shard tables in
 * plain (unshared) Float32Arrays, checks each pushed batch as `pushFlat`
 * does (shard and rows in range, values finite), applies it with the same
 * arithmetic as the parameter server's async push
 * (`row[k] = row[k] - fround(lr * g[k])`), and acknowledges it. Reports its
 * counts and the tables' checksum when the main thread posts 'report'.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { PmPush, PmServerInput, PmServerResult } from '../lib/ps-protocol.js';

const input = workerData as PmServerInput;
const tables = input.tables;
const dim = input.dim;
const lr = Math.fround(input.learningRate);
let messages = 0;
let rowsApplied = 0;
let rejected = 0;

/**
 * Check a push before any state changes, as `pushFlat` does on its caller's
 * thread: shard in range, one gradient row per row index, rows in range,
 * every value finite.
 */
function valid(m: PmPush): boolean {
  const data = tables[m.shard];
  if (data === undefined) return false;
  const rows = m.rows;
  const g = m.gradients;
  const count = rows.length;
  if (g.length !== count * dim) return false;
  const nRows = data.length / dim;
  for (let i = 0; i < count; i++) {
    const r = rows[i]!;
    if (r < 0 || r >= nRows) return false;
  }
  const n = count * dim;
  for (let k = 0; k < n; k++) if (!Number.isFinite(g[k]!)) return false;
  return true;
}

function apply(m: PmPush): void {
  const data = tables[m.shard]!;
  const rows = m.rows;
  const g = m.gradients;
  const count = rows.length;
  for (let i = 0; i < count; i++) {
    const base = rows[i]! * dim;
    const gb = i * dim;
    for (let k = 0; k < dim; k++) data[base + k] = data[base + k]! - Math.fround(lr * g[gb + k]!);
  }
  messages++;
  rowsApplied += count;
}

for (const port of input.ports) {
  port.on('message', (m: PmPush) => {
    if (!valid(m)) {
      rejected++;
      port.postMessage(-1);
      return;
    }
    apply(m);
    port.postMessage(messages);
  });
}

parentPort!.on('message', (m: unknown) => {
  if (m !== 'report') return;
  let finalSum = 0;
  for (const t of tables) for (let i = 0; i < t.length; i++) finalSum += t[i]!;
  const result: PmServerResult = { messages, rowsApplied, rejected, finalSum };
  parentPort!.postMessage(result);
});
parentPort!.postMessage('started');
