/**
 * Write a file so that a reader (or a crash) sees either the old contents or
 * the new ones, never a mix: write a temporary file beside it, flush it to
 * disk, rename it over the target. On failure the temporary file is removed
 * and the error rethrown for the caller to report. Leaf module.
 */
import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';

export function writeFileAtomic(path: string, bytes: Uint8Array): number {
  const tmp = `${path}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`;
  try {
    const fd = openSync(tmp, 'w');
    try {
      let off = 0;
      while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
  return bytes.length;
}
