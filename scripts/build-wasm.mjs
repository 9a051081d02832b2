// Compile every src/kge/wasm/*.wat into dist/src/kge/wasm/*.wasm with wabt
// (run by `npm run build`, after tsc): SIMD on, no name section.
// test/kge/eval-wasm-kernels-are-built-from-the-wat.test.ts compiles the
// same way and compares the bytes with what this wrote.
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import wabtInit from 'wabt';

const wabt = await wabtInit();
const src = new URL('../src/kge/wasm/', import.meta.url);
const out = new URL('../dist/src/kge/wasm/', import.meta.url);
mkdirSync(out, { recursive: true });
for (const file of readdirSync(src)
  .filter((f) => f.endsWith('.wat'))
  .sort()) {
  const module = wabt.parseWat(file, readFileSync(new URL(file, src), 'utf8'), { simd: true });
  try {
    module.validate();
    writeFileSync(new URL(file.replace(/\.wat$/, '.wasm'), out), module.toBinary({ write_debug_names: false }).buffer);
  } finally {
    module.destroy();
  }
}
