/**
 * Messages between the shared-memory reshard backend (test/sim/shm-backend.ts)
 * and its worker threads (test/fixtures/reshard-sim-worker.ts). Each
 * request names the backend (a server attached in the thread) it acts on;
 * the thread answers every request with the same `id`.
 */
import type { KgErrorCode } from '../../src/errors.js';
import type { PsHandle } from '../../src/ps/server.js';

export type ShmRequest =
  /** Attach the server; `pusher` is the placement worker id this thread pushes as. */
  | { readonly op: 'attach'; readonly backend: number; readonly handle: PsHandle; readonly pusher: number }
  /** A worker joins as placement worker `worker`, then confirms `version`. */
  | { readonly op: 'join'; readonly backend: number; readonly worker: number; readonly version: number }
  /**
   * Worker `worker` has applied placement `version`: through its client
   * (`follow`) when that is the latest version, else `confirmPlacement`.
   */
  | { readonly op: 'confirm'; readonly backend: number; readonly worker: number; readonly version: number }
  /** Worker `worker` leaves (its client's `leave`). */
  | { readonly op: 'leave'; readonly backend: number; readonly worker: number }
  /** Add `delta` to entity `entity` through this thread's pushing client (a Hogwild push, SGD at rate 1). */
  | { readonly op: 'push'; readonly backend: number; readonly entity: number; readonly delta: readonly number[] }
  /** Drop the server and its clients. */
  | { readonly op: 'detach'; readonly backend: number };

export type ShmReply =
  | { readonly id: number; readonly ok: true; readonly value: number }
  /** `code`: a KgError's code, or null for any other error. */
  | { readonly id: number; readonly ok: false; readonly code: KgErrorCode | null; readonly message: string };

export type ShmEnvelope = ShmRequest & { readonly id: number };
