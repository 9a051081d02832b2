/**
 * Regions that WebAssembly kernels can work on in place: a region allocated
 * at the start of a shared `WebAssembly.Memory`. The memory's `buffer` is a
 * `SharedArrayBuffer` (whole 64 KiB pages, longer than the region), so every
 * thread wraps the region's bytes in typed-array views exactly as it wraps
 * any region, and a WebAssembly instance that imports the memory reads and
 * writes the same bytes. The memory object itself is structured-cloneable:
 * it travels in a handle like a `SharedArrayBuffer`.
 *
 * Past the region, the memory may grow (up to `maximum` pages): a thread
 * that needs private working space for a kernel (scratch) takes it with
 * `claimPages`, which grows the memory and owns the new pages. Growing never
 * moves the region's bytes, and views made before a growth stay valid.
 */

import { readFileSync } from 'node:fs';

// The project's lib settings carry no WebAssembly types (they live in the DOM
// libs): declare the little the kernels' loaders use.
export interface SharedWasmMemory {
  readonly buffer: SharedArrayBuffer;
  grow(pages: number): number;
}
export type WasmModule = object;
export interface WasmInstance {
  readonly exports: Record<string, unknown>;
}
declare const WebAssembly: {
  validate(bytes: Uint8Array): boolean;
  Module: new (bytes: Uint8Array) => WasmModule;
  Instance: new (module: WasmModule, imports: Record<string, Record<string, unknown>>) => WasmInstance;
  Memory: new (descriptor: { initial: number; maximum: number; shared: true }) => SharedWasmMemory;
};

export const WASM_PAGE_BYTES = 65536;
/** wasm32: at most 65536 pages (4 GiB). */
export const WASM_MAX_PAGES = 65536;
/** Pages a region's memory may grow by for kernels' scratch (64 MiB). */
export const SCRATCH_HEADROOM_PAGES = 1024;

/** Whether this runtime has WebAssembly with shared memories (Node 20 has, without flags). */
export function sharedWasmMemorySupported(): boolean {
  return typeof WebAssembly === 'object' && typeof WebAssembly.Memory === 'function';
}

/**
 * A shared memory whose first `bytes` bytes hold a region (zeroed), able to
 * grow by `SCRATCH_HEADROOM_PAGES` (fewer near the 4 GiB limit). Returns
 * null when the runtime cannot make one (no WebAssembly, or it has run out
 * of address space for memories: V8 reserves each one's maximum up front,
 * and refuses after some ten thousand live ones): the caller then allocates
 * a plain `SharedArrayBuffer`.
 */
export function createRegionMemory(bytes: number): SharedWasmMemory | null {
  if (!sharedWasmMemorySupported()) return null;
  const initial = Math.max(1, Math.ceil(bytes / WASM_PAGE_BYTES));
  try {
    return new WebAssembly.Memory({
      initial,
      maximum: Math.min(WASM_MAX_PAGES, initial + SCRATCH_HEADROOM_PAGES),
      shared: true,
    });
  } catch {
    return null;
  }
}

/** Whether `m` is a shared `WebAssembly.Memory` (checked where a handle arrives). */
export function isSharedWasmMemory(m: unknown): m is SharedWasmMemory {
  return (
    sharedWasmMemorySupported() &&
    m instanceof (WebAssembly.Memory as unknown as abstract new (...args: never[]) => object) &&
    (m as SharedWasmMemory).buffer instanceof SharedArrayBuffer
  );
}

/**
 * Any thread: grow `memory` by `pages` and return the byte address of the
 * first new page, which belongs to the caller alone (growth is atomic: two
 * threads growing at once get disjoint pages). Returns -1 when the memory
 * cannot grow that far. Pages are never given back.
 */
export function claimPages(memory: SharedWasmMemory, pages: number): number {
  try {
    return memory.grow(pages) * WASM_PAGE_BYTES;
  } catch {
    return -1;
  }
}

const bytesByUrl = new Map<string, Uint8Array | null>();
const modulesByUrl = new Map<string, WasmModule | null>();

/**
 * A `.wasm` file's bytes, read once per thread; null when it is missing (a
 * build without `npm run build`'s wasm step). Every kernel loader of kgshard
 * reads through here.
 */
export function readWasm(url: URL): Uint8Array | null {
  let bytes = bytesByUrl.get(url.href);
  if (bytes === undefined) {
    try {
      bytes = new Uint8Array(readFileSync(url));
    } catch {
      bytes = null;
    }
    bytesByUrl.set(url.href, bytes);
  }
  return bytes;
}

/** A `.wasm` file compiled once per thread; null when it is missing or this runtime cannot run it. */
export function loadWasm(url: URL): WasmModule | null {
  let module = modulesByUrl.get(url.href);
  if (module === undefined) {
    const bytes = readWasm(url);
    module = bytes === null ? null : compileWasm(bytes);
    modulesByUrl.set(url.href, module);
  }
  return module;
}

/** Compile WebAssembly bytes; null when this runtime cannot (no SIMD128, no threads). */
export function compileWasm(bytes: Uint8Array): WasmModule | null {
  try {
    return typeof WebAssembly === 'object' && WebAssembly.validate(bytes) ? new WebAssembly.Module(bytes) : null;
  } catch {
    return null;
  }
}

/** Instantiate `module` with `memory` (shared, or a thread's private one) as its `env.mem` import. */
export function instantiate(module: WasmModule, memory: { readonly buffer: ArrayBufferLike }): WasmInstance {
  return new WebAssembly.Instance(module, { env: { mem: memory } });
}
