/**
 * Names to ids, for the commands and library calls that take names from a
 * user (`kgshard predict --head NAME`, a query file): exact lookup, and for
 * a name that is not there, the closest known names by edit distance, so the
 * error can say what was probably meant.
 *
 * The distance is Levenshtein's (insertions, deletions and substitutions of
 * UTF-16 code units, each 1) between the lower-cased names, cut off as soon
 * as a name cannot beat the suggestions found so far; ties go to the smaller
 * exact (case-sensitive) distance, then to the name that sorts first. Over
 * WordNet's 38,189 entity names a suggestion takes a few milliseconds.
 */
import { KgError, show } from '../errors.js';

/** How many names an unknown-name error suggests. */
export const SUGGESTIONS = 3;

export class NameIndex {
  /** What the names name, for messages: `entity`, `relation`. */
  readonly kind: string;
  readonly names: readonly string[];
  private readonly ids: Map<string, number>;
  private lower: string[] | null = null;

  /** Names by id; a repeated name keeps its first id. */
  constructor(kind: string, names: readonly string[]) {
    this.kind = kind;
    this.names = names;
    this.ids = new Map();
    for (let i = names.length - 1; i >= 0; i--) this.ids.set(names[i]!, i);
  }

  /** The id of `name`, or -1. */
  get(name: string): number {
    return this.ids.get(name) ?? -1;
  }

  /**
   * The id of `name`; for an unknown name, `E_UNKNOWN_ID` in one line:
   * `<where>: unknown <kind> "name"; closest: "a", "b", "c"`.
   */
  resolve(name: string, where: string): number {
    const id = this.ids.get(name);
    if (id !== undefined) return id;
    throw unknownName(where, this.kind, name, this.closest(name));
  }

  /** The `count` known names closest to `name` (see the module comment), closest first. */
  closest(name: string, count = SUGGESTIONS): string[] {
    const lower = (this.lower ??= this.names.map((n) => n.toLowerCase()));
    const q = name.toLowerCase();
    const best: { name: string; d: number; exact: number }[] = [];
    const row = new Int32Array(q.length + 1);
    const exactRow = new Int32Array(name.length + 1);
    for (let i = 0; i < lower.length; i++) {
      // Beyond the current worst suggestion (inclusive, for the tie rule): no need to finish.
      const limit = best.length < count ? Infinity : best[best.length - 1]!.d;
      const d = distance(q, lower[i]!, limit, row);
      if (d > limit) continue;
      const exact = distance(name, this.names[i]!, Infinity, exactRow);
      const entry = { name: this.names[i]!, d, exact };
      let at = best.length;
      while (at > 0 && worse(best[at - 1]!, entry)) at--;
      if (at < count) {
        best.splice(at, 0, entry);
        if (best.length > count) best.pop();
      }
    }
    return best.map((b) => b.name);
  }
}

function worse(a: { name: string; d: number; exact: number }, b: { name: string; d: number; exact: number }): boolean {
  if (a.d !== b.d) return a.d > b.d;
  if (a.exact !== b.exact) return a.exact > b.exact;
  return a.name > b.name;
}

/**
 * Levenshtein distance of `a` and `b`, or any value above `limit` once the
 * distance must exceed it. `row` holds a.length + 1 ints (scratch).
 */
function distance(a: string, b: string, limit: number, row: Int32Array): number {
  const n = a.length;
  const m = b.length;
  if (Math.abs(n - m) > limit) return limit + 1;
  for (let i = 0; i <= n; i++) row[i] = i;
  for (let j = 1; j <= m; j++) {
    let diag = row[0]!;
    row[0] = j;
    let min = j;
    const c = b.charCodeAt(j - 1);
    for (let i = 1; i <= n; i++) {
      const up = row[i]!;
      const v = Math.min(up + 1, row[i - 1]! + 1, diag + (a.charCodeAt(i - 1) === c ? 0 : 1));
      diag = up;
      row[i] = v;
      if (v < min) min = v;
    }
    if (min > limit) return limit + 1;
  }
  return row[n]!;
}

/** `E_UNKNOWN_ID`: `<where>: unknown <kind> "name"; closest: "a", "b", "c"`. */
export function unknownName(where: string, kind: string, name: string, suggestions: readonly string[]): KgError {
  const hint = suggestions.length > 0 ? `; closest: ${suggestions.map((s) => show(s)).join(', ')}` : '';
  return new KgError('E_UNKNOWN_ID', `${where}: unknown ${kind} ${show(name)}${hint}`, {
    where,
    kind,
    id: name,
    suggestions,
  });
}
