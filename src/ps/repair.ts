/**
 * Recovery of a table after a sync pusher died half-way through its push.
 *
 * A sync push marks itself in the table's `pushing` word (its intent record)
 * before it adds to the pending sums and clears the mark when done, both
 * under the table's writer lock; a mark still set means its pusher died
 * half-way. Its gradient is partly added to the pending sums and cannot be
 * separated from the pushes that arrived before it in this step, so the
 * whole pending step is discarded and a KGSHARD_PUSH_INTERRUPTED warning is
 * raised. The step's round at the table's barrier is ended (tripped) too, so
 * the workers whose pushes were discarded are released at once (their push
 * reports `timed-out` with the step unchanged) and the next pushes start a
 * fresh step. The seqlock's own hook has already made the counter even (a
 * death inside the step's apply, whose rows may then be torn, is reported by
 * `Seqlock.lastTorn`).
 */
import type { Tables } from './tables.js';

/**
 * Table `t`'s recovery hook, under its writer lock. Runs from the seqlock's
 * recovery hook when this server's object took the lock over, and again
 * after every acquisition (see sync-step.ts) in case the takeover happened
 * through an object without the hook (a bare `Seqlock.attach`); with the
 * mark clear it does nothing.
 */
export function repairTable(tables: Tables, t: number): void {
  const f = tables.fields[t]!;
  const ctl = tables.ctl;
  const mark = Atomics.load(ctl, f.pushing);
  if (mark === 0) return;
  Atomics.store(ctl, f.pushing, 0);
  const discarded = Atomics.load(ctl, f.pushedCount);
  clearPending(tables, t);
  // Every arrival happens under the lock we hold, so this round is exactly
  // the discarded pushes (none when the dead push was the step's first).
  const barrier = tables.barriers[t]!;
  const arrived = barrier.arrived();
  if (arrived > 0) barrier.trip({ generation: barrier.generation(), arrived, released: false });
  tables.warn(
    'KGSHARD_PUSH_INTERRUPTED',
    `${tables.tableName(t)}: worker ${mark - 1} died in the middle of a push; ` +
      `discarded the pending step (${discarded} complete pushes and the partial one)`,
  );
}

/** Under table `t`'s lock: forget the pending sync step without applying it. */
function clearPending(tables: Tables, t: number): void {
  const f = tables.fields[t]!;
  const p = tables.pendings[t]!;
  // The dead push may have flagged rows after touchedCount was last
  // stored, so clear every flag and sum rather than the listed rows.
  p.flags.fill(0);
  p.sums.fill(0);
  Atomics.store(tables.ctl, f.touchedCount, 0);
  Atomics.store(tables.ctl, f.pushedCount, 0);
}
