/**
 * Durable framed files: the on-disk envelope every kgshard store file
 * (checkpoint entries, running statistics) is written in.
 *
 * Envelope (little-endian):
 *
 *   offset  size  field
 *   0       4     magic "KGSD"
 *   4       4     format version (u32), DURABLE_VERSION
 *   8       4     kind length k (u32), at most 256
 *   12      k     kind (UTF-8), e.g. "checkpoint", "relation-stats"
 *   12+k    8     payload length n (u64)
 *   20+k    32    SHA-256 of kind bytes + payload
 *   52+k    n     payload
 *
 * `writeDurable` goes through `writeFileAtomic` (temporary file, fsync,
 * rename, directory fsync), so a crash at any moment leaves either the old
 * file or the new one. `readDurable` never throws for a bad file: a
 * missing, truncated, corrupt, foreign (other magic or kind) or
 * newer-version file comes back as a result naming its path and what is
 * wrong, and the caller decides (skip it, warn once, start fresh).
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { writeFileAtomic } from '../atomic-write.js';
import { KgError } from '../errors.js';

export const DURABLE_MAGIC = 'KGSD';
export const DURABLE_VERSION = 1;
const MAX_KIND = 256;
const FIXED = 4 + 4 + 4 + 8 + 32;

export type DurableProblem = 'missing' | 'unreadable' | 'truncated' | 'foreign' | 'version' | 'corrupt';

export type DurableRead =
  | { readonly ok: true; readonly payload: Uint8Array; readonly version: number }
  | { readonly ok: false; readonly problem: DurableProblem; readonly path: string; readonly message: string };

/** Frame `payload` as a file of kind `kind`. */
export function frameDurable(kind: string, payload: Uint8Array): Uint8Array {
  const kindBytes = Buffer.from(kind, 'utf8');
  if (kindBytes.length === 0 || kindBytes.length > MAX_KIND) {
    throw new KgError(
      'E_INVALID_ARGUMENT',
      `frameDurable: kind must be 1..${MAX_KIND} bytes of UTF-8, got ${JSON.stringify(kind)}`,
      { kind },
    );
  }
  const out = new Uint8Array(FIXED + kindBytes.length + payload.length);
  const dv = new DataView(out.buffer);
  out.set(Buffer.from(DURABLE_MAGIC, 'latin1'), 0);
  dv.setUint32(4, DURABLE_VERSION, true);
  dv.setUint32(8, kindBytes.length, true);
  out.set(kindBytes, 12);
  let o = 12 + kindBytes.length;
  dv.setBigUint64(o, BigInt(payload.length), true);
  o += 8;
  out.set(digest(kindBytes, payload), o);
  o += 32;
  out.set(payload, o);
  return out;
}

/** Check a framed file's bytes; `path` only names it in the result. */
export function unframeDurable(bytes: Uint8Array, kind: string, path: string): DurableRead {
  const bad = (problem: DurableProblem, message: string): DurableRead => ({
    ok: false,
    problem,
    path,
    message: `${path}: ${message}`,
  });
  if (bytes.length < 12) return bad('truncated', `${bytes.length} bytes, shorter than any kgshard store file`);
  if (Buffer.from(bytes.subarray(0, 4)).toString('latin1') !== DURABLE_MAGIC)
    return bad('foreign', 'not a kgshard store file (no KGSD magic)');
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = dv.getUint32(4, true);
  if (version > DURABLE_VERSION)
    return bad('version', `format version ${version}; this kgshard reads up to ${DURABLE_VERSION}`);
  if (version < 1) return bad('corrupt', `format version ${version} is not valid`);
  const k = dv.getUint32(8, true);
  if (k === 0 || k > MAX_KIND) return bad('corrupt', `kind length ${k} is not valid`);
  if (bytes.length < FIXED + k) return bad('truncated', `${bytes.length} bytes, the header alone needs ${FIXED + k}`);
  const kindBytes = bytes.subarray(12, 12 + k);
  const found = Buffer.from(kindBytes).toString('utf8');
  if (found !== kind) return bad('foreign', `a ${JSON.stringify(found)} file, expected ${JSON.stringify(kind)}`);
  let o = 12 + k;
  const n = dv.getBigUint64(o, true);
  o += 8;
  const sum = bytes.subarray(o, o + 32);
  o += 32;
  if (BigInt(bytes.length - o) < n)
    return bad('truncated', `payload is ${bytes.length - o} bytes, the header says ${n}`);
  if (BigInt(bytes.length - o) > n) return bad('corrupt', `${BigInt(bytes.length - o) - n} bytes after the payload`);
  const payload = bytes.subarray(o);
  if (!Buffer.from(sum).equals(Buffer.from(digest(kindBytes, payload)))) return bad('corrupt', 'checksum mismatch');
  return { ok: true, payload, version };
}

/**
 * Write `payload` to `path` durably (see the module comment). Disk-full or
 * permission errors leave any previous file intact and throw E_STORE_WRITE
 * naming the path and the system error.
 */
export function writeDurable(path: string, kind: string, payload: Uint8Array): number {
  const framed = frameDurable(kind, payload);
  try {
    return writeFileAtomic(path, framed);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw new KgError(
      'E_STORE_WRITE',
      `${path}: could not write (${err.code ?? 'error'}: ${err.message}); the previous file, if any, is intact`,
      {
        path,
        code: err.code,
      },
    );
  }
}

/** Read and check a durable file. Never throws. */
export function readDurable(path: string, kind: string): DurableRead {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'ENOENT') return { ok: false, problem: 'missing', path, message: `${path}: no such file` };
    return {
      ok: false,
      problem: 'unreadable',
      path,
      message: `${path}: could not read (${err.code ?? 'error'}: ${err.message})`,
    };
  }
  return unframeDurable(bytes, kind, path);
}

function digest(kind: Uint8Array, payload: Uint8Array): Uint8Array {
  return createHash('sha256').update(kind).update(payload).digest();
}
