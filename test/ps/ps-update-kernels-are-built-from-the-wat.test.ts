/**
 * The shipped update kernels (dist/src/ps/wasm/*.wasm, written by
 * scripts/build-wasm.mjs) are their .wat sources compiled again by wabt, byte
 * for byte, with the build's options (SIMD and threads on, no name section);
 * and the parameter server loads exactly those bytes.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import wabtInit from 'wabt';
import { updateKernelBytes } from '../../src/ps/wasm/kernel.js';

// From dist/test/ps/: the sources in the repository, the build's output in dist.
const SRC = new URL('../../../src/ps/wasm/', import.meta.url);
const OUT = new URL('../../src/ps/wasm/', import.meta.url);
const FEATURES = { simd: true, threads: true };

test('every .wat compiles to the shipped .wasm, byte for byte', async () => {
  const wabt = await wabtInit();
  const files = readdirSync(SRC).filter((f) => f.endsWith('.wat'));
  assert.ok(files.includes('update.wat'));
  for (const file of files) {
    const module = wabt.parseWat(file, readFileSync(new URL(file, SRC), 'utf8'), FEATURES);
    // wabt's typings omit validate's features argument (threads must be on to validate a shared memory).
    (module as unknown as { validate(features: typeof FEATURES): void }).validate(FEATURES);
    const compiled = Buffer.from(module.toBinary({ write_debug_names: false }).buffer);
    module.destroy();
    const shipped = readFileSync(new URL(file.replace(/\.wat$/, '.wasm'), OUT));
    assert.ok(compiled.equals(shipped), `${file}: ${compiled.length} bytes compiled, ${shipped.length} shipped`);
  }
});

test('the parameter server runs the shipped update.wasm', () => {
  const shipped = readFileSync(new URL('update.wasm', OUT));
  const bytes = updateKernelBytes();
  assert.ok(bytes !== null && Buffer.from(bytes).equals(shipped));
});

test.run();
