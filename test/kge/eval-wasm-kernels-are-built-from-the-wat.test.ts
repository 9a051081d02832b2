/**
 * The shipped kernels (dist/src/kge/wasm/*.wasm, written by
 * scripts/build-wasm.mjs) are their .wat sources compiled again by wabt, byte
 * for byte, with the build's options (SIMD on, no name section); and the
 * scorer loads exactly those bytes.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import wabtInit from 'wabt';
import { wasmKernelBytes } from '../../src/kge/wasm/scorer.js';

// From dist/test/kge/: the sources in the repository, the build's output in dist.
const SRC = new URL('../../../src/kge/wasm/', import.meta.url);
const OUT = new URL('../../src/kge/wasm/', import.meta.url);

test('every .wat compiles to the shipped .wasm, byte for byte', async () => {
  const wabt = await wabtInit();
  const files = readdirSync(SRC).filter((f) => f.endsWith('.wat'));
  assert.ok(files.includes('kernels.wat'));
  assert.ok(files.includes('train.wat'));
  for (const file of files) {
    const module = wabt.parseWat(file, readFileSync(new URL(file, SRC), 'utf8'), { simd: true });
    module.validate();
    const compiled = Buffer.from(module.toBinary({ write_debug_names: false }).buffer);
    module.destroy();
    const shipped = readFileSync(new URL(file.replace(/\.wat$/, '.wasm'), OUT));
    assert.ok(compiled.equals(shipped), `${file}: ${compiled.length} bytes compiled, ${shipped.length} shipped`);
  }
});

test('the scorer runs the shipped kernels.wasm', () => {
  const shipped = readFileSync(new URL('kernels.wasm', OUT));
  assert.ok(Buffer.from(wasmKernelBytes()).equals(shipped));
});

test.run();
