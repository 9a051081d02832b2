/**
 * kgshard's one error class. Every error carries a stable `code` and a
 * message that names what was wrong and where. Errors are created through
 * the factory functions below so that each throw site gets its own stack and
 * a consistent message; library code never throws bare `Error`s.
 *
 * This module imports nothing, so every layer (native-layout included) may
 * use it.
 */
export type KgErrorCode =
  | 'E_INVALID_ARGUMENT'
  | 'E_OUT_OF_RANGE'
  | 'E_NOT_POWER_OF_TWO'
  | 'E_LAYOUT'
  | 'E_LAYOUT_MAGIC'
  | 'E_LAYOUT_VERSION'
  | 'E_LAYOUT_SIZE'
  | 'E_BAD_HANDLE'
  | 'E_WRONG_THREAD'
  | 'E_NOT_OWNER'
  | 'E_DIM_MISMATCH'
  | 'E_NON_FINITE'
  | 'E_DOUBLE_PUSH'
  | 'E_UNKNOWN_ID'
  | 'E_DUPLICATE_ID'
  | 'E_LOCK_TIMEOUT'
  | 'E_LOCK_BUSY'
  | 'E_USAGE'
  | 'E_PARSE'
  | 'E_DATASET'
  | 'E_PROFILE'
  | 'E_LOAD_RESULT'
  | 'E_STORE_WRITE'
  | 'E_RESHARD_UNKNOWN_CHUNK'
  | 'E_RESHARD_SHAPE'
  | 'E_RESHARD_CHUNK_BUSY'
  | 'E_RESHARD_CHUNK_REMOVED'
  | 'E_RESHARD_UNKNOWN_PIN'
  | 'E_RESHARD_UNKNOWN_WORKER'
  | 'E_RESHARD_INVARIANT'
  | 'E_RESHARD_STALLED';

export class KgError extends Error {
  readonly code: KgErrorCode;
  /** Structured context: the field, value and place the message names. */
  readonly details: Readonly<Record<string, unknown>>;

  constructor(code: KgErrorCode, message: string, details: Record<string, unknown> = {}) {
    super(message);
    this.name = 'KgError';
    this.code = code;
    this.details = details;
  }
}

/** Render a value for an error message without dumping large objects. */
export function show(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'bigint') return `${value}n`;
  if (typeof value === 'number' || typeof value === 'boolean' || value == null) return String(value);
  if (ArrayBuffer.isView(value)) return `${value.constructor.name}(${(value as unknown as { length: number }).length})`;
  if (value instanceof SharedArrayBuffer) return `SharedArrayBuffer(${value.byteLength} bytes)`;
  try {
    const s = JSON.stringify(value);
    return s.length > 80 ? `${s.slice(0, 77)}...` : s;
  } catch {
    return Object.prototype.toString.call(value);
  }
}

/** `where` names the API or file the value was given to, e.g. `Ring.create`. */
export function invalidArgument(where: string, field: string, value: unknown, expected: string): KgError {
  return new KgError('E_INVALID_ARGUMENT', `${where}: ${field} must be ${expected}, got ${show(value)}`, {
    where,
    field,
    value,
    expected,
  });
}

export function outOfRange(where: string, field: string, value: unknown, min: number, max: number): KgError {
  return new KgError('E_OUT_OF_RANGE', `${where}: ${field} must be in [${min}, ${max}], got ${show(value)}`, {
    where,
    field,
    value,
    min,
    max,
  });
}

export function notPowerOfTwo(where: string, field: string, value: unknown): KgError {
  return new KgError('E_NOT_POWER_OF_TWO', `${where}: ${field} must be a power of two, got ${show(value)}`, {
    where,
    field,
    value,
  });
}

export function layoutError(layout: string, problem: string, details: Record<string, unknown> = {}): KgError {
  return new KgError('E_LAYOUT', `layout ${layout}: ${problem}`, { layout, ...details });
}

