/**
 * The PyTorch reference trainer (`torch_kge.py`) as a child process, for the
 * suites that put kgshard beside it (`train`, `quality`).
 *
 * Environment: KGSHARD_TORCH_SCRIPT, the path of `torch_kge.py` (without it
 * the reference runs are skipped and the suites say so), and
 * KGSHARD_TORCH_PYTHON, an interpreter that can `import torch` (default
 * `python3`; on Debian, `/usr/bin/python3` with `python3-torch` installed).
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { runProcess } from './process.js';

export const TORCH_PYTHON = process.env['KGSHARD_TORCH_PYTHON'] ?? 'python3';
export const TORCH_SCRIPT = process.env['KGSHARD_TORCH_SCRIPT'] ?? '';

export interface TorchProbe {
  readonly ok: boolean;
  readonly version?: string;
  readonly why?: string;
}

/** Whether the reference can run here, and its torch version. */
export function probeTorch(): TorchProbe {
  if (TORCH_SCRIPT === '')
    return {
      ok: false,
      why: 'KGSHARD_TORCH_SCRIPT is not set (the path of the PyTorch reference trainer, torch_kge.py)',
    };
  if (!existsSync(TORCH_SCRIPT)) return { ok: false, why: `reference script ${TORCH_SCRIPT} not found` };
  const r = spawnSync(TORCH_PYTHON, ['-c', 'import torch; print(torch.__version__)'], {
    encoding: 'utf8',
    timeout: 120_000,
  });
  if (r.error) return { ok: false, why: `${TORCH_PYTHON}: ${r.error.message}` };
  if (r.status !== 0) {
    const lastLine = (r.stderr ?? '').trim().split('\n').slice(-1)[0];
    return { ok: false, why: `${TORCH_PYTHON} cannot import torch: ${lastLine ?? `exit ${r.status}`}` };
  }
  return { ok: true, version: r.stdout.trim() };
}

export interface TorchRun<J> {
  /** The last stdout line, parsed. */
  readonly json: J;
  readonly stderr: string;
  readonly wallS: number;
}

/**
 * Run `torch_kge.py` with `args` (the script path is prepended), kill it
 * after `timeoutS`, and parse the JSON object on its last stdout line.
 * Rejects with a one-line reason on a time-out, a non-zero exit or no JSON.
 */
export async function runTorchScript<J>(args: readonly string[], timeoutS: number): Promise<TorchRun<J>> {
  const { code, signal, stdout, stderr, timedOut, wallS } = await runProcess(
    TORCH_PYTHON,
    [TORCH_SCRIPT, ...args],
    timeoutS,
  );
  const epochs = [...stderr.matchAll(/^# epoch \d+ /gm)].length;
  if (timedOut) throw new Error(`reference timed out after ${timeoutS} s (epochs finished: ${epochs})`);
  if (code !== 0)
    throw new Error(`reference exit ${code ?? signal}: ${stderr.trim().split('\n').slice(-3).join(' | ')}`);
  const last = stdout.trim().split('\n').slice(-1)[0] ?? '';
  try {
    return { json: JSON.parse(last) as J, stderr, wallS };
  } catch {
    throw new Error(`reference printed no JSON on its last stdout line: ${JSON.stringify(last.slice(0, 200))}`);
  }
}
