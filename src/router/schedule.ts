/**
 * Load shapes for the load test: staged profiles (k6-style stages with
 * linear ramps between them) and the send schedule they imply.
 *
 * A profile is a start point and a list of stages. Each stage ramps the
 * load linearly from the previous stage's values (the start's, for the
 * first) to its own over `duration_s`; to hold a load, repeat the values.
 * A stage's fields:
 * - `duration_s`: seconds (a positive number) or a share of the run's
 *   `durationMs` (`"50%"`);
 * - `rate`: events/s per producer (a positive number) or a share of the
 *   run's `rate` (`"100%"`); omitted: the previous value;
 * - `producers`: active producers (an integer, 0 to the run's `producers`)
 *   or a share of the run's `producers` (`"100%"`, rounded up); omitted:
 *   the previous value.
 * `start` takes `rate` and `producers` the same way; omitted, the load
 * starts at the first stage's values (so the first stage holds).
 *
 * The resolved profile is a list of points (t_ms, rate, producers), the
 * first at 0 and the last at the profile's end. Between points both vary
 * linearly; the active producer count is the interpolated value rounded up.
 *
 * The send schedule (`RateSchedule`) is the per-producer rate as a
 * piecewise-linear function of run time, with its integral: event i of a
 * producer that starts at time a is due when the integral from a reaches i
 * (wrk2's "intended send time", start + i / rate at a constant rate). Its
 * two queries allocate nothing and never throw, for the producers' loops.
 */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { fileURLToPath } from 'node:url';
import { profileError } from '../errors.js';

/** A stage as written in a profile file. */
export interface ProfileStage {
  duration_s: number | string;
  rate?: number | string;
  producers?: number | string;
}

/** A profile as written in a file (or the stages alone, as a JSON array). */
export interface ProfileSpec {
  start?: { rate?: number | string; producers?: number | string };
  stages: ProfileStage[];
}

/** One corner of a resolved profile. */
export interface ProfilePoint {
  /** Ms since the run started. */
  t_ms: number;
  /** Events/s per producer, or 'max' (flat out). */
  rate: number | 'max';
  /** Active producers (may be fractional between stages; rounded up when applied). */
  producers: number;
}

/** A profile resolved against a run's producers, rate and duration. */
export interface ResolvedProfile {
  /** Where it came from (a file name, or `ramp`). */
  name: string;
  points: ProfilePoint[];
  /** The run's length: the last point's time. */
  durationMs: number;
}

/** The profiles shipped with the package, by name (`--profile ramp`). */
export const BUILT_IN_PROFILES: readonly string[] = ['ramp'];

const PROFILE_DIR = new URL('../../../profiles/', import.meta.url);

/** The file of a built-in profile. */
export function builtInProfilePath(name: string): string {
  return fileURLToPath(new URL(`${name}.json`, PROFILE_DIR));
}

const PERCENT_RE = /^\s*(\d+(?:\.\d+)?)\s*%\s*$/;

/**
 * Read and check a profile file (or a built-in profile by name), then
 * resolve it against the run's `producers`, `rate` and `durationMs`.
 * Throws E_PROFILE naming the file, the stage and the field.
 */
export function loadProfile(
  fileOrName: string,
  run: { producers: number; rate: number | 'max'; durationMs: number },
): ResolvedProfile {
  const builtIn = BUILT_IN_PROFILES.includes(fileOrName);
  const path = builtIn ? builtInProfilePath(fileOrName) : fileOrName;
  const label = builtIn ? `${fileOrName} (${basename(path)})` : fileOrName;
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    const why = e instanceof Error && 'code' in e && e.code === 'ENOENT' ? 'no such file' : 'unreadable';
    throw profileError(label, 'the file', 'a readable JSON profile', why);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw profileError(label, 'the file', 'JSON', e instanceof Error ? e.message : String(e));
  }
  return resolveProfile(builtIn ? fileOrName : label, json, run, label);
}

