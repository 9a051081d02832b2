/**
 * Types for comlink's ESM node adapter, which ships its declarations only
 * beside the UMD build (dist/umd/node-adapter.d.ts).
 */
declare module 'comlink/dist/esm/node-adapter.mjs' {
  import type { Endpoint } from 'comlink';
  import type { NodeEndpoint } from 'comlink/dist/umd/node-adapter.js';
  export default function nodeEndpoint(nep: NodeEndpoint): Endpoint;
}
