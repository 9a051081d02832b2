/**
 * `npm run soak -- [scenario ...] [--name value ...]`: the long reliability
 * runs (router soak, kill campaign, file mutation campaign). Every scenario is
 * bounded by its options and stops by itself; the last line is
 * `N passed, N failed`.
 *
 *   npm run soak                          # every scenario, default sizes
 *   npm run soak -- router --minutes 10   # one scenario, longer
 */
import { SOAKS } from './registry.js';

const args = process.argv.slice(2);
const names: string[] = [];
const opts: Record<string, number> = {};
for (let i = 0; i < args.length; i++) {
  const a = args[i]!;
  if (a.startsWith('--')) {
    const v = Number(args[++i]);
    if (!Number.isFinite(v)) {
      console.error(`soak: option ${a} needs a number, got ${JSON.stringify(args[i])}`);
      process.exit(2);
    }
    opts[a.slice(2)] = v;
  } else names.push(a);
}
const unknown = names.filter((n) => !(n in SOAKS));
if (unknown.length > 0) {
  console.error(`soak: unknown scenario ${unknown.join(', ')}; known: ${Object.keys(SOAKS).join(', ')}`);
  process.exit(2);
}
const chosen = names.length > 0 ? names : Object.keys(SOAKS);
let failed = 0;
for (const name of chosen) {
  const started = performance.now();
  const report = await SOAKS[name]!(opts);
  const secs = ((performance.now() - started) / 1000).toFixed(1);
  console.log(`${report.ok ? 'ok  ' : 'FAIL'} ${report.name} (${secs} s) ${JSON.stringify(report.details)}`);
  for (const f of report.failures) console.log(`     ${f}`);
  if (!report.ok) failed++;
}
console.log(`${chosen.length - failed} passed, ${failed} failed`);
process.exitCode = failed > 0 ? 1 : 0;
