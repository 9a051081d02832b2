/**
 * Piscina task: drain one shard's ring until the control loop stops it
 * (`workerData: { handle }` is the router's handle). See src/router/consumer.ts.
 */
import { workerData } from 'piscina';
import { drainShard, type DrainResult } from '../src/router/consumer.js';
import { Router, type RouterHandle } from '../src/router/router.js';

let attached: Router | undefined;

export default function drain(task: { slot: number; batch: number; verify: boolean; epoch?: number }): DrainResult {
  attached ??= Router.attach((workerData as { handle: RouterHandle }).handle);
  return drainShard(attached, task.slot, { batch: task.batch, verify: task.verify, epoch: task.epoch });
}
