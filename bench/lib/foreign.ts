/**
 * How much CPU other processes (and the hypervisor) took while a case ran:
 * the machine's busy time from /proc/stat minus this process's CPU time,
 * over the wall time. On a 2-core machine shared with other work, a run
 * during which another process held ~1 CPU is not comparable with one that
 * had the machine to itself; this says which runs those were. Linux only
 * (null elsewhere); /proc/stat counts in clock ticks (usually 10 ms), so
 * figures over runs shorter than ~0.2 s are coarse.
 */
import { readFileSync } from 'node:fs';

export interface CpuSnapshot {
  readonly wallMs: number;
  readonly processMs: number;
  /** Busy ticks of all CPUs (user, nice, system, irq, softirq), or -1 when unavailable. */
  readonly busyTicks: number;
  readonly stealTicks: number;
}

/** Clock ticks per second of /proc/stat (USER_HZ; 100 on Linux). */
const TICKS_PER_S = 100;

function readStat(): { busy: number; steal: number } {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!;
    const f = line.trim().split(/\s+/).slice(1).map(Number);
    // user nice system idle iowait irq softirq steal ...
    const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = f;
    return { busy: user + nice + system + irq + softirq, steal };
  } catch {
    return { busy: -1, steal: -1 };
  }
}

export function cpuSnapshot(): CpuSnapshot {
  const u = process.cpuUsage();
  const s = readStat();
  return { wallMs: performance.now(), processMs: (u.user + u.system) / 1000, busyTicks: s.busy, stealTicks: s.steal };
}

export interface ForeignCpu {
  /** Mean CPUs used by other processes (never below 0). */
  readonly others: number;
  /** Mean CPUs stolen by the hypervisor. */
  readonly steal: number;
}

/** CPU taken by others since `since`; null where /proc/stat is unavailable. */
export function foreignCpu(since: CpuSnapshot): ForeignCpu | null {
  const now = cpuSnapshot();
  if (since.busyTicks < 0 || now.busyTicks < 0) return null;
  const wallMs = now.wallMs - since.wallMs;
  if (wallMs <= 0) return null;
  const busyMs = ((now.busyTicks - since.busyTicks) * 1000) / TICKS_PER_S;
  const stealMs = ((now.stealTicks - since.stealTicks) * 1000) / TICKS_PER_S;
  const ours = now.processMs - since.processMs;
  return {
    others: Math.round((Math.max(0, busyMs - ours) / wallMs) * 100) / 100,
    steal: Math.round((Math.max(0, stealMs) / wallMs) * 100) / 100,
  };
}
