/**
 * Piscina tasks of a filtered link-prediction evaluation (src/kge/eval/pool.ts):
 * attach once per evaluation (the handle comes in `workerData` or, for a
 * caller's pool, in the task), then rank the task's range of queries into
 * the shared ranks. Returns the backend used.
 */
import { workerData } from 'piscina';
import { EvalAttachment, type EvalHandle, type EvalTask } from '../src/kge/eval/pool.js';

let current: EvalAttachment | undefined;

export default function evalTask(task: EvalTask): 'js' | 'wasm' {
  const handle = task.handle ?? (workerData as { evalHandle: EvalHandle }).evalHandle;
  if (current?.id !== handle.id) current = EvalAttachment.attach(handle);
  return current.rank(task.start, task.end);
}
