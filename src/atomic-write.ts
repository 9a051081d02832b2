/**
 * Write a file so that a reader (or a crash) sees either the old contents or
 * the new ones, never a mix: write a temporary file beside it, flush it to
 * disk, rename it over the target, then flush the directory so the rename
 * itself survives a power cut. On failure the temporary file is removed and
 * the error rethrown for the caller to report; the target is untouched.
 * Leaf module.
 */
import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';

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
  fsyncDirectory(dirname(path));
  return bytes.length;
}

/**
 * Flush a directory's entries to disk (after a rename into it). Platforms
 * that cannot open a directory for fsync (EISDIR, EPERM, EINVAL on some
 * file systems) are skipped: there the rename is as durable as it gets.
 */
export function fsyncDirectory(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'EISDIR' && code !== 'EPERM' && code !== 'EINVAL' && code !== 'EBADF') throw e;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
