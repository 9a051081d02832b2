/** Piscina worker for training: attach to the shared tables once, then run training tasks. */
import { workerData } from 'node:worker_threads';
import { TrainContext, type TrainHandle, type TrainTask, type TaskResult } from '../src/kge/train-core.js';

const context = new TrainContext((workerData as { handle: TrainHandle }).handle);

export default function run(task: TrainTask): TaskResult {
  return context.run(task);
}
