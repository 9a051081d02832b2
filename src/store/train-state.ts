/**
 * A trainer's snapshot as bytes (the payload of a training checkpoint):
 *
 *   u32 header length h | h bytes of JSON header | padding to 4 bytes |
 *   entity floats | relation floats | optimizer floats   (float32, little-endian)
 *
 * The header holds the epoch reports, the counters and the three array
 * lengths, so a decoder checks every size before it reads a float.
 */
import { invalidArgument } from '../errors.js';

/**
 * The resumable state of a training run. The same shape as the trainer's
 * `TrainerSnapshot`, declared here so the store does not depend on the
 * training layer.
 */
export interface TrainingState {
  readonly epochs: { epoch: number; loss: number; positives: number; seconds: number }[];
  readonly positives: number;
  readonly trainSeconds: number;
  readonly entities: Float32Array;
  readonly relations: Float32Array;
  readonly optimizer: Float32Array;
  /**
   * A state taken while an epoch ran: that epoch, the [start, end) runs of
   * its order not yet trained (flat pairs), and its positives and seconds so
   * far. Absent for a state taken between epochs.
   */
  readonly partial?: {
    readonly epoch: number;
    readonly remaining: number[];
    readonly positives: number;
    readonly seconds: number;
  };
}

interface Header {
  /** 1: between epochs only; 2: may hold `partial`. */
  format: 1 | 2;
  partial?: TrainingState['partial'];
  epochs: TrainingState['epochs'];
  positives: number;
  trainSeconds: number;
  entities: number;
  relations: number;
  optimizer: number;
}

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/**
 * Encode `s`. Every epoch report and counter must be finite (a NaN loss
 * would come back from the JSON header as null): a diverged state is
 * refused here, naming the field, rather than written.
 */
export function encodeTrainerSnapshot(s: TrainingState): Uint8Array {
  const problem = headerProblem(s.epochs, s.positives, s.trainSeconds);
  if (problem !== null) throw invalidArgument('encodeTrainerSnapshot', problem.field, problem.value, problem.expected);
  const header: Header = {
    format: s.partial === undefined ? 1 : 2,
    ...(s.partial === undefined ? {} : { partial: s.partial }),
    epochs: s.epochs,
    positives: s.positives,
    trainSeconds: s.trainSeconds,
    entities: s.entities.length,
    relations: s.relations.length,
    optimizer: s.optimizer.length,
  };
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const start = Math.ceil((4 + json.length) / 4) * 4;
  const floats = s.entities.length + s.relations.length + s.optimizer.length;
  const out = new Uint8Array(start + floats * 4);
  new DataView(out.buffer).setUint32(0, json.length, true);
  out.set(json, 4);
  const f = new Float32Array(out.buffer, start, floats);
  f.set(s.entities, 0);
  f.set(s.relations, s.entities.length);
  f.set(s.optimizer, s.entities.length + s.relations.length);
  if (!LITTLE_ENDIAN) swap32(out.subarray(start));
  return out;
}

/** Decode; `where` names the source (a file) in errors. */
export function decodeTrainerSnapshot(bytes: Uint8Array, where: string): TrainingState {
  const bad = (problem: string): never => {
    throw invalidArgument(where, 'trainer snapshot', `${bytes.length} bytes`, problem);
  };
  if (bytes.length < 4) bad('at least a 4-byte header length');
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const h = dv.getUint32(0, true);
  if (4 + h > bytes.length) bad(`a header of ${h} bytes inside the payload`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(bytes.subarray(4, 4 + h)).toString('utf8'));
  } catch {
    return bad('a JSON header');
  }
  const header = checkHeader(parsed, bad);
  const start = Math.ceil((4 + h) / 4) * 4;
  const floats = header.entities + header.relations + header.optimizer;
  if (start + floats * 4 !== bytes.length) bad(`${start + floats * 4} bytes for the sizes its header states`);
  // A copy in a fresh buffer (aligned for Float32Array): Buffer#slice would be a view.
  const copy = Uint8Array.prototype.slice.call(bytes, start);
  if (!LITTLE_ENDIAN) swap32(copy);
  const f = new Float32Array(copy.buffer, copy.byteOffset, floats);
  return {
    epochs: header.epochs,
    positives: header.positives,
    trainSeconds: header.trainSeconds,
    entities: f.slice(0, header.entities),
    relations: f.slice(header.entities, header.entities + header.relations),
    optimizer: f.slice(header.entities + header.relations),
    ...(header.partial === undefined ? {} : { partial: header.partial }),
  };
}

