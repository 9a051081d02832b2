/**
 * Loading kgshard's WebAssembly modules: each `.wasm` that the build
 * compiles from `src/kge/wasm/*.wat` (scripts/build-wasm.mjs) lies next to
 * this file's JavaScript in dist/. A module is read and compiled once per
 * thread, on first use; a runtime without SIMD128 gets null and callers
 * fall back to JavaScript.
 */
import { instantiate, loadWasm, readWasm, type WasmInstance, type WasmModule } from '../../shm/wasm-memory.js';

/** A thread's private (unshared) memory. */
export interface WasmMemory {
  readonly buffer: ArrayBuffer;
}
// The project's lib settings carry no WebAssembly types (they live in the DOM
// libs): the private memory's constructor is all this module adds to
// shm/wasm-memory.ts's declarations.
declare const WebAssembly: {
  Memory: new (descriptor: { initial: number }) => WasmMemory;
};

/** The modules the build writes. */
export type WasmFile = 'kernels.wasm' | 'ranker.wasm' | 'select.wasm' | 'train.wasm';

/**
 * A module's bytes, read once per thread. Throws when the file is missing
 * (a build without `npm run build`'s wasm step).
 */
export function wasmBytes(file: WasmFile): Uint8Array {
  const url = new URL(`./${file}`, import.meta.url);
  const bytes = readWasm(url);
  if (bytes === null)
    throw new Error(`kgshard: cannot read the WebAssembly kernels at ${url.pathname} (built by \`npm run build\`)`);
  return bytes;
}

/** The compiled module, or null when this runtime lacks WebAssembly SIMD128 (throws when the file is missing). */
export function wasmModule(file: WasmFile): WasmModule | null {
  wasmBytes(file);
  return loadWasm(new URL(`./${file}`, import.meta.url));
}

/** A private (unshared) memory of `pages` 64 KiB pages; throws RangeError when it cannot be had. */
export function wasmMemory(pages: number): WasmMemory {
  return new WebAssembly.Memory({ initial: pages });
}

/** An instance of `module` over `memory` (imported as env.mem). */
export function wasmInstance(module: WasmModule, memory: WasmMemory): WasmInstance {
  return instantiate(module, memory);
}