export function layoutMagicMismatch(region: string, expected: number, actual: number): KgError {
  return new KgError(
    'E_LAYOUT_MAGIC',
    `attach ${region}: magic mismatch, expected 0x${hex(expected)} (${region}), found 0x${hex(actual)}` +
      ` — this buffer is not a ${region} region`,
    { region, expected, actual },
  );
}

export function layoutVersionMismatch(region: string, expected: number, actual: number): KgError {
  return new KgError(
    'E_LAYOUT_VERSION',
    `attach ${region}: layout version mismatch, expected ${expected}, found ${actual}`,
    { region, expected, actual },
  );
}

export function layoutSizeMismatch(region: string, field: string, expected: number, actual: number): KgError {
  return new KgError('E_LAYOUT_SIZE', `attach ${region}: ${field} mismatch, expected ${expected}, found ${actual}`, {
    region,
    field,
    expected,
    actual,
  });
}

export function badHandle(where: string, problem: string, value?: unknown): KgError {
  return new KgError('E_BAD_HANDLE', `${where}: ${problem}${value === undefined ? '' : `, got ${show(value)}`}`, {
    where,
    value,
  });
}

export function wrongThread(where: string, problem: string): KgError {
  return new KgError('E_WRONG_THREAD', `${where}: ${problem}`, { where });
}

export function notOwner(where: string, owner: number, caller: number): KgError {
  return new KgError('E_NOT_OWNER', `${where}: lock is held by owner ${owner}, not by caller ${caller}`, {
    where,
    owner,
    caller,
  });
}

export function dimMismatch(where: string, field: string, expected: number, actual: number): KgError {
  return new KgError('E_DIM_MISMATCH', `${where}: ${field} has length ${actual}, expected ${expected}`, {
    where,
    field,
    expected,
    actual,
  });
}

export function nonFinite(where: string, field: string, index: number, value: number): KgError {
  return new KgError('E_NON_FINITE', `${where}: ${field}[${index}] is ${value}; gradients must be finite`, {
    where,
    field,
    index,
    value,
  });
}

export function doublePush(where: string, worker: number, shard: number | string, step: number): KgError {
  return new KgError(
    'E_DOUBLE_PUSH',
    `${where}: worker ${worker} already pushed to ` +
      `${typeof shard === 'number' ? `shard ${shard}` : shard} in step ${step}`,
    { where, worker, shard, step },
  );
}

export function unknownId(where: string, kind: string, id: unknown): KgError {
  return new KgError('E_UNKNOWN_ID', `${where}: unknown ${kind} id ${show(id)}`, { where, kind, id });
}

export function duplicateId(where: string, kind: string, id: string, first: number, second: number): KgError {
  return new KgError(
    'E_DUPLICATE_ID',
    `${where}: ${kind} id ${show(id)} appears twice (positions ${first} and ${second})`,
    {
      where,
      kind,
      id,
      first,
      second,
    },
  );
}

export function lockTimeout(where: string, what: string, timeoutMs: number): KgError {
  return new KgError('E_LOCK_TIMEOUT', `${where}: could not take the writer lock of ${what} within ${timeoutMs} ms`, {
    where,
    what,
    timeoutMs,
  });
}

/** The main thread found a lock held by another thread; it does not wait for it (try again, or use the async form). */
export function lockBusy(where: string, what: string, owner: number): KgError {
  return new KgError(
    'E_LOCK_BUSY',
    `${where}: the writer lock of ${what} is held by thread ${owner}; the main thread does not wait for it`,
    {
      where,
      what,
      owner,
    },
  );
}

export function usageError(message: string, details: Record<string, unknown> = {}): KgError {
  return new KgError('E_USAGE', message, details);
}

/**
 * A malformed line in a data file. The message is `file:line: problem`
 * (1-based line), the form editors and terminals link to; `text` is the
 * offending line, kept (truncated to 200 characters) in the details only.
 */
