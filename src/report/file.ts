/**
 * Where a report goes: the path checked before the run (so a long run does
 * not end in an unwritable path), then the page written atomically (a
 * reader sees the old file or the whole new one).
 */
import { accessSync, constants, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { writeFileAtomic } from '../atomic-write.js';
import { KgError } from '../errors.js';
import type { LoadTestSummary } from '../router/loadtest.js';
import type { TrainingReport } from '../kge/training/run.js';
import { loadTestReportHtml, type LoadTestReportOptions } from './loadtest.js';
import { trainReportHtml, type TrainReportOptions } from './train.js';

function reportPathError(where: string, flag: string, path: string, why: string): KgError {
  return new KgError('E_INVALID_ARGUMENT', `${where}: ${flag} ${JSON.stringify(path)}: ${why}`, {
    field: 'report',
    flag,
    path,
  });
}

/**
 * Check that a report can be written at `path`: a file name in a directory
 * that exists and can be written, and not a directory itself. Throws a
 * KgError naming `where` (`train`), `flag` (`--report`) and the path;
 * returns the absolute path.
 */
export function checkReportPath(path: string, where = 'report', flag = 'path'): string {
  if (path.trim() === '' || path.endsWith('/')) throw reportPathError(where, flag, path, 'not a file name');
  const abs = resolve(path);
  const dir = dirname(abs);
  const kind = (p: string): 'dir' | 'file' | 'none' => {
    try {
      return statSync(p).isDirectory() ? 'dir' : 'file';
    } catch {
      return 'none';
    }
  };
  const dirKind = kind(dir);
  if (dirKind === 'none') throw reportPathError(where, flag, path, `the directory ${dir} does not exist`);
  if (dirKind === 'file') throw reportPathError(where, flag, path, `${dir} is not a directory`);
  if (kind(abs) === 'dir') throw reportPathError(where, flag, path, 'is a directory');
  try {
    accessSync(dir, constants.W_OK);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? String(e);
    throw reportPathError(where, flag, path, `cannot write to ${dir} (${code})`);
  }
  return abs;
}

/** Write `html` at `path` atomically; returns the bytes written. Errors name the path. */
export function writeReport(path: string, html: string, where = 'report'): number {
  try {
    return writeFileAtomic(path, Buffer.from(html, 'utf8'));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? String(e);
    throw new KgError('E_STORE_WRITE', `${where}: cannot write the report ${JSON.stringify(path)} (${code})`, {
      path,
    });
  }
}

/** `trainReportHtml` written to `path` (atomically); returns the bytes written. */
export async function writeTrainReport(
  path: string,
  report: TrainingReport,
  options: TrainReportOptions = {},
): Promise<number> {
  return writeReport(path, await trainReportHtml(report, options), 'train');
}

/** `loadTestReportHtml` written to `path` (atomically); returns the bytes written. */
export async function writeLoadTestReport(
  path: string,
  summary: LoadTestSummary,
  options: LoadTestReportOptions = {},
): Promise<number> {
  return writeReport(path, await loadTestReportHtml(summary, options), 'loadtest');
}
