/**
 * The command line of `npm run stress` and `npm run soak`: scenario names and
 * `--name value` numeric options, each named scenario run in turn (every one
 * when none is named), one `ok`/`FAIL` line per scenario with its figures,
 * and a last line `N passed, N failed`.
 */
import type { StressScenario } from '../stress/report.js';

export async function runScenarioMain(
  tool: string,
  scenarios: Readonly<Record<string, StressScenario>>,
  argv: readonly string[],
): Promise<void> {
  const names: string[] = [];
  const opts: Record<string, number> = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a.startsWith('--')) {
      const v = Number(argv[++i]);
      if (!Number.isFinite(v)) {
        console.error(`${tool}: option ${a} needs a number, got ${JSON.stringify(argv[i])}`);
        process.exit(2);
      }
      opts[a.slice(2)] = v;
    } else names.push(a);
  }
  const unknown = names.filter((n) => !(n in scenarios));
  if (unknown.length > 0) {
    console.error(`${tool}: unknown scenario ${unknown.join(', ')}; known: ${Object.keys(scenarios).join(', ')}`);
    process.exit(2);
  }
  const chosen = names.length > 0 ? names : Object.keys(scenarios);
  let failed = 0;
  for (const name of chosen) {
    const started = performance.now();
    const report = await scenarios[name]!(opts);
    const secs = ((performance.now() - started) / 1000).toFixed(1);
    console.log(`${report.ok ? 'ok  ' : 'FAIL'} ${report.name} (${secs} s) ${JSON.stringify(report.details)}`);
    for (const f of report.failures) console.log(`     ${f}`);
    if (!report.ok) failed++;
  }
  console.log(`${chosen.length - failed} passed, ${failed} failed`);
  process.exitCode = failed > 0 ? 1 : 0;
}