/** Check a parsed profile and resolve it (see `loadProfile`); `label` names it in errors. */
export function resolveProfile(
  name: string,
  json: unknown,
  run: { producers: number; rate: number | 'max'; durationMs: number },
  label = name,
): ResolvedProfile {
  const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
  let stages: unknown;
  let start: unknown;
  if (Array.isArray(json)) stages = json;
  else if (isObj(json)) {
    for (const k of Object.keys(json)) {
      if (k !== 'stages' && k !== 'start') throw profileError(label, k, 'absent (fields: start, stages)', json[k]);
    }
    stages = json['stages'];
    start = json['start'];
  } else throw profileError(label, 'the profile', 'an object { start?, stages } or an array of stages', json);
  if (!Array.isArray(stages) || stages.length === 0) {
    throw profileError(label, 'stages', 'a non-empty array of { duration_s, rate, producers }', stages);
  }
  const share = (field: string, v: string, of: number): number => {
    const m = PERCENT_RE.exec(v);
    if (m === null) throw profileError(label, field, 'a number or a share such as "50%"', v);
    return (Number(m[1]) / 100) * of;
  };
  const rateOf = (field: string, v: unknown): number | 'max' => {
    if (typeof v === 'number') {
      if (!Number.isFinite(v) || v <= 0 || v > 1e10) throw profileError(label, field, 'a positive number', v);
      return v;
    }
    if (typeof v === 'string') {
      if (run.rate === 'max') throw profileError(label, field, 'events/s (a share needs a numeric --rate)', v);
      const r = share(field, v, run.rate);
      if (!(r > 0) || r > 1e10) throw profileError(label, field, 'a positive share', v);
      return r;
    }
    throw profileError(label, field, 'a positive number', v);
  };
  const producersOf = (field: string, v: unknown): number => {
    let p: number;
    if (typeof v === 'number') {
      if (!Number.isInteger(v) || v < 0) throw profileError(label, field, 'a whole number of producers (>= 0)', v);
      p = v;
    } else if (typeof v === 'string') p = Math.ceil(share(field, v, run.producers) - 1e-9);
    else throw profileError(label, field, 'a whole number of producers (>= 0)', v);
    if (p > run.producers) throw profileError(label, field, `at most --producers (${run.producers})`, v);
    return p;
  };
  const known = new Set(['duration_s', 'rate', 'producers']);
  const first = stages[0] as unknown;
  // The start: given, or the first stage's values (that stage then holds).
  let rate: number | 'max' = run.rate;
  let producers = run.producers;
  const seed = isObj(start) ? start : isObj(first) ? first : {};
  if (start !== undefined && !isObj(start))
    throw profileError(label, 'start', 'an object { rate?, producers? }', start);
  if (isObj(start)) {
    for (const k of Object.keys(start)) {
      if (k !== 'rate' && k !== 'producers')
        throw profileError(label, `start.${k}`, 'absent (fields: rate, producers)', start[k]);
    }
  }
  const where0 = isObj(start) ? 'start' : 'stages[0]';
  if (seed['rate'] !== undefined) rate = rateOf(`${where0}.rate`, seed['rate']);
  if (seed['producers'] !== undefined) producers = producersOf(`${where0}.producers`, seed['producers']);
  const points: ProfilePoint[] = [{ t_ms: 0, rate, producers }];
  let t = 0;
  stages.forEach((st: unknown, i: number) => {
    const at = `stages[${i}]`;
    if (!isObj(st)) throw profileError(label, at, 'an object { duration_s, rate, producers }', st);
    for (const k of Object.keys(st)) {
      if (!known.has(k)) throw profileError(label, `${at}.${k}`, 'absent (fields: duration_s, rate, producers)', st[k]);
    }
    const d = st['duration_s'];
    let ms: number;
    if (typeof d === 'number') {
      if (!Number.isFinite(d) || d <= 0) throw profileError(label, `${at}.duration_s`, 'a positive number', d);
      ms = d * 1000;
    } else if (typeof d === 'string') {
      ms = share(`${at}.duration_s`, d, run.durationMs);
      if (!(ms > 0)) throw profileError(label, `${at}.duration_s`, 'a positive share', d);
    } else throw profileError(label, `${at}.duration_s`, 'a positive number of seconds', d);
    if (st['rate'] !== undefined) rate = rateOf(`${at}.rate`, st['rate']);
    if (st['producers'] !== undefined) producers = producersOf(`${at}.producers`, st['producers']);
    if ((rate === 'max') !== (points[0]!.rate === 'max')) {
      throw profileError(label, `${at}.rate`, 'set in every stage or in none when --rate is max', st['rate']);
    }
    t += ms;
    points.push({ t_ms: Math.round(t * 1e6) / 1e6, rate, producers });
  });
  if (t > 3_600_000) throw profileError(label, 'stages', 'at most an hour long in all', `${t / 1000} s`);
  return { name, points, durationMs: Math.round(t) };
}

