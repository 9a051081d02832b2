/**
 * Piscina worker for training: attach to the shared tables once (loading a
 * user-defined model from its module first, when there is one), then run
 * training tasks.
 */
import { workerData } from 'node:worker_threads';
import {
  TrainContext,
  loadModelModule,
  type TrainHandle,
  type TrainTask,
  type TaskResult,
} from '../src/kge/train-core.js';

const handle = (workerData as { handle: TrainHandle }).handle;
const href = handle.hyper.modelModule;
const context = new TrainContext(
  handle,
  href === undefined ? undefined : await loadModelModule('train worker', href, handle.hyper.model),
);

export default function run(task: TrainTask): TaskResult {
  return context.run(task);
}
