/**
 * Runs every `*.test.js` file under dist/test with uvu and ends with one line
 * `N passed, N failed` (and `, N skipped` when any were skipped).
 *
 *   node dist/test/run.js [filter]   # only files whose path contains filter
 */
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { run } from 'uvu/run';

const root = fileURLToPath(new URL('.', import.meta.url));
const filter = process.argv[2] ?? '';

function collect(dir: string, out: string[]): void {
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) {
      if (name !== 'fixtures' && name !== 'helpers' && name !== 'stress' && name !== 'soak') collect(path, out);
    } else if (name.endsWith('.test.js') && relative(root, path).includes(filter)) {
      out.push(path);
    }
  }
}

const files: string[] = [];
collect(root, files);

// uvu prints "Total:", "Passed:" and "Skipped:" lines; keep a copy of what it
// writes so the closing line can state the same counts.
let captured = '';
const write = process.stdout.write.bind(process.stdout);
process.stdout.write = (chunk: string | Uint8Array, ...rest: unknown[]) => {
  captured += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
  if (captured.length > 1 << 16) captured = captured.slice(-4096);
  return (write as (c: string | Uint8Array, ...r: unknown[]) => boolean)(chunk, ...rest);
};

let crashed = false;
try {
  await run(
    files.map((file) => ({ name: relative(root, file), file })),
    { bail: false },
  );
} catch (err) {
  crashed = true;
  console.error(err);
}
process.stdout.write = write;

const plain = captured.replace(/\x1b\[[0-9;]*m/g, '');
const num = (label: string): number => {
  const m = [...plain.matchAll(new RegExp(`${label}:\\s+(\\d+)`, 'g'))].pop();
  return m ? Number(m[1]) : 0;
};
const total = num('Total');
const passed = num('Passed');
const skipped = num('Skipped');
let failed = total - passed - skipped;
if (files.length === 0 || total === 0 || crashed) failed = Math.max(failed, 1);
if (failed > 0) process.exitCode = 1;
console.log(`\n${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
// Worker threads left behind by a failing test must not keep the run alive.
setTimeout(() => process.exit(), 1000).unref();
