/**
 * Flag parsing shared by the subcommands: `node:util` parseArgs for the
 * shape (`--flag value` and `--flag=value`), then typed readers that turn a
 * raw string into a number or a choice and fail with a one-line KgError
 * naming the command, the flag and the value.
 *
 * Errors raised while reading flags are *usage errors*: `main.ts` exits with
 * code 2 for them (and 1 for everything that fails later, such as a dataset
 * file with a malformed line). A KgError is marked as a usage error with
 * `usage(err)`; the mark lives in a WeakSet, so the error keeps its code and
 * message unchanged.
 */
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import { KgError, invalidArgument, outOfRange, usageError } from '../errors.js';
import type { Setting } from '../kge/hyper.js';

const usageErrors = new WeakSet<object>();

/** Mark `err` as a usage error (exit code 2) and return it, for `throw usage(...)`. */
export function usage<E extends object>(err: E): E {
  usageErrors.add(err);
  return err;
}

export function isUsageError(err: unknown): boolean {
  return typeof err === 'object' && err !== null && usageErrors.has(err);
}

/** Run `fn`; any KgError it throws becomes a usage error. */
export function asUsage<T>(fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof KgError) throw usage(e);
    throw e;
  }
}

export type FlagSpecs = Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }>;

export interface ParsedFlags {
  readonly values: Record<string, string | boolean | undefined>;
  readonly positionals: string[];
}

/**
 * Parse `args` against `specs` strictly. Unknown flags, a missing value and
 * stray positionals (beyond `maxPositionals`) are usage errors naming the
 * flag. A flag given twice keeps its last value.
 */
export function parseFlags(
  command: string,
  args: readonly string[],
  specs: FlagSpecs,
  maxPositionals = 0,
): ParsedFlags {
  let parsed: { values: Record<string, unknown>; positionals: string[] };
  // `--margin -1`: parseArgs refuses a value that starts with a dash as
  // ambiguous; a negative number is plainly a value, so pass it as `--margin=-1`.
  const joined: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const next = args[i + 1];
    if (
      a.startsWith('--') &&
      !a.includes('=') &&
      specs[a.slice(2)]?.type === 'string' &&
      next !== undefined &&
      /^-(\d|\.\d)/.test(next)
    ) {
      joined.push(`${a}=${next}`);
      i++;
    } else {
      joined.push(a);
    }
  }
  try {
    parsed = parseArgs({ args: joined, options: specs, allowPositionals: true, strict: true });
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    const first = (err.message ?? String(e)).split('\n')[0]!;
    if (err.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
      const m = /Unknown option '([^']+)'/.exec(first);
      const flag = m ? m[1]! : first;
      throw usage(
        usageError(`${command}: unknown flag ${flag}; run 'kgshard ${command} --help' for the flags`, {
          command,
          flag,
        }),
      );
    }
    // ERR_PARSE_ARGS_INVALID_OPTION_VALUE: a missing value ("Option '--dim <value>' argument missing"),
    // or a value given to a boolean flag.
    const missing = /Option '(?:-\w, )?(--[\w-]+)(?: <value>)?' argument missing/.exec(first);
    if (missing) throw usage(usageError(`${command}: ${missing[1]} needs a value`, { command, flag: missing[1] }));
    throw usage(usageError(`${command}: ${first.replace(/\.$/, '')}`, { command }));
  }
  if (parsed.positionals.length > maxPositionals) {
    const extra = parsed.positionals[maxPositionals]!;
    throw usage(
      usageError(`${command}: unexpected argument ${JSON.stringify(extra)}; run 'kgshard ${command} --help'`, {
        command,
        value: extra,
      }),
    );
  }
  const values: Record<string, string | boolean | undefined> = {};
  for (const [k, v] of Object.entries(parsed.values)) {
    // A repeatable flag keeps every value (joined by commas); any other keeps its last.
    values[k] = Array.isArray(v)
      ? specs[k]?.multiple === true
        ? v.join(',')
        : (v[v.length - 1] as string | boolean)
      : (v as string | boolean);
  }
  return { values, positionals: parsed.positionals };
}

/** A string flag's value, or undefined when absent. */
export function str(flags: ParsedFlags, name: string): string | undefined {
  const v = flags.values[name];
  return typeof v === 'string' ? v : undefined;
}

export function bool(flags: ParsedFlags, name: string): boolean {
  return flags.values[name] === true;
}

function parseNumber(command: string, name: string, raw: string, integer: boolean): number {
  const s = raw.trim();
  const n = s === '' ? NaN : Number(s);
  if (!Number.isFinite(n) || (integer && !Number.isInteger(n))) {
    throw usage(invalidArgument(command, `--${name}`, raw, integer ? 'an integer' : 'a finite number'));
  }
  return n;
}

/** An integer flag in [min, max], `def` when absent. */
export function intFlag(
  command: string,
  flags: ParsedFlags,
  name: string,
  def: number,
  min: number,
  max: number,
): number {
  const raw = str(flags, name);
  if (raw === undefined) return def;
  const n = parseNumber(command, name, raw, true);
  if (n < min || n > max) throw usage(outOfRange(command, `--${name}`, n, min, max));
  return n;
}