const count = (v: unknown): boolean => Number.isSafeInteger(v) && (v as number) >= 0;

/**
 * The header, every field checked: the array lengths are non-negative
 * integers (so their sum is the float count, and each slice is its own
 * length), the counters numbers, each epoch report a record of finite
 * numbers (encode refuses a non-finite loss, so a null one is damage).
 */
function checkHeader(x: unknown, bad: (problem: string) => never): Header {
  if (x === null || typeof x !== 'object' || Array.isArray(x)) return bad('a JSON object header');
  const o = x as Record<string, unknown>;
  if (o['format'] !== 1 && o['format'] !== 2) bad(`format 1 or 2 (got ${String(o['format'])})`);
  if (o['format'] === 2 && o['partial'] !== undefined) {
    const p = o['partial'] as Record<string, unknown> | null;
    const pairs = p?.['remaining'];
    if (
      p === null ||
      typeof p !== 'object' ||
      !count(p['epoch']) ||
      !count(p['positives']) ||
      !(typeof p['seconds'] === 'number' && Number.isFinite(p['seconds']) && p['seconds'] >= 0) ||
      !Array.isArray(pairs) ||
      pairs.length % 2 !== 0 ||
      !pairs.every((x) => count(x))
    ) {
      bad(`a partial epoch of {epoch, remaining: [start, end) pairs, positives, seconds} (got ${JSON.stringify(p)})`);
    }
  } else if (o['partial'] !== undefined) {
    bad('no partial epoch in a format 1 header');
  }
  for (const k of ['entities', 'relations', 'optimizer'] as const) {
    if (!count(o[k])) bad(`a header whose ${k} count is a non-negative integer (got ${JSON.stringify(o[k])})`);
  }
  const problem = headerProblem(o['epochs'], o['positives'], o['trainSeconds']);
  if (problem !== null)
    bad(`a header whose ${problem.field} is ${problem.expected} (got ${JSON.stringify(problem.value)})`);
  return o as unknown as Header;
}

/**
 * What is wrong with the epoch reports and counters of a state, or null:
 * each epoch report has a non-negative integer epoch, a finite loss, a
 * non-negative integer count of positives and finite non-negative
 * seconds; the counters likewise.
 */
function headerProblem(
  epochs: unknown,
  positives: unknown,
  trainSeconds: unknown,
): { field: string; value: unknown; expected: string } | null {
  const count = (v: unknown): boolean => Number.isSafeInteger(v) && (v as number) >= 0;
  const seconds = (v: unknown): boolean => typeof v === 'number' && Number.isFinite(v) && v >= 0;
  if (!Array.isArray(epochs)) return { field: 'epochs', value: epochs, expected: 'an array of epoch reports' };
  for (let i = 0; i < epochs.length; i++) {
    const e = epochs[i] as Partial<TrainingState['epochs'][number]> | null;
    if (e === null || typeof e !== 'object') return { field: `epochs[${i}]`, value: e, expected: 'an epoch report' };
    if (!count(e.epoch)) return { field: `epochs[${i}].epoch`, value: e.epoch, expected: 'a non-negative integer' };
    if (!(typeof e.loss === 'number' && Number.isFinite(e.loss)))
      return { field: `epochs[${i}].loss`, value: e.loss, expected: 'a finite number' };
    if (!count(e.positives))
      return { field: `epochs[${i}].positives`, value: e.positives, expected: 'a non-negative integer' };
    if (!seconds(e.seconds))
      return { field: `epochs[${i}].seconds`, value: e.seconds, expected: 'a finite number >= 0' };
  }
  if (!count(positives)) return { field: 'positives', value: positives, expected: 'a non-negative integer' };
  if (!seconds(trainSeconds)) return { field: 'trainSeconds', value: trainSeconds, expected: 'a finite number >= 0' };
  return null;
}

function swap32(b: Uint8Array): void {
  for (let i = 0; i + 3 < b.length; i += 4) {
    const a0 = b[i]!;
    const a1 = b[i + 1]!;
    b[i] = b[i + 3]!;
    b[i + 1] = b[i + 2]!;
    b[i + 2] = a1;
    b[i + 3] = a0;
  }
}
