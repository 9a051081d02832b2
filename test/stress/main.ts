/**
 * `npm run stress -- [scenario ...] [--name value ...]`: the long versions of
 * the concurrency tests. Every scenario is bounded by its options (event
 * counts, reads, --duration in seconds) and stops by itself.
 *
 *   npm run stress                          # every scenario, default sizes
 *   npm run stress -- ring --events 2e8     # one scenario, bigger
 *   npm run stress -- seqlock --duration 60
 */
import { SCENARIOS } from './registry.js';
import type { StressOptions } from './report.js';

const args = process.argv.slice(2);
const names: string[] = [];
const opts: Record<string, number> = {};
for (let i = 0; i < args.length; i++) {
  const a = args[i]!;
  if (a.startsWith('--')) {
    const v = Number(args[++i]);
    if (!Number.isFinite(v)) {
      console.error(`stress: option ${a} needs a number, got ${JSON.stringify(args[i])}`);
      process.exit(2);
    }
    opts[a.slice(2)] = v;
  } else names.push(a);
}
const unknown = names.filter((n) => !(n in SCENARIOS));
if (unknown.length > 0) {
  console.error(`stress: unknown scenario ${unknown.join(', ')}; known: ${Object.keys(SCENARIOS).join(', ')}`);
  process.exit(2);
}
const chosen = names.length > 0 ? names : Object.keys(SCENARIOS);
let failed = 0;
for (const name of chosen) {
  const started = performance.now();
  const report = await SCENARIOS[name]!.long(opts as StressOptions);
  const secs = ((performance.now() - started) / 1000).toFixed(1);
  console.log(`${report.ok ? 'ok  ' : 'FAIL'} ${report.name} (${secs} s) ${JSON.stringify(report.details)}`);
  for (const f of report.failures) console.log(`     ${f}`);
  if (!report.ok) failed++;
}
console.log(`${chosen.length - failed} passed, ${failed} failed`);
process.exitCode = failed > 0 ? 1 : 0;
