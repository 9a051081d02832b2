/**
 * Interop check with NumPy: export a small random table in the npy (DGL-KE)
 * layout to a temporary directory, write the expected values and names to
 * expected.json, and run `python3 scripts/interop.py DIR` (the interpreter
 * from KGSHARD_PYTHON, else python3). Prints the script's output; exits 0
 * when NumPy reads back exactly what was exported, 1 on a mismatch, 2 when
 * Python or NumPy is not available.
 *
 *   node dist/test/interop/run.js
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { exportEmbeddings } from '../../src/store/embeddings/export.js';

const script = fileURLToPath(new URL('../../../scripts/interop.py', import.meta.url));
const python = process.env['KGSHARD_PYTHON'] || 'python3';
const dir = mkdtempSync(join(tmpdir(), 'kgshard-interop-'));

let s = (Date.now() >>> 0) | 1;
const rand = (): number => {
  s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
  return s / 0x100000000;
};
const randomTable = (n: number): Float32Array =>
  Float32Array.from({ length: n }, () => (rand() * 2 - 1) * 10 ** Math.floor(rand() * 8 - 4));

const entities = ['dog', 'a cat', 'üñí', 'back\\slash', '07', 'last one'];
const relations = ['_hypernym', 'part of', 'r2'];
const entityDim = 5;
const relationDim = 3;
const entityTable = randomTable(entities.length * entityDim);
const relationTable = randomTable(relations.length * relationDim);
const rows = (t: Float32Array, dim: number): number[][] =>
  Array.from({ length: t.length / dim }, (_, i) => [...t.subarray(i * dim, (i + 1) * dim)]);

let code = 1;
try {
  exportEmbeddings(dir, {
    format: 'npy',
    dataset: 'interop',
    model: 'TransE',
    entities,
    relations,
    entityTable,
    relationTable,
    entityDim,
    relationDim,
    config: { purpose: 'interop' },
  });
  writeFileSync(
    join(dir, 'expected.json'),
    JSON.stringify({
      dataset: 'interop',
      model: 'TransE',
      entities,
      relations,
      entity: rows(entityTable, entityDim),
      relation: rows(relationTable, relationDim),
    }),
  );
  const r = spawnSync(python, [script, dir], { encoding: 'utf8' });
  if (r.error) {
    console.log(
      `interop: cannot run ${python} (${(r.error as NodeJS.ErrnoException).code ?? r.error.message}); ` +
        'set KGSHARD_PYTHON to a Python 3 with NumPy',
    );
    code = 2;
  } else {
    process.stdout.write(r.stdout);
    process.stderr.write(r.stderr);
    code = r.status ?? 1;
    if (code === 2) console.log('interop: skipped, NumPy is not available (exit 2)');
    else if (code !== 0) console.log(`interop: FAILED (exit ${code}); files kept in ${dir}`);
  }
} finally {
  if (code === 0 || code === 2) rmSync(dir, { recursive: true, force: true });
}
process.exitCode = code;
