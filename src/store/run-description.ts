/**
 * The description of a training run, kept beside its checkpoint store: the
 * entries of a store hold a run's tables and training state but not what
 * they mean (the model, its dim, the row widths, the dataset), and a
 * fingerprint cannot be read backwards. A run writes its description once,
 * when it starts, as `<store>/runs/<fingerprint>.json` (atomically: a reader
 * sees the old file or the new one, never a mix); `kgshard eval
 * --checkpoint-dir` reads it to rebuild the model and find the dataset.
 *
 * The file is JSON, keys as in saved embeddings' `config.json`:
 *
 *   format          "kgshard-run"
 *   version         1
 *   fingerprint     the run's problem key (64 hex digits), as in the file name
 *   near_key        its near-match key (entity and relation id maps, shapes)
 *   model, dim      the canonical model name and its rank
 *   entity_width, relation_width    floats per entity and relation row
 *   num_entities, num_relations, train_triples
 *   dataset         { name, path? }: where the run's data came from
 *   hyper           the hyper-parameters of the problem key, by JSON key
 *   epochs_planned  the epochs the run that wrote it was set to train
 *   created         ISO 8601 time of writing
 *
 * Like the store, this module knows no models: whether the widths fit the
 * model and dim is checked by the caller.
 */
import { mkdirSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../atomic-write.js';
import { decodeUtf8, NO_FIELD, parseJsonText } from '../data/text-input.js';
import { KgError, datasetError, invalidArgument } from '../errors.js';
import { errnoText } from './embeddings/files.js';

export const RUN_DESCRIPTION_FORMAT = 'kgshard-run';
export const RUN_DESCRIPTION_VERSION = 1;
/** The folder of run descriptions inside a checkpoint store. */
export const RUNS_FOLDER = 'runs';

const FINGERPRINT = /^[0-9a-f]{64}$/;
const SUFFIX = '.json';

export interface RunDescription {
  /** The problem key of the run (its entries' fingerprint). */
  readonly fingerprint: string;
  /** The near-match key: entity and relation id maps and shapes. */
  readonly nearKey: string;
  readonly model: string;
  readonly dim: number;
  readonly entityWidth: number;
  readonly relationWidth: number;
  readonly entities: number;
  readonly relations: number;
  readonly trainTriples: number;
  /** Where the data came from: a built-in name, or a name and a directory. */
  readonly dataset: { readonly name: string; readonly path?: string };
  /** The hyper-parameters of the problem key, by JSON key. */
  readonly hyper: Readonly<Record<string, string | number | boolean>>;
  readonly epochsPlanned: number;
  /** When the description was written (ISO 8601). */
  readonly created: string;
}

/** The description file of run `fingerprint` in the store in `storeDir`. */
export function runDescriptionPath(storeDir: string, fingerprint: string): string {
  if (typeof fingerprint !== 'string' || !FINGERPRINT.test(fingerprint))
    throw invalidArgument('runDescriptionPath', 'fingerprint', fingerprint, '64 lowercase hex digits');
  return join(storeDir, RUNS_FOLDER, `${fingerprint}${SUFFIX}`);
}

/**
 * Write `d` as the description of its run in the store in `storeDir`
 * (atomically, replacing an earlier one); returns the file's path. A
 * failed write throws E_STORE_WRITE naming the file; the previous
 * description, if any, is intact.
 */
export function writeRunDescription(storeDir: string, d: RunDescription): string {
  const problem = describeProblem(d as unknown as Record<string, unknown>, false);
  if (problem !== null) throw invalidArgument('writeRunDescription', 'description', d, problem);
  const path = runDescriptionPath(storeDir, d.fingerprint);
  const json = {
    format: RUN_DESCRIPTION_FORMAT,
    version: RUN_DESCRIPTION_VERSION,
    fingerprint: d.fingerprint,
    near_key: d.nearKey,
    model: d.model,
    dim: d.dim,
    entity_width: d.entityWidth,
    relation_width: d.relationWidth,
    num_entities: d.entities,
    num_relations: d.relations,
    train_triples: d.trainTriples,
    dataset: d.dataset.path === undefined ? { name: d.dataset.name } : { name: d.dataset.name, path: d.dataset.path },
    hyper: d.hyper,
    epochs_planned: d.epochsPlanned,
    created: d.created,
  };
  try {
    mkdirSync(join(storeDir, RUNS_FOLDER), { recursive: true });
    writeFileAtomic(path, Buffer.from(`${JSON.stringify(json, null, 2)}\n`, 'utf8'));
  } catch (e) {
    throw new KgError('E_STORE_WRITE', `${path}: could not write the run description (${errnoText(e)})`, {
      path,
      code: (e as NodeJS.ErrnoException).code,
    });
  }
  return path;
}

/**
 * Read the description of run `fingerprint` in the store in `storeDir`.
 * A missing, unreadable or damaged file (not JSON, another format or
 * version, a field missing or of the wrong type, another run's
 * fingerprint) throws E_DATASET naming the file and what is wrong.
 */
export function readRunDescription(storeDir: string, fingerprint: string): RunDescription {
  const path = runDescriptionPath(storeDir, fingerprint);
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    const code = errnoText(e);
    throw datasetError(
      path,
      code === 'ENOENT'
        ? 'no run description (a run writes it when it starts; runs checkpointed by an older kgshard have none)'
        : `cannot read the run description (${code})`,
      { code },
    );
  }
  const x = parseJsonText(decodeUtf8(bytes, path, NO_FIELD), path);
  if (x === null || typeof x !== 'object' || Array.isArray(x)) throw datasetError(path, 'not a JSON object');
  const c = x as Record<string, unknown>;
  if (c['format'] !== RUN_DESCRIPTION_FORMAT)
    throw datasetError(
      path,
      `format must be ${JSON.stringify(RUN_DESCRIPTION_FORMAT)}, got ${JSON.stringify(c['format'])}`,
    );
  if (c['version'] !== RUN_DESCRIPTION_VERSION)
    throw datasetError(path, `version ${String(c['version'])} is not supported (expected ${RUN_DESCRIPTION_VERSION})`);
  const d = fromJson(c);
  const problem = describeProblem(d as unknown as Record<string, unknown>, true);
  if (problem !== null) throw datasetError(path, problem);
  if (d.fingerprint !== fingerprint)
    throw datasetError(path, `holds the description of run ${d.fingerprint}, not of ${fingerprint}`);
  return d;
}