export function parseError(file: string, line: number, problem: string, text: string): KgError {
  return new KgError('E_PARSE', `${file}:${line}: ${problem}`, {
    file,
    line,
    problem,
    text: text.length > 200 ? `${text.slice(0, 197)}...` : text,
  });
}

/**
 * A dataset that cannot be loaded as a whole: a missing or ambiguous split
 * file, an unreadable directory. `path` is the directory or file concerned.
 */
export function datasetError(path: string, problem: string, details: Record<string, unknown> = {}): KgError {
  return new KgError('E_DATASET', `${path}: ${problem}`, { path, ...details });
}

/**
 * A load profile file that cannot be used: the message is
 * `file: field must be ..., got value` (`field` as `stages[2].rate`).
 */
export function profileError(file: string, field: string, expected: string, value: unknown): KgError {
  return new KgError('E_PROFILE', `${file}: ${field} must be ${expected}, got ${show(value)}`, {
    file,
    field,
    expected,
    value,
  });
}

/** A saved load-test result (`--json` output) that cannot be compared: `file: problem`. */
export function loadResultError(file: string, problem: string): KgError {
  return new KgError('E_LOAD_RESULT', `${file}: ${problem}`, { file, problem });
}

/** A correction or a read named a chunk id the resharding state never issued. */
export function reshardUnknownChunk(where: string, chunk: number): KgError {
  return new KgError('E_RESHARD_UNKNOWN_CHUNK', `${where}: unknown chunk ${chunk}`, { where, chunk });
}

/** A correction's replacement rows do not have the shape of the chunk they replace. */
export function reshardShape(where: string, chunk: number, expected: number, actual: number, dim: number): KgError {
  return new KgError(
    'E_RESHARD_SHAPE',
    `${where}: replacement for chunk ${chunk} has ${actual} values, expected ${expected} (rows x dim ${dim})`,
    { where, chunk, expected, actual, dim },
  );
}

/**
 * A correction names a chunk that cannot take one now: a replacement is
 * already pending for it, or it is itself a pending replacement or a new
 * chunk not yet placed. `state` says which.
 */
export function reshardChunkBusy(where: string, chunk: number, state: string): KgError {
  return new KgError('E_RESHARD_CHUNK_BUSY', `${where}: chunk ${chunk} ${state}`, { where, chunk, state });
}

/** A correction names a chunk that has been replaced and is draining out. */
export function reshardChunkRemoved(where: string, chunk: number, replacedBy: number): KgError {
  return new KgError(
    'E_RESHARD_CHUNK_REMOVED',
    `${where}: chunk ${chunk} was replaced by chunk ${replacedBy} and is being removed`,
    { where, chunk, replacedBy },
  );
}

export function reshardUnknownPin(where: string, pin: number): KgError {
  return new KgError('E_RESHARD_UNKNOWN_PIN', `${where}: no reader pin ${pin} (never issued or already unpinned)`, {
    where,
    pin,
  });
}

export function reshardUnknownWorker(where: string, worker: number): KgError {
  return new KgError('E_RESHARD_UNKNOWN_WORKER', `${where}: no worker ${worker} (never joined or already left)`, {
    where,
    worker,
  });
}

/** Resharding state that contradicts itself (a bug, surfaced instead of papered over). */
export function reshardInvariant(where: string, problem: string): KgError {
  return new KgError('E_RESHARD_INVARIANT', `${where}: invariant broken: ${problem}`, { where, problem });
}

function hex(n: number): string {
  return (n >>> 0).toString(16).padStart(8, '0');
}

/** A live reshard whose placement did not converge in time (chunks waiting for room that does not drain). */
export function reshardStalled(where: string, ms: number, detail: string): KgError {
  return new KgError('E_RESHARD_STALLED', `${where}: the placement did not converge within ${ms} ms (${detail})`, {
    where,
    ms,
  });
}
