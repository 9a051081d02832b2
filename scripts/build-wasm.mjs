// Compile every .wat of the kernel folders into dist/ beside the folder's
// JavaScript with wabt (run by `npm run build`, after tsc): no name section.
//   src/kge/wasm/*.wat -> dist/src/kge/wasm/*.wasm   SIMD (evaluation kernels, private memory)
//   src/ps/wasm/*.wat  -> dist/src/ps/wasm/*.wasm    SIMD and threads (update kernels on a shared memory)
// test/kge/eval-wasm-kernels-are-built-from-the-wat.test.ts and
// test/ps/ps-update-kernels-are-built-from-the-wat.test.ts compile the same
// way and compare the bytes with what this wrote.
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import wabtInit from 'wabt';

const FOLDERS = [
  { dir: 'src/kge/wasm/', features: { simd: true } },
  { dir: 'src/ps/wasm/', features: { simd: true, threads: true } },
];

const wabt = await wabtInit();
for (const { dir, features } of FOLDERS) {
  const src = new URL(`../${dir}`, import.meta.url);
  const out = new URL(`../dist/${dir}`, import.meta.url);
  mkdirSync(out, { recursive: true });
  for (const file of readdirSync(src)
    .filter((f) => f.endsWith('.wat'))
    .sort()) {
    const module = wabt.parseWat(file, readFileSync(new URL(file, src), 'utf8'), features);
    try {
      module.validate(features);
      writeFileSync(
        new URL(file.replace(/\.wat$/, '.wasm'), out),
        module.toBinary({ write_debug_names: false }).buffer,
      );
    } finally {
      module.destroy();
    }
  }
}