/** The run's profile when none is given: every producer at `rate` for `durationMs`. */
export function flatProfile(run: { producers: number; rate: number | 'max'; durationMs: number }): ResolvedProfile {
  return {
    name: 'flat',
    points: [
      { t_ms: 0, rate: run.rate, producers: run.producers },
      { t_ms: run.durationMs, rate: run.rate, producers: run.producers },
    ],
    durationMs: run.durationMs,
  };
}

/** Active producers at `tMs` into the run: the profile's value there, rounded up, in [0, max]. */
export function producersAt(p: ResolvedProfile, tMs: number, max: number): number {
  const pts = p.points;
  let v = pts[pts.length - 1]!.producers;
  for (let i = 1; i < pts.length; i++) {
    const b = pts[i]!;
    if (tMs <= b.t_ms) {
      const a = pts[i - 1]!;
      const f = b.t_ms > a.t_ms ? (Math.max(tMs, a.t_ms) - a.t_ms) / (b.t_ms - a.t_ms) : 1;
      v = a.producers + f * (b.producers - a.producers);
      break;
    }
  }
  return Math.min(max, Math.max(0, Math.ceil(v - 1e-9)));
}

/**
 * A per-producer send schedule: rate (events per ms) piecewise linear in
 * run time (ms), constant after the last point. A plain object of typed
 * arrays, so it crosses to a worker in a message.
 */
export interface RateSchedule {
  /** Point times (ms since the run started), ascending, the first 0. */
  t: Float64Array;
  /** Rate at each point (events per ms). */
  r: Float64Array;
  /** Integral of the rate from 0 to each point (events). */
  c: Float64Array;
}

/** The schedule of a paced profile (null for 'max'). */
export function rateSchedule(p: ResolvedProfile): RateSchedule | null {
  if (p.points[0]!.rate === 'max') return null;
  const n = p.points.length;
  const t = new Float64Array(n);
  const r = new Float64Array(n);
  const c = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const pt = p.points[i]!;
    t[i] = pt.t_ms;
    r[i] = (pt.rate as number) / 1000;
    if (i > 0) c[i] = c[i - 1]! + ((r[i - 1]! + r[i]!) / 2) * (t[i]! - t[i - 1]!);
  }
  return { t, r, c };
}

/** Events due by run time `tMs` (the rate's integral from 0); hot path: no allocation, no throw. */
export function dueBy(s: RateSchedule, tMs: number): number {
  const { t, r, c } = s;
  if (tMs <= 0) return 0;
  let i = t.length - 1;
  while (i > 0 && t[i]! > tMs) i--;
  const dt = tMs - t[i]!;
  if (i === t.length - 1) return c[i]! + r[i]! * dt;
  const slope = (r[i + 1]! - r[i]!) / (t[i + 1]! - t[i]!);
  return c[i]! + r[i]! * dt + (slope * dt * dt) / 2;
}

/**
 * The run time (ms) when `dueBy` reaches `events`: the intended send time
 * of the event with that index on the run's schedule. Infinity when the
 * rate has dropped to 0 before. Hot path: no allocation, no throw.
 */
export function timeOfDue(s: RateSchedule, events: number): number {
  const { t, r, c } = s;
  if (events <= 0) return 0;
  let i = c.length - 1;
  while (i > 0 && c[i]! > events) i--;
  const need = events - c[i]!;
  const r0 = r[i]!;
  if (i === c.length - 1) return r0 > 0 ? t[i]! + need / r0 : Infinity;
  const slope = (r[i + 1]! - r0) / (t[i + 1]! - t[i]!);
  // Solve r0 x + slope x^2 / 2 = need for the smallest x >= 0.
  if (Math.abs(slope) < 1e-15) return r0 > 0 ? t[i]! + need / r0 : Infinity;
  const disc = r0 * r0 + 2 * slope * need;
  const x = (-r0 + Math.sqrt(disc > 0 ? disc : 0)) / slope;
  return t[i]! + x;
}
