/**
 * The selection table: the Active shards a new producer (or event) may be
 * sent to, those whose circuit breaker is closed and whose weight is within
 * WEIGHT_TOLERANCE of the lowest among them. Written by the mapper lock's
 * holder on every state change and every collection; read by any thread
 * without the lock. (A breaker that a producer opens between two
 * publications leaves the table at the next one; binding checks the
 * breaker itself, so no producer is sent there meanwhile.)
 *
 * Two buffers in the mapper region (`tables`): buffer b holds
 * [length, entries...], each entry `(slot << 16) | shard id`. The writer
 * fills the buffer NOT currently published, then publishes it by bumping
 * the generation (buffer = generation & 1) with an atomic store.
 */
import { indexOf, type RegionLayout } from '../../native-layout/index.js';
import type { SlotRecords } from './mapper-codec.js';
import { SLOT_ACTIVE, WEIGHT_TOLERANCE } from './mapper-types.js';

export class SelectionTable {
  private readonly i32: Int32Array;
  private readonly slots: number;
  private readonly records: SlotRecords;
  /** Whether slot `s`'s circuit breaker lets traffic through (closed). */
  private readonly breakerClosed: (s: number) => boolean;
  private readonly TABLE_GEN: number;
  private readonly TABLES: number;
  private readonly SLOT_ID: number;
  private readonly SLOT_STATE: number;
  /** This object's copy of the published table (see `entry`). */
  private readonly cached: Int32Array;
  private cachedLen = 0;
  private cachedGen = -1;

  constructor(
    i32: Int32Array,
    layout: RegionLayout,
    slots: number,
    records: SlotRecords,
    breakerClosed: (s: number) => boolean,
  ) {
    this.i32 = i32;
    this.slots = slots;
    this.records = records;
    this.breakerClosed = breakerClosed;
    this.TABLE_GEN = indexOf(layout, 'tableGen');
    this.TABLES = indexOf(layout, 'tables');
    this.SLOT_ID = indexOf(layout, 'slotId');
    this.SLOT_STATE = indexOf(layout, 'slotState');
    this.cached = new Int32Array(slots);
  }

  /**
   * The packed entry multiply-shift picks for 32-bit `hash`, or -1 when the
   * table is empty. Any thread; lock-free, no allocation.
   *
   * Each table object keeps a private copy of the table and the generation
   * it copied. The per-call check reads the generation with a PLAIN load: an
   * `Atomics.load` costs more than the whole rest of the selection. A plain
   * aligned 32-bit load cannot tear; it can only be late, which is the same
   * as having been called a moment earlier (a selection can always be
   * overtaken by a drain, here as with any lock-free read). When it differs
   * from the copy's generation, the copy is refreshed under the full
   * protocol (`refresh`), so a selection never comes from a half-written
   * table.
   */
  entry(hash: number): number {
    if (this.i32[this.TABLE_GEN] !== this.cachedGen) this.refresh();
    const len = this.cachedLen;
    return len === 0 ? -1 : this.cached[((hash >>> 0) * len * 2.3283064365386963e-10) | 0]!;
  }

  /** The current table as shard ids (a copy; tests and diagnostics). */
  ids(): number[] {
    this.refresh();
    const out: number[] = [];
    for (let k = 0; k < this.cachedLen; k++) out.push(this.cached[k]! & 0xffff);
    return out;
  }

  /*
   * Copy the published table. Load the generation, copy its buffer, load
   * the generation again: equal means no publication happened in between,
   * and since a writer only ever writes the buffer of the NEXT generation
   * (not this one unless a publication happened first), the copy is a
   * complete table. Otherwise retry; publications happen at mapper events
   * (a few per second), so retries are rare and short.
   */
  private refresh(): void {
    const i32 = this.i32;
    for (;;) {
      const gen = Atomics.load(i32, this.TABLE_GEN);
      const base = this.TABLES + (gen & 1) * (this.slots + 1);
      const len = i32[base]!;
      if (len >= 0 && len <= this.slots) {
        for (let k = 0; k < len; k++) this.cached[k] = i32[base + 1 + k]!;
        if (Atomics.load(i32, this.TABLE_GEN) === gen) {
          this.cachedLen = len;
          this.cachedGen = gen;
          return;
        }
      }
    }
  }

  /** Lock holder: rebuild the table from the slots and their weights and publish it. */
  publish(): void {
    const i32 = this.i32;
    const rec = this.records;
    const active: number[] = [];
    let min = Number.MAX_VALUE;
    for (let s = 0; s < this.slots; s++) {
      if (i32[this.SLOT_STATE + s] !== SLOT_ACTIVE || !this.breakerClosed(s)) continue;
      active.push(s);
      const w = rec.get(s, 'weight');
      if (w < min) min = w; // NaN compares false: ignored, as the reference's fold(f64::min) ignores it
    }
    active.sort((a, b) => i32[this.SLOT_ID + a]! - i32[this.SLOT_ID + b]!);
    let picked = active.filter((s) => Math.abs(rec.get(s, 'weight') - min) < WEIGHT_TOLERANCE);
    // Every weight NaN: the filter kept nothing; fall back to every Active shard.
    if (picked.length === 0) picked = active;
    const gen = i32[this.TABLE_GEN]!;
    const base = this.TABLES + ((gen + 1) & 1) * (this.slots + 1);
    for (let k = 0; k < picked.length; k++) {
      const s = picked[k]!;
      i32[base + 1 + k] = (s << 16) | i32[this.SLOT_ID + s]!;
    }
    i32[base] = picked.length;
    Atomics.store(i32, this.TABLE_GEN, (gen + 1) | 0);
  }
}