/** A finite number flag >= min, `def` when absent. */
export function numFlag(
  command: string,
  flags: ParsedFlags,
  name: string,
  def: number,
  min = -Infinity,
  minExclusive = false,
): number {
  const raw = str(flags, name);
  if (raw === undefined) return def;
  const n = parseNumber(command, name, raw, false);
  if (n < min || (minExclusive && n === min)) {
    throw usage(invalidArgument(command, `--${name}`, n, `a finite number ${minExclusive ? '>' : '>='} ${min}`));
  }
  return n;
}

/** One of `choices`, `def` when absent. */
export function choiceFlag<T extends string>(
  command: string,
  flags: ParsedFlags,
  name: string,
  choices: readonly T[],
  def: T,
): T {
  const raw = str(flags, name);
  if (raw === undefined) return def;
  if (!(choices as readonly string[]).includes(raw)) {
    throw usage(invalidArgument(command, `--${name}`, raw, `one of ${choices.join(', ')}`));
  }
  return raw as T;
}

/** `--workers N|auto` (or another flag of that form): auto is `os.availableParallelism()`. */
export function workersFlag(command: string, flags: ParsedFlags, def: number | 'auto', name = 'workers'): number {
  const raw = str(flags, name);
  if (raw === undefined) return def === 'auto' ? availableParallelism() : def;
  if (raw === 'auto') return availableParallelism();
  const s = raw.trim();
  const n = s === '' ? NaN : Number(s);
  if (!Number.isInteger(n)) throw usage(invalidArgument(command, `--${name}`, raw, "a positive integer or 'auto'"));
  if (n < 1 || n > 256) throw usage(outOfRange(command, `--${name}`, n, 1, 256));
  return n;
}

/** Compact counts: 950, 31.2k, 1.05M. */
export function compact(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  const a = Math.abs(n);
  if (a >= 1e6) return `${(n / 1e6).toFixed(a >= 1e7 ? 1 : 2)}M`;
  if (a >= 1e3) return `${(n / 1e3).toFixed(a >= 1e4 ? 1 : 2)}k`;
  return String(Math.round(n));
}

/** `h:mm:ss` or `m:ss`. */
export function clock(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '--:--';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

/** The parseArgs specs of the settings' flags (see `src/kge/hyper.ts`). */
export function settingSpecs(settings: readonly Setting[]): FlagSpecs {
  const specs: FlagSpecs = {};
  for (const s of settings)
    specs[s.flag.slice(2)] =
      s.type === 'schedule'
        ? { type: 'string', multiple: true }
        : { type: s.type === 'boolean' ? 'boolean' : 'string' };
  return specs;
}

/**
 * A setting's value from its flag, read by its row of the table (type,
 * range, choices); undefined when the flag is absent, so that the library
 * fills in the default (per model where it varies).
 */
export function readSetting(
  command: string,
  flags: ParsedFlags,
  s: Setting,
): string | number | boolean | readonly ScheduleEntry[] | undefined {
  const name = s.flag.slice(2);
  if (s.type === 'boolean') return bool(flags, name) ? true : undefined;
  if (str(flags, name) === undefined) return undefined;
  switch (s.type) {
    case 'int':
      return intFlag(command, flags, name, 0, s.min!, s.max!);
    case 'number':
      return numFlag(command, flags, name, 0, s.min, s.minExclusive === true);
    case 'choice':
    case 'model':
      return choiceFlag(command, flags, name, s.choices!, '');
    case 'threads':
      return workersFlag(command, flags, 'auto', name);
    case 'path':
      return str(flags, name);
    case 'schedule':
      return scheduleFlag(command, name, str(flags, name)!, s);
  }
}

/** One entry of a schedule flag: from this epoch (1-based), a value under the setting's key. */
export type ScheduleEntry = { readonly epoch: number } & Readonly<Record<string, number | string>>;

/**
 * `EPOCH:VALUE[,EPOCH:VALUE...]` (a path value may not hold a comma; repeat
 * the flag instead): each VALUE an integer in [min, max] or a path. A
 * one-line usage error naming the flag and the bad entry.
 */
function scheduleFlag(command: string, name: string, text: string, s: Setting): ScheduleEntry[] {
  const sched = s.schedule!;
  const out: ScheduleEntry[] = [];
  const parts = text.split(',');
  for (const part of parts) {
    const at = part.indexOf(':');
    const epochText = at < 0 ? '' : part.slice(0, at).trim();
    const valueText = at < 0 ? '' : part.slice(at + 1).trim();
    const epoch = /^\d+$/.test(epochText) ? Number(epochText) : NaN;
    const int = /^\d+$/.test(valueText) ? Number(valueText) : NaN;
    const ok = epoch >= 1 && (sched.value === 'path' ? valueText !== '' : int >= s.min! && int <= s.max!);
    if (!ok) {
      const want =
        sched.value === 'path'
          ? `EPOCH:${sched.key.toUpperCase()} with EPOCH >= 1`
          : `EPOCH:${sched.key.toUpperCase()} with EPOCH >= 1 and ${sched.key.toUpperCase()} in [${s.min}, ${s.max}]`;
      throw usage(
        usageError(`${command}: --${name} ${JSON.stringify(part)}: must be ${want}`, {
          command,
          flag: `--${name}`,
          value: part,
        }),
      );
    }
    out.push({ epoch, [sched.key]: sched.value === 'path' ? valueText : int });
  }
  return out;
}

/** `kgshard <command> <args>` as a shell would take it back (arguments with spaces or quotes quoted). */
export function commandLine(command: string, args: readonly string[]): string {
  const quote = (a: string): string => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`);
  return ['kgshard', command, ...args.map(quote)].join(' ');
}
