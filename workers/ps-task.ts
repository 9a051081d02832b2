/**
 * Piscina tasks over one parameter server (`workerData: { handle }`): each
 * thread attaches once, then runs the drills in src/ps/drills.ts.
 */
import { workerData } from 'piscina';
import { ParameterServer, type PsHandle } from '../src/ps/server.js';
import * as drills from '../src/ps/drills.js';

let attached: ParameterServer | undefined;
const server = (): ParameterServer => (attached ??= ParameterServer.attach((workerData as { handle: PsHandle }).handle));

export const syncSteps = (t: { worker: number; steps: number; rowsPerPush: number; firstStep?: number }): drills.SyncDrillResult =>
  drills.runSyncSteps(server(), t.worker, t.steps, t.rowsPerPush, t.firstStep);

export const asyncPushes = (t: drills.AsyncDrillOptions): drills.AsyncDrillResult => drills.runAsyncPushes(server(), t);

// Typed arrays over shared memory arrive as views of the same memory.
export const sweep = (t: { shard: number; gradient: number; maxPushes: number; control: Int32Array; readers: number; gap?: number }): number =>
  drills.runSweepPushes(server(), t.shard, t.gradient, t.maxPushes, t.control, t.readers, t.gap);

export const checkPulls = (t: { shard: number; initial: Float32Array; gradient: number } & drills.PullCheckOptions): drills.PullCheckResult =>
  drills.checkPulls(server(), t.shard, new drills.SweepTrajectory(t.initial, server().config.learningRate, t.gradient), t);
