/**
 * The mutation campaign, one property per kind of file kgshard reads. For
 * each run: write a small valid file set, damage one file with a mutator
 * from `mutate.ts`, hash the directory, load it the way kgshard does, hash
 * again. The load must either
 *   - fail with a KgError whose message is one line naming the file (and,
 *     for a TSV split, the exact line a reference parser finds), or
 *   - load exactly what the damaged bytes say (checked per kind against an
 *     independent reading of the bytes, or by a re-save round trip);
 * never throw anything else, never leave the directory changed, and hold
 * no more buffer memory than the files' size justifies.
 *
 * `runKind` is what both the `npm test` properties (few runs) and the
 * `mutation` soak (many runs) call.
 */
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { openEmbeddings } from '../../src/kge/embeddings-io.js';
import { buildDataset } from '../../src/data/dataset.js';
import { loadTsvDir } from '../../src/data/tsv.js';
import { KgError } from '../../src/errors.js';
import { loadEmbeddings, saveEmbeddings, type Embeddings, type LoadedEmbeddings } from '../../src/kge/embeddings-io.js';
import { createModel, MODEL_NAMES } from '../../src/kge/models/index.js';
import { CheckpointStore, encodeEntry, decodeEntry, type StoreEntry } from '../../src/store/checkpoint-store.js';
import { frameDurable, unframeDurable } from '../../src/store/durable.js';
import { exportEmbeddings, type ExportFormat } from '../../src/store/embeddings/export.js';
import { encodeNpy, readNpy } from '../../src/store/embeddings/npy.js';
import { RelationStats, StatsPersister, STATS_KIND } from '../../src/store/running-stats.js';
import { decodeTrainerSnapshot, encodeTrainerSnapshot, type TrainingState } from '../../src/store/train-state.js';
import {
  assertOneLine,
  attempt,
  binarySize,
  bufferBytes,
  hashTree,
  jsonSize,
  mutator,
  textSize,
  type DeclaredSize,
  type Mutator,
} from './mutate.js';
import { check } from './prop.js';

export const MUTATION_KINDS = [
  'tsv',
  'npy',
  'embeddings',
  'export-npy',
  'export-tsv',
  'export-word2vec',
  'checkpoint',
  'relation-stats',
] as const;
export type MutationKind = (typeof MUTATION_KINDS)[number];

export interface KindReport {
  readonly kind: MutationKind;
  /** Mutants loaded. */
  readonly tried: number;
  /** Refused with a one-line KgError (or, for store files, a one-line warning and nothing loaded). */
  readonly errors: number;
  /** Loaded, and what was loaded is exactly what the bytes say. */
  readonly exact: number;
}

/** One target a run may damage: a file, or a layer inside a framed file (re-sealed so the checksum holds). */
interface Target<D> {
  readonly name: string;
  readonly sizes: readonly DeclaredSize[];
  /** Apply `m` on disk; return the path of the file damaged. */
  damage(dir: string, d: D, m: Mutator): string;
}

interface Spec<D, T> {
  readonly data: fc.Arbitrary<D>;
  write(dir: string, d: D): void;
  readonly targets: readonly Target<D>[];
  /** Load as kgshard does. A KgError is a refusal; `null` is a refusal reported as a warning (in `warnings`). */
  load(dir: string, d: D, warnings: string[]): T;
  /**
   * The load succeeded: throw unless `value` is exactly what the files in `dir` say. Return 'error' when the loader
   * reported a refusal by warning.
   */
  exact(dir: string, d: D, value: T, warnings: readonly string[], damaged: string): 'exact' | 'error';
  /** The load threw `e`: throw unless it is the right refusal (e.g. the right line). */
  refused?(dir: string, d: D, e: KgError, damaged: string): void;
}

const fail = (what: string): never => {
  throw new Error(what);
};

/** Float32 values of `bytes` (a copy, so a Buffer's pool or offset does not matter). */
const f32Of = (bytes: Uint8Array): Float32Array => new Float32Array(Uint8Array.from(bytes).buffer);

const bitsOf = (t: Float32Array): number[] => Array.from(new Uint32Array(t.buffer, t.byteOffset, t.length));

function sameBits(what: string, a: Float32Array, b: Float32Array): void {
  if (a.length !== b.length) fail(`${what}: ${a.length} floats, expected ${b.length}`);
  const x = bitsOf(a);
  const y = bitsOf(b);
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) fail(`${what}: float ${i} differs`);
}

function fileTarget<D>(
  name: string,
  sizes: readonly DeclaredSize[] = [],
  file: (d: D) => string = () => name,
): Target<D> {
  return {
    name,
    sizes,
    damage(dir, d, m) {
      const path = join(dir, file(d));
      writeFileSync(path, m.apply(readFileSync(path)));
      return path;
    },
  };
}

// ---------------------------------------------------------------- samples of every kind
// (for "swap in a file of another kind")

let samples: { kind: string; bytes: Uint8Array }[] | null = null;

