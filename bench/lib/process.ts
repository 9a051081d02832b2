/**
 * A child process run to completion with its output collected, killed
 * after a time-out: the reference trainer (`torch.ts`) and whole
 * `kgshard train` processes (`sweep.ts`) both run this way.
 */
import { spawn } from 'node:child_process';

export interface ProcessResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly timedOut: boolean;
  readonly wallS: number;
}

/** Run `command args`, collect stdout and stderr, SIGKILL it after `timeoutS`. Rejects only when it cannot start. */
export function runProcess(command: string, args: readonly string[], timeoutS: number): Promise<ProcessResult> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    let timedOut = false;
    child.stdout.setEncoding('utf8').on('data', (s: string) => (out += s));
    child.stderr.setEncoding('utf8').on('data', (s: string) => (err += s));
    // Kill this child (by its own pid) when it overruns.
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutS * 1000);
    child.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout: out, stderr: err, timedOut, wallS: (performance.now() - t0) / 1000 });
    });
  });
}