/** The fingerprints of the runs described in the store in `storeDir` (sorted; none when there is no folder). */
export function describedRuns(storeDir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(join(storeDir, RUNS_FOLDER));
  } catch {
    return [];
  }
  return names
    .filter((n) => n.endsWith(SUFFIX) && FINGERPRINT.test(n.slice(0, -SUFFIX.length)))
    .map((n) => n.slice(0, -SUFFIX.length))
    .sort();
}

function fromJson(c: Record<string, unknown>): RunDescription {
  const ds = c['dataset'];
  const dataset = ds !== null && typeof ds === 'object' && !Array.isArray(ds) ? (ds as Record<string, unknown>) : {};
  return {
    fingerprint: c['fingerprint'] as string,
    nearKey: c['near_key'] as string,
    model: c['model'] as string,
    dim: c['dim'] as number,
    entityWidth: c['entity_width'] as number,
    relationWidth: c['relation_width'] as number,
    entities: c['num_entities'] as number,
    relations: c['num_relations'] as number,
    trainTriples: c['train_triples'] as number,
    dataset:
      dataset['path'] === undefined
        ? { name: dataset['name'] as string }
        : { name: dataset['name'] as string, path: dataset['path'] as string },
    hyper: c['hyper'] as Record<string, string | number | boolean>,
    epochsPlanned: c['epochs_planned'] as number,
    created: c['created'] as string,
  };
}

/**
 * What is wrong with a description, or null. Named by its JSON keys when
 * read from a file (`json`), by its field names when given to the writer.
 */
function describeProblem(d: Record<string, unknown>, json: boolean): string | null {
  const key = (field: string, jsonKey: string): string => (json ? jsonKey : field);
  const got = (v: unknown): string => JSON.stringify(v) ?? String(v);
  const hex = (field: string, jsonKey: string, v: unknown): string | null =>
    typeof v === 'string' && FINGERPRINT.test(v)
      ? null
      : `${key(field, jsonKey)} must be 64 lowercase hex digits, got ${got(v)}`;
  const count = (field: string, jsonKey: string, min: number): string | null => {
    const v = d[field];
    return Number.isSafeInteger(v) && (v as number) >= min
      ? null
      : `${key(field, jsonKey)} must be an integer >= ${min}, got ${got(v)}`;
  };
  const text = (field: string, jsonKey: string, v: unknown): string | null =>
    typeof v === 'string' && v !== '' ? null : `${key(field, jsonKey)} must be a non-empty string, got ${got(v)}`;
  const hyper = d['hyper'];
  const dataset = (d['dataset'] ?? {}) as Record<string, unknown>;
  return (
    hex('fingerprint', 'fingerprint', d['fingerprint']) ??
    hex('nearKey', 'near_key', d['nearKey']) ??
    text('model', 'model', d['model']) ??
    count('dim', 'dim', 1) ??
    count('entityWidth', 'entity_width', 1) ??
    count('relationWidth', 'relation_width', 1) ??
    count('entities', 'num_entities', 1) ??
    count('relations', 'num_relations', 1) ??
    count('trainTriples', 'train_triples', 0) ??
    (typeof dataset['name'] === 'string' ? null : `dataset.name must be a string, got ${got(dataset['name'])}`) ??
    (dataset['path'] === undefined ? null : text('dataset.path', 'dataset.path', dataset['path'])) ??
    (hyper !== null &&
    typeof hyper === 'object' &&
    !Array.isArray(hyper) &&
    Object.values(hyper).every((v) => ['string', 'number', 'boolean'].includes(typeof v))
      ? null
      : `hyper must be an object of strings, numbers and booleans, got ${got(hyper)}`) ??
    count('epochsPlanned', 'epochs_planned', 0) ??
    text('created', 'created', d['created'])
  );
}