function otherKinds(): { kind: string; bytes: Uint8Array }[] {
  if (samples !== null) return samples;
  const dir = mkdtempSync(join(tmpdir(), 'kgshard-samples-'));
  try {
    const e: Embeddings = {
      model: 'distmult',
      dim: 2,
      entityWidth: 2,
      relationWidth: 2,
      entities: ['a', 'b'],
      relations: ['r'],
      entityTable: Float32Array.of(1, 2, 3, 4),
      relationTable: Float32Array.of(5, 6),
    };
    saveEmbeddings(join(dir, 'emb'), e);
    const exp = (format: ExportFormat) =>
      exportEmbeddings(join(dir, format), {
        format,
        dataset: 'toy',
        model: 'distmult',
        entities: ['a', 'b'],
        relations: ['r'],
        entityTable: e.entityTable,
        relationTable: e.relationTable,
        entityDim: 2,
        relationDim: 2,
        config: { dim: 2 },
      });
    const npy = exp('npy');
    const tsv = exp('tsv');
    const w2v = exp('word2vec');
    const store = CheckpointStore.open(join(dir, 'store'));
    store.save(
      'ab'.repeat(32),
      'run',
      encodeTrainerSnapshot({
        epochs: [],
        positives: 0,
        trainSeconds: 0,
        entities: e.entityTable,
        relations: e.relationTable,
        optimizer: new Float32Array(0),
      }),
    );
    const stats = new RelationStats(2);
    stats.update(1, 0.5);
    const r = (p: string): Uint8Array => readFileSync(p);
    samples = [
      { kind: 'TSV split', bytes: Buffer.from('a\tr\tb\nb\tr\ta\n') },
      { kind: 'saved entities.f32', bytes: r(join(dir, 'emb', 'entities.f32')) },
      { kind: 'id map', bytes: r(join(dir, 'emb', 'entities.tsv')) },
      { kind: 'embeddings config.json', bytes: r(join(dir, 'emb', 'config.json')) },
      { kind: 'export config.json', bytes: r(tsv.files.config) },
      { kind: '.npy', bytes: r(npy.files.entity) },
      { kind: 'TSV table', bytes: r(tsv.files.entity) },
      { kind: 'word2vec', bytes: r(w2v.files.entity) },
      {
        kind: 'checkpoint',
        bytes: r(
          join(
            dir,
            'store',
            readdirSync(join(dir, 'store')).find((n) => n.endsWith('.kgck'))!,
          ),
        ),
      },
      { kind: 'relation-stats', bytes: frameDurable(STATS_KIND, stats.serialize()) },
      { kind: 'empty', bytes: new Uint8Array(0) },
    ];
    return samples;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------- data

const NAME_PARTS = ['a', 'b', 'c', 'é', '日', '😀', ' ', '_', '\u00a0', 'Z'];
const name = fc
  .array(fc.constantFrom(...NAME_PARTS), { minLength: 1, maxLength: 3 })
  .map((p) => p.join(''))
  .filter((s) => s.trim() !== '');
const names = (min: number, max: number): fc.Arbitrary<string[]> =>
  fc.uniqueArray(name, { minLength: min, maxLength: max });
const f32 = fc.float({ noDefaultInfinity: false, noNaN: false });
const floats = (n: number): fc.Arbitrary<Float32Array> =>
  fc.array(f32, { minLength: n, maxLength: n }).map((a) => Float32Array.from(a));

interface EmbData {
  readonly model: string;
  readonly dim: number;
  readonly entityWidth: number;
  readonly relationWidth: number;
  readonly entities: string[];
  readonly relations: string[];
  readonly entityTable: Float32Array;
  readonly relationTable: Float32Array;
}

const embData: fc.Arbitrary<EmbData> = fc
  .record({
    model: fc.constantFrom(...MODEL_NAMES),
    dim: fc.integer({ min: 1, max: 3 }),
    entities: names(1, 5),
    relations: names(1, 3),
  })
  .chain(({ model, dim, entities, relations }) => {
    const s = createModel(model).shapes(dim);
    return fc.record({
      model: fc.constant(model),
      dim: fc.constant(dim),
      entityWidth: fc.constant(s.entityWidth),
      relationWidth: fc.constant(s.relationWidth),
      entities: fc.constant(entities),
      relations: fc.constant(relations),
      entityTable: floats(entities.length * s.entityWidth),
      relationTable: floats(relations.length * s.relationWidth),
    });
  });

// ---------------------------------------------------------------- shared exactness checks

const DECODER = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const CONTROL = /[\x00-\x08\x0a-\x1f\x7f-\x9f]/;

/**
 * A reference reading of a line-oriented text file, independent of
 * `text-input.ts`: lines split at 0x0A; each decoded as strict UTF-8 by
 * itself (a BOM dropped on line 1 only); the CR of a CRLF dropped; then no
 * control character but tab. Returns the lines or the 1-based line that
 * breaks the rule.
 */
export function referenceLines(
  bytes: Uint8Array,
): { ok: true; lines: string[] } | { ok: false; line: number; lines: string[] } {
  const out: string[] = [];
  let s = 0;
  let lineNo = 0;
  while (s < bytes.length) {
    let e = bytes.indexOf(0x0a, s);
    const terminated = e !== -1;
    if (!terminated) e = bytes.length;
    lineNo++;
    let text: string;
    try {
      text = DECODER.decode(bytes.subarray(s, e));
    } catch {
      return { ok: false, line: lineNo, lines: out };
    }
    if (lineNo === 1 && text.startsWith('\ufeff')) text = text.slice(1);
    if (terminated && text.endsWith('\r')) text = text.slice(0, -1);
    if (/[\x00-\x08\x0a-\x1f\x7f-\x9f]/.test(text)) return { ok: false, line: lineNo, lines: out };
    out.push(text);
    s = e + 1;
  }
  return { ok: true, lines: out };
}

/** Names a loader hands out: clean (no control character) and unique. */
function checkNames(what: string, list: readonly string[]): void {
  const seen = new Set<string>();
  for (const n of list) {
    if (typeof n !== 'string' || n === '' || CONTROL.test(n)) fail(`${what}: loaded the name ${JSON.stringify(n)}`);
    if (seen.has(n)) fail(`${what}: loaded the name ${JSON.stringify(n)} twice`);
    seen.add(n);
  }
}

/** Widths that fit the model and dim. */
function checkShape(what: string, e: { model: string; dim: number; entityWidth: number; relationWidth: number }): void {
  let s: { entityWidth: number; relationWidth: number };
  try {
    s = createModel(e.model).shapes(e.dim);
  } catch (err) {
    return fail(
      `${what}: loaded model ${JSON.stringify(e.model)} dim ${e.dim}, which is no model (${(err as Error).message})`,
    );
  }
  if (s.entityWidth !== e.entityWidth || s.relationWidth !== e.relationWidth) {
    fail(
      `${what}: loaded ${e.model} dim ${e.dim} with widths ${e.entityWidth}/${e.relationWidth}; ` +
        `the model has ${s.entityWidth}/${s.relationWidth}`,
    );
  }
}

function checkIdMap(what: string, path: string, list: readonly string[]): void {
  const ref = referenceLines(readFileSync(path));
  if (!ref.ok) return fail(`${what}: loaded ${path} though its line ${ref.line} breaks the input rule`);
  const lines = ref.lines[ref.lines.length - 1] === '' ? ref.lines.slice(0, -1) : ref.lines;
  if (lines.length !== list.length) fail(`${what}: ${path} has ${lines.length} lines, ${list.length} names loaded`);
  lines.forEach((l, i) => {
    if (l !== `${i}\t${list[i]}`)
      fail(`${what}: ${path} line ${i + 1} is ${JSON.stringify(l)}, loaded name ${JSON.stringify(list[i])}`);
  });
}

// ---------------------------------------------------------------- tsv

interface TsvData {
  readonly files: Record<'train' | 'valid' | 'test', string>;
}

const SPLITS = ['train', 'valid', 'test'] as const;

const tsvData: fc.Arbitrary<TsvData> = fc
  .record({ ents: names(2, 6), rels: names(1, 3), crlf: fc.boolean(), bom: fc.boolean(), trailing: fc.boolean() })
  .chain(({ ents, rels, crlf, bom, trailing }) => {
    const triple = fc.tuple(fc.constantFrom(...ents), fc.constantFrom(...rels), fc.constantFrom(...ents));
    const text = (rows: [string, string, string][], first: boolean): string => {
      const eol = crlf ? '\r\n' : '\n';
      const body = rows.map((t) => t.join('\t')).join(eol);
      return `${first && bom ? '\ufeff' : ''}${body}${trailing && rows.length > 0 ? eol : ''}`;
    };
    return fc.record({
      files: fc.record({
        train: fc.array(triple, { minLength: 1, maxLength: 8 }).map((r) => text(r, true)),
        valid: fc.array(triple, { maxLength: 4 }).map((r) => text(r, false)),
        test: fc.array(triple, { maxLength: 4 }).map((r) => text(r, false)),
      }),
    });
  });

type Triples = [string, string, string][];

function referenceTriples(bytes: Uint8Array): { ok: true; rows: Triples } | { ok: false; line: number } {
  // Lines in file order: the good lines above the first undecodable or control-character line come first.
  const ref = referenceLines(bytes);
  const rows: Triples = [];
  for (let i = 0; i < ref.lines.length; i++) {
    const l = ref.lines[i]!;
    if (l.trim() === '') continue;
    const f = l.split('\t');
    if (f.length !== 3 || f.some((x) => x === '')) return { ok: false, line: i + 1 };
    rows.push(f as [string, string, string]);
  }
  return ref.ok ? { ok: true, rows } : { ok: false, line: ref.line };
}

const tsvSpec: Spec<TsvData, ReturnType<typeof loadTsvDir>> = {
  data: tsvData,
  write(dir, d) {
    for (const s of SPLITS) writeFileSync(join(dir, `${s}.tsv`), d.files[s]);
  },
  targets: SPLITS.map((s) => fileTarget<TsvData>(`${s}.tsv`)),
  load: (dir) => loadTsvDir(dir, 'm'),
  exact(dir, _d, ds) {
    const splits = {} as Record<(typeof SPLITS)[number], Triples>;
    for (const s of SPLITS) {
      const r = referenceTriples(readFileSync(join(dir, `${s}.tsv`)));
      if (!r.ok) return fail(`loaded ${s}.tsv though its line ${r.line} is malformed`);
      splits[s] = r.rows;
    }
    const want = buildDataset('m', splits);
    if (JSON.stringify(ds.entities) !== JSON.stringify(want.entities))
      fail('entities differ from the reference reading');
    if (JSON.stringify(ds.relations) !== JSON.stringify(want.relations))
      fail('relations differ from the reference reading');
    for (const s of SPLITS) {
      if (JSON.stringify([...ds[s].triples]) !== JSON.stringify([...want[s].triples]))
        fail(`${s} triples differ from the reference reading`);
    }
    return 'exact';
  },
  refused(dir, _d, e, damaged) {
    for (const s of SPLITS) {
      const path = join(dir, `${s}.tsv`);
      const r = referenceTriples(readFileSync(path));
      if (!r.ok) {
        if (!e.message.startsWith(`${path}:${r.line}: `))
          fail(`expected an error at ${path}:${r.line}, got ${JSON.stringify(e.message)}`);
        return;
      }
      if (s === 'train' && r.rows.length === 0) {
        if (e.message !== `${path}: train split has no triples`)
          fail(`expected "train split has no triples", got ${JSON.stringify(e.message)}`);
        return;
      }
    }
    fail(`refused ${damaged}, which the reference reads: ${JSON.stringify(e.message)}`);
  },
};

// ---------------------------------------------------------------- npy

interface NpyData {
  readonly rows: number;
  readonly cols: number;
  readonly data: Float32Array;
}

const npyData: fc.Arbitrary<NpyData> = fc
  .record({ rows: fc.integer({ min: 0, max: 5 }), cols: fc.integer({ min: 1, max: 4 }) })
  .chain(({ rows, cols }) =>
    fc.record({ rows: fc.constant(rows), cols: fc.constant(cols), data: floats(rows * cols) }),
  );

export const NPY_SIZES: readonly DeclaredSize[] = [
  binarySize('header length', 8, 2),
  textSize('shape rows', /'shape': \((\d+)/),
  textSize('shape cols', /'shape': \(\d+, (\d+)/),
];

/**
 * A reference reading of a `.npy` header by NEP 1 and `numpy.lib.format`:
 * magic, version 1.0 (u16 length) or 2.0 (u32), then an ASCII Python dict
 * literal with exactly the keys descr, fortran_order, shape, optional
 * whitespace (space, tab, CR, LF, as Python allows between tokens) and
 * trailing comma, then only whitespace (the padding and the newline).
 */
export function referenceNpy(
  b: Uint8Array,
): { rows: number; cols: number; start: number; descr: string; fortran: boolean } | null {
  if (b.length < 10 || Buffer.from(b.subarray(0, 6)).toString('latin1') !== '\x93NUMPY') return null;
  const major = b[6]!;
  if (!((major === 1 || major === 2) && b[7] === 0)) return null;
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  if (major === 2 && b.length < 12) return null;
  const hl = major === 1 ? dv.getUint16(8, true) : dv.getUint32(8, true);
  const start = (major === 1 ? 10 : 12) + hl;
  if (start > b.length) return null;
  const h = Buffer.from(b.subarray(major === 1 ? 10 : 12, start)).toString('latin1');
  if (/[^\x20-\x7e\t\r\n]/.test(h)) return null;
  const ws = '[ \\t\\r\\n]*';
  const str = `(?:'([^'\\\\]*)'|"([^"\\\\]*)")`;
  const item =
    `${ws}${str}${ws}:${ws}((?:'[^'\\\\]*'|"[^"\\\\]*")|True|False|` +
    `\\(${ws}(?:0|[1-9]\\d*)${ws}(?:,${ws}(?:0|[1-9]\\d*)${ws})*,?${ws}\\))${ws}`;
  const m = new RegExp(`^${ws}\\{((?:${item},)*${item},?${ws})\\}${ws}$`).exec(h);
  if (!m) return null;
  const dict = new Map<string, string>();
  const itemRe = new RegExp(`${str}${ws}:${ws}((?:'[^'\\\\]*'|"[^"\\\\]*")|True|False|\\([^)]*\\))`, 'g');
  let im: RegExpExecArray | null;
  while ((im = itemRe.exec(m[1]!)) !== null) {
    const k = im[1] ?? im[2]!;
    if (dict.has(k)) return null;
    dict.set(k, im[3]!);
  }
  if (dict.size !== 3 || !dict.has('descr') || !dict.has('fortran_order') || !dict.has('shape')) return null;
  const descr = dict.get('descr')!;
  if (!/^['"]/.test(descr)) return null;
  const fo = dict.get('fortran_order')!;
  if (fo !== 'True' && fo !== 'False') return null;
  const dims = dict
    .get('shape')!
    .slice(1, -1)
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (dims.length !== 2) return null;
  return { rows: Number(dims[0]), cols: Number(dims[1]), start, descr: descr.slice(1, -1), fortran: fo === 'True' };
}

const npySpec: Spec<NpyData, ReturnType<typeof readNpy>> = {
  data: npyData,
  write(dir, d) {
    writeFileSync(join(dir, 't.npy'), encodeNpy(d.rows, d.cols, d.data));
  },
  targets: [fileTarget<NpyData>('t.npy', NPY_SIZES)],
  load: (dir) => readNpy(join(dir, 't.npy')),
  exact(dir, _d, t) {
    const b = readFileSync(join(dir, 't.npy'));
    const ref = referenceNpy(b);
    if (ref === null) return fail('loaded a .npy whose header the reference refuses');
    if (ref.descr !== '<f4' || ref.fortran) fail(`loaded a ${ref.descr} fortran=${ref.fortran} table as '<f4' C order`);
    if (t.rows !== ref.rows || t.cols !== ref.cols)
      fail(`loaded ${t.rows} x ${t.cols}, the header says ${ref.rows} x ${ref.cols}`);
    if (b.length - ref.start !== ref.rows * ref.cols * 4)
      fail(`loaded a table of ${b.length - ref.start} data bytes for shape ${ref.rows} x ${ref.cols}`);
    const want = f32Of(b.subarray(ref.start));
    sameBits('table', t.data, want);
    return 'exact';
  },
};

// ---------------------------------------------------------------- saved embeddings

const EMB_CONFIG_SIZES = ['num_entities', 'num_relations', 'dim', 'entity_width', 'relation_width'].map((k) =>
  jsonSize(k, [k]),
);
const ID_MAP_SIZES = [textSize('first id', /^(\d+)\t/m), textSize('last id', /\n(\d+)\t[^\n]*\n?$/)];

const embSpec: Spec<EmbData, LoadedEmbeddings> = {
  data: embData,
  write(dir, d) {
    saveEmbeddings(dir, d, { dataset: { name: 'toy' } });
  },
  targets: [
    fileTarget<EmbData>('entities.f32'),
    fileTarget<EmbData>('relations.f32'),
    fileTarget<EmbData>('entities.tsv', ID_MAP_SIZES),
    fileTarget<EmbData>('relations.tsv', ID_MAP_SIZES),
    fileTarget<EmbData>('config.json', EMB_CONFIG_SIZES),
  ],
  load: (dir) => loadEmbeddings(dir),
  exact(dir, _d, e) {
    checkShape('embeddings', e);
    checkNames('entities', e.entities);
    checkNames('relations', e.relations);
    checkIdMap('entities', join(dir, 'entities.tsv'), e.entities);
    checkIdMap('relations', join(dir, 'relations.tsv'), e.relations);
    const cfg = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as Record<string, unknown>;
    if (cfg['num_entities'] !== e.entities.length || cfg['num_relations'] !== e.relations.length)
      fail('counts differ from config.json');
    if (
      cfg['dim'] !== e.dim ||
      cfg['entity_width'] !== e.entityWidth ||
      cfg['relation_width'] !== e.relationWidth ||
      cfg['model'] !== e.model
    )
      fail('shape differs from config.json');
    sameBits('entities.f32', e.entityTable, f32Of(readFileSync(join(dir, 'entities.f32'))));
    sameBits('relations.f32', e.relationTable, f32Of(readFileSync(join(dir, 'relations.f32'))));
    return 'exact';
  },
};

// ---------------------------------------------------------------- exports
// (read as `kgshard eval --embeddings` reads them)

function exportSpec(format: ExportFormat): Spec<EmbData, LoadedEmbeddings> {
  const ext = format === 'npy' ? 'npy' : format === 'tsv' ? 'tsv' : 'txt';
  const table =
    (side: 'entity' | 'relation') =>
    (d: EmbData): string =>
      `toy_${d.model}_${side}.${ext}`;
  const tableSizes: DeclaredSize[] =
    format === 'npy'
      ? [...NPY_SIZES]
      : format === 'word2vec'
        ? [textSize('word2vec count', /^(\d+) /), textSize('word2vec dim', /^\d+ (\d+)/)]
        : [];
  const configSizes = [
    ...['num_entities', 'num_relations', 'entity_dim', 'relation_dim'].map((k) => jsonSize(k, [k])),
    jsonSize('run dim', ['run', 'dim']),
  ];
  const write = (dir: string, d: EmbData): void => {
    exportEmbeddings(dir, {
      format,
      dataset: 'toy',
      model: d.model,
      entities: d.entities,
      relations: d.relations,
      entityTable: d.entityTable,
      relationTable: d.relationTable,
      entityDim: d.entityWidth,
      relationDim: d.relationWidth,
      config: { dim: d.dim, dataset: { name: 'toy' } },
    });
  };
  return {
    data: embData,
    write,
    targets: [
      fileTarget<EmbData>('entity table', tableSizes, table('entity')),
      fileTarget<EmbData>('relation table', tableSizes, table('relation')),
      ...(format === 'npy'
        ? [fileTarget<EmbData>('entities.tsv', ID_MAP_SIZES), fileTarget<EmbData>('relations.tsv', ID_MAP_SIZES)]
        : []),
      fileTarget<EmbData>('config.json', configSizes),
    ],
    load: (dir) => openEmbeddings(dir),
    exact(dir, _d, e) {
      checkShape(`${format} export`, e);
      checkNames('entities', e.entities);
      checkNames('relations', e.relations);
      const cfg = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as Record<string, unknown>;
      if (cfg['num_entities'] !== e.entities.length || cfg['num_relations'] !== e.relations.length)
        fail('counts differ from config.json');
      if (cfg['entity_dim'] !== e.entityWidth || cfg['relation_dim'] !== e.relationWidth)
        fail('widths differ from config.json');
      if (
        e.entityTable.length !== e.entities.length * e.entityWidth ||
        e.relationTable.length !== e.relations.length * e.relationWidth
      )
        fail('table sizes differ from the counts');
      if (format === 'npy') {
        checkIdMap('entities', join(dir, 'entities.tsv'), e.entities);
        checkIdMap('relations', join(dir, 'relations.tsv'), e.relations);
      }
      // What the bytes say: exporting what was loaded and reading that back gives the same names and bits.
      const again = join(dir, '..', 'again');
      mkdirSync(again, { recursive: true });
      write(again, { ...e, entities: [...e.entities], relations: [...e.relations] });
      const back = openEmbeddings(again);
      if (
        JSON.stringify(back.entities) !== JSON.stringify(e.entities) ||
        JSON.stringify(back.relations) !== JSON.stringify(e.relations)
      )
        fail('names change in a re-export');
      sameBits('entity table after a re-export', back.entityTable, e.entityTable);
      sameBits('relation table after a re-export', back.relationTable, e.relationTable);
      return 'exact';
    },
  };
}

// ---------------------------------------------------------------- checkpoint store entries
// (envelope, entry, trainer snapshot)

interface CkptData {
  readonly fingerprint: string;
  readonly state: TrainingState;
  readonly objective: number | null;
  readonly iteration: number | null;
  readonly final: boolean;
}

const stateData: fc.Arbitrary<TrainingState> = fc.record({
  epochs: fc.array(
    fc.record({
      epoch: fc.nat(100),
      loss: fc.double({ noNaN: true, noDefaultInfinity: true }),
      positives: fc.nat(1000),
      seconds: fc.double({ min: 0, max: 100, noNaN: true }),
    }),
    { maxLength: 3 },
  ),
  positives: fc.nat(10000),
  trainSeconds: fc.double({ min: 0, max: 1000, noNaN: true }),
  entities: fc.integer({ min: 0, max: 12 }).chain(floats),
  relations: fc.integer({ min: 0, max: 6 }).chain(floats),
  optimizer: fc.integer({ min: 0, max: 6 }).chain(floats),
});

const ckptData: fc.Arbitrary<CkptData> = fc.record({
  fingerprint: fc.constantFrom('ab'.repeat(32), '0123456789abcdef'.repeat(4)),
  state: stateData,
  objective: fc.option(fc.double({ noNaN: true, noDefaultInfinity: true }), { nil: null }),
  iteration: fc.option(fc.nat(50), { nil: null }),
  final: fc.boolean(),
});

const RUN = 'run-1';
// The store deletes entries past their time-to-live when it scans, by design; with an infinite TTL a
// mutated write time cannot expire an entry, so any change on disk would be the load's own doing.
const NOW = 1_700_000_000_000;
const slot = (dir: string, d: CkptData): string => join(dir, `${d.fingerprint}--${RUN}.kgck`);
const openStore = (dir: string, warnings: string[]): CheckpointStore =>
  CheckpointStore.open(dir, { ttlMs: Infinity, now: () => NOW, onWarning: (m) => warnings.push(m) });

/** Sizes of the durable envelope: version, kind length, payload length. */
const ENVELOPE_SIZES: DeclaredSize[] = [
  binarySize('envelope version', 4, 4),
  binarySize('envelope kind length', 8, 4),
  binarySize(
    'envelope payload length',
    (b) => (b.length >= 12 ? 12 + new DataView(b.buffer, b.byteOffset).getUint32(8, true) : null),
    8,
  ),
];
const ENTRY_SIZES: DeclaredSize[] = [
  binarySize('entry header length', 0, 4),
  textSize('entry payloadLength', /"payloadLength":(\d+)/),
  textSize('entry writtenAt', /"writtenAt":(\d+)/),
];
const SNAPSHOT_SIZES: DeclaredSize[] = [
  binarySize('snapshot header length', 0, 4),
  textSize('snapshot entities', /"entities":(\d+)/),
  textSize('snapshot relations', /"relations":(\d+)/),
  textSize('snapshot optimizer', /"optimizer":(\d+)/),
  textSize('snapshot epochs count', /"positives":(\d+)/),
];

/** The payload of a durable file, read by the envelope layout (the file is known good when this is called). */
function payloadOf(framed: Uint8Array): Uint8Array {
  const k = new DataView(framed.buffer, framed.byteOffset).getUint32(8, true);
  return framed.subarray(12 + k + 8 + 32);
}

function referenceEntry(payload: Uint8Array): Record<string, unknown> {
  const h = new DataView(payload.buffer, payload.byteOffset).getUint32(0, true);
  return JSON.parse(Buffer.from(payload.subarray(4, 4 + h)).toString('utf8')) as Record<string, unknown>;
}

const ckptSpec: Spec<CkptData, { entries: StoreEntry[]; states: TrainingState[] }> = {
  data: ckptData,
  write(dir, d) {
    openStore(dir, []).save(d.fingerprint, RUN, encodeTrainerSnapshot(d.state), {
      objective: d.objective,
      iteration: d.iteration,
      kind: d.final ? 'final' : 'checkpoint',
    });
  },
  targets: [
    fileTarget<CkptData>('checkpoint file', ENVELOPE_SIZES, (d) => `${d.fingerprint}--${RUN}.kgck`),
    {
      name: 'checkpoint entry (re-sealed)',
      sizes: ENTRY_SIZES,
      damage(dir, d, m) {
        const path = slot(dir, d);
        writeFileSync(path, frameDurable('checkpoint', m.apply(payloadOf(readFileSync(path)))));
        return path;
      },
    },
    {
      name: 'trainer snapshot (re-sealed)',
      sizes: SNAPSHOT_SIZES,
      damage(dir, d, m) {
        const path = slot(dir, d);
        const e = decodeEntry(payloadOf(readFileSync(path))) as StoreEntry;
        writeFileSync(path, frameDurable('checkpoint', encodeEntry({ ...e, payload: m.apply(e.payload) })));
        return path;
      },
    },
  ],
  load(dir, _d, warnings) {
    const store = openStore(dir, warnings);
    const entries = store.entries();
    return {
      entries,
      states: entries.map((e) => decodeTrainerSnapshot(e.payload, store.slotPath(e.fingerprint, e.runId))),
    };
  },
  exact(dir, d, v, warnings, damaged) {
    if (v.entries.length === 0) {
      if (warnings.length !== 1) fail(`no entry loaded and ${warnings.length} warnings`);
      assertOneLine('warning', warnings[0]!, damaged);
      return 'error';
    }
    if (warnings.length !== 0) fail(`an entry loaded and a warning: ${warnings[0]}`);
    if (v.entries.length !== 1) fail(`${v.entries.length} entries from one file`);
    const framed = readFileSync(slot(dir, d));
    const u = unframeDurable(framed, 'checkpoint', damaged);
    if (!u.ok) return fail(`loaded an entry from a file the envelope refuses: ${u.message}`);
    const e = v.entries[0]!;
    const h = referenceEntry(u.payload);
    for (const k of ['fingerprint', 'nearKey', 'runId', 'objective', 'iteration', 'kind', 'writtenAt'] as const) {
      if (JSON.stringify(e[k]) !== JSON.stringify(h[k] ?? null))
        fail(`entry ${k} is ${JSON.stringify(e[k])}, the header says ${JSON.stringify(h[k])}`);
    }
    // The snapshot: its header's counts and reports, then the floats that follow, bit for bit.
    const p = e.payload;
    const hl = new DataView(p.buffer, p.byteOffset).getUint32(0, true);
    const sh = JSON.parse(Buffer.from(p.subarray(4, 4 + hl)).toString('utf8')) as Record<string, unknown>;
    const s = v.states[0]!;
    const counts = [sh['entities'], sh['relations'], sh['optimizer']];
    if (!counts.every((c) => Number.isSafeInteger(c) && (c as number) >= 0))
      fail(`decoded a snapshot whose header counts are ${JSON.stringify(counts)}`);
    if (s.entities.length !== counts[0] || s.relations.length !== counts[1] || s.optimizer.length !== counts[2])
      fail('decoded lengths differ from the header');
    if (
      !Array.isArray(s.epochs) ||
      !s.epochs.every(
        (x) =>
          x !== null &&
          typeof x === 'object' &&
          ['epoch', 'loss', 'positives', 'seconds'].every(
            (k) =>
              typeof (x as Record<string, unknown>)[k] === 'number' ||
              (k === 'loss' && (x as Record<string, unknown>)[k] === null),
          ),
      )
    ) {
      fail(`decoded epochs ${JSON.stringify(s.epochs)}`);
    }
    if (typeof s.positives !== 'number' || typeof s.trainSeconds !== 'number')
      fail('decoded counters that are not numbers');
    const start = Math.ceil((4 + hl) / 4) * 4;
    const all = f32Of(p.subarray(start));
    const n0 = s.entities.length;
    const n1 = n0 + s.relations.length;
    sameBits('entities', s.entities, all.subarray(0, n0));
    sameBits('relations', s.relations, all.subarray(n0, n1));
    sameBits('optimizer', s.optimizer, all.subarray(n1));
    return 'exact';
  },
  refused(_dir, _d, e, damaged) {
    assertOneLine('refusal', e.message, damaged);
  },
};

// ---------------------------------------------------------------- relation statistics

interface StatsData {
  readonly relations: number;
  readonly samples: [number, number][];
}

const statsData: fc.Arbitrary<StatsData> = fc.integer({ min: 1, max: 4 }).chain((r) =>
  fc.record({
    relations: fc.constant(r),
    samples: fc.array(fc.tuple(fc.nat(r - 1), fc.double({ min: -1e6, max: 1e6, noNaN: true })), { maxLength: 12 }),
  }),
);

const STATS_FILE = 'relation-stats.kgs';

const statsSpec: Spec<StatsData, StatsPersister> = {
  data: statsData,
  write(dir, d) {
    const p = new StatsPersister(join(dir, STATS_FILE), d.relations, { every: 1_000_000 });
    for (const [r, x] of d.samples) p.record(r, x);
    p.flush(true);
  },
  targets: [
    fileTarget<StatsData>(STATS_FILE, ENVELOPE_SIZES),
    {
      name: 'statistics payload (re-sealed)',
      sizes: [binarySize('stats version', 0, 4), binarySize('stats relations', 4, 4)],
      damage(dir, _d, m) {
        const path = join(dir, STATS_FILE);
        writeFileSync(path, frameDurable(STATS_KIND, m.apply(payloadOf(readFileSync(path)))));
        return path;
      },
    },
  ],
  load: (dir, d, warnings) =>
    new StatsPersister(join(dir, STATS_FILE), d.relations, { onWarning: (m) => warnings.push(m) }),
  exact(dir, _d, p, warnings, damaged) {
    if (p.start === 'recovered') {
      if (warnings.length !== 1) fail(`recovered with ${warnings.length} warnings`);
      assertOneLine('warning', warnings[0]!, damaged);
      if (p.stats.total() !== 0) fail('recovered statistics are not fresh');
      return 'error';
    }
    if (p.start !== 'loaded') return fail(`start ${p.start} for a file that exists`);
    if (warnings.length !== 0) fail(`loaded with a warning: ${warnings[0]}`);
    const u = unframeDurable(readFileSync(join(dir, STATS_FILE)), STATS_KIND, damaged);
    if (!u.ok) return fail('loaded a file the envelope refuses');
    if (Buffer.compare(Buffer.from(p.stats.serialize()), Buffer.from(u.payload)) !== 0)
      fail('loaded statistics do not serialize back to the payload');
    return 'exact';
  },
};

// ---------------------------------------------------------------- the campaign

function specOf(kind: MutationKind): Spec<unknown, unknown> {
  switch (kind) {
    case 'tsv':
      return tsvSpec;
    case 'npy':
      return npySpec;
    case 'embeddings':
      return embSpec;
    case 'export-npy':
      return exportSpec('npy');
    case 'export-tsv':
      return exportSpec('tsv');
    case 'export-word2vec':
      return exportSpec('word2vec');
    case 'checkpoint':
      return ckptSpec;
    case 'relation-stats':
      return statsSpec;
  }
}

/**
 * Where mutants are written: a memory file system when there is one (the
 * writers fsync every file, which on a disk costs more than the load under
 * test), else the temporary directory.
 */
function scratch(): string {
  try {
    if (statSync('/dev/shm').isDirectory()) return '/dev/shm';
  } catch {
    // no /dev/shm
  }
  return tmpdir();
}

function dirBytes(dir: string): number {
  let n = 0;
  for (const name of readdirSync(dir)) n += statSync(join(dir, name)).size;
  return n;
}

/**
 * Run the property for `kind` with `runs` runs (KGSHARD_RUNS overrides,
 * KGSHARD_SEED seeds it); throws with the seed printed when a mutant is
 * mishandled. Returns the counts.
 */
export async function runKind(kind: MutationKind, runs: number): Promise<KindReport> {
  const spec = specOf(kind);
  const others = otherKinds();
  const root = mkdtempSync(join(scratch(), `kgshard-mut-${kind}-`));
  let tried = 0;
  let errors = 0;
  let exact = 0;
  let n = 0;
  const arb = fc.tuple(
    spec.data,
    fc.nat(spec.targets.length - 1).chain((t) => fc.tuple(fc.constant(t), mutator(spec.targets[t]!.sizes, others))),
  );
  try {
    await check(
      fc.property(arb, ([d, [t, m]]) => {
        const base = join(root, `r${n++}`);
        const dir = join(base, 'files');
        mkdirSync(dir, { recursive: true });
        try {
          spec.write(dir, d);
          const target = spec.targets[t]!;
          const label = `${kind}: ${target.name}: ${m.label}`;
          const damaged = target.damage(dir, d, m);
          const before = hashTree(dir);
          const size = dirBytes(dir);
          const warnings: string[] = [];
          const mem = bufferBytes();
          const out = attempt(label, () => spec.load(dir, d, warnings));
          const held = bufferBytes() - mem;
          if (hashTree(dir) !== before) fail(`${label}: loading changed the files on disk`);
          let verdict: 'exact' | 'error';
          if (out.ok) {
            if (held > 16 * size + (256 << 10))
              fail(`${label}: the load holds ${held} bytes of buffers for ${size} bytes of files`);
            try {
              verdict = spec.exact(dir, d, out.value, warnings, damaged);
            } catch (e) {
              throw new Error(`${label}: ${(e as Error).message}`, { cause: e });
            }
          } else {
            assertOneLine(label, out.error.message, kind === 'embeddings' || kind.startsWith('export') ? dir : damaged);
            try {
              spec.refused?.(dir, d, out.error, damaged);
            } catch (e) {
              throw new Error(`${label}: ${(e as Error).message}`, { cause: e });
            }
            verdict = 'error';
          }
          tried++;
          if (verdict === 'exact') exact++;
          else errors++;
        } finally {
          rmSync(base, { recursive: true, force: true });
        }
      }),
      runs,
      { includeErrorInReport: true },
    );
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
  return { kind, tried, errors, exact };
}
