/**
 * `kgshard train`: flags to options (read through the settings table,
 * `src/kge/hyper.ts`), one library call (`runTraining`), and its report as
 * a table or as JSON. Ctrl-C aborts the run's AbortSignal: training stops
 * after the epoch in progress and the run ends as usual.
 */
import { availableParallelism } from 'node:os';
import { KgError } from '../errors.js';
import { DEFAULT_MODEL, MODEL_DEFAULTS } from '../kge/defaults.js';
import { PER_MODEL_SETTINGS, SETTINGS, flagOf, type HelpSection } from '../kge/hyper.js';
import { outcomeJson } from '../kge/training/evaluation.js';
import type { TrainingOptions } from '../kge/training/options.js';
import { resolveTrainOptions, settingsJson } from '../kge/training/options.js';
import {
  prepareTraining,
  runTraining,
  type PreparedTraining,
  type TrainingHooks,
  type TrainingReport,
} from '../kge/training/run.js';
import { datasetLine, openDataset, type OpenedDataset } from './dataset.js';
import {
  asUsage,
  bool,
  clock,
  commandLine,
  compact,
  parseFlags,
  readSetting,
  settingSpecs,
  str,
  usage,
  type FlagSpecs,
} from './flags.js';
import { checkReportPath, writeTrainReport } from '../report/file.js';
import { metricsTable, perRelationTable } from './metrics.js';
import { StatusLine, TrainProgress } from './progress.js';

/** The flags of the command itself, beside the settings' (rows of the same shape, for the parser and the help). */
const COMMAND_FLAGS: readonly {
  name: string;
  flag: string;
  arg?: string;
  short?: string;
  section: HelpSection;
  help: readonly string[];
}[] = [
  {
    name: 'dataset',
    flag: '--dataset',
    arg: 'NAME|DIR',
    section: 'data',
    help: [
      'wordnet: the built-in WordNet graph, WN18RR-style',
      '(default); wordnet-lf: its leak-free version; or a',
      'directory holding train, valid and test as .tsv/.txt',
    ],
  },
  { name: 'json', flag: '--json', section: 'output', help: ['print one JSON object instead of the table'] },
  {
    name: 'per-relation',
    flag: '--per-relation',
    section: 'output',
    help: ['also print MRR, MR and Hits@k per relation (worst', 'first); --json always holds them (per_relation)'],
  },
  {
    name: 'report',
    flag: '--report',
    arg: 'FILE.html',
    section: 'output',
    help: [
      'also write the run as one HTML page of charts',
      '(loss, validation, triples/s, per-relation MRR,',
      'ranks, parameter server and checkpoints) and its',
      'settings; it needs no network or script to view',
    ],
  },
  { name: 'quiet', flag: '--quiet', section: 'output', help: ['no progress line on a terminal'] },
  {
    name: 'rebuild',
    flag: '--rebuild',
    section: 'output',
    help: ['build the WordNet split anew instead of the cache'],
  },
  { name: 'help', flag: '-h, --help', short: 'h', section: 'output', help: ['show this help'] },
];

const FLAGS: FlagSpecs = {
  ...settingSpecs(SETTINGS),
  ...Object.fromEntries(
    COMMAND_FLAGS.map((f) => [
      f.name,
      { type: f.arg !== undefined ? 'string' : 'boolean', ...(f.short !== undefined ? { short: f.short } : {}) },
    ]),
  ),
};

const SECTIONS: readonly [HelpSection, string][] = [
  ['data', 'Data and model'],
  ['training', 'Training'],
  ['evaluation', 'Evaluation'],
  ['checkpoints', 'Checkpoints'],
  ['output', 'Output'],
];

function flagLines(flag: string, arg: string | undefined, help: readonly string[], name?: string): string[] {
  const head = `  ${flag}${arg !== undefined ? ` ${arg}` : ''}`;
  const pad = ' '.repeat(26);
  const defaults = resolveTrainOptions({}) as unknown as Record<string, unknown>;
  const lines = help.map(
    (h) =>
      pad +
      h
        .replace('{cores}', String(availableParallelism()))
        .replace('{default}', String(name !== undefined ? defaults[name] : '')),
  );
  if (head.length <= 25) lines[0] = head.padEnd(26) + lines[0]!.slice(26);
  else lines.unshift(head);
  return lines;
}

function defaultsTable(): string {
  const num = (x: number | string): string =>
    typeof x === 'number' && x !== 0 && Math.abs(x) < 1e-3 ? x.toExponential() : String(x);
  const rows = [['model', ...PER_MODEL_SETTINGS.map((s) => s.flag.slice(2))]];
  for (const name of ['transe', 'distmult', 'complex', 'rotate']) {
    const d = MODEL_DEFAULTS[name] as unknown as Record<string, number | string>;
    rows.push([name, ...PER_MODEL_SETTINGS.map((s) => num(d[s.name]!))]);
  }
  const widths = rows[0]!.map((_, k) => Math.max(...rows.map((r) => r[k]!.length)));
  return rows
    .map(
      (r) =>
        `  ${r
          .map((c, k) => c.padEnd(widths[k]!))
          .join('  ')
          .trimEnd()}`,
    )
    .join('\n');
}

/** The settings every model shares (a model's defaults fix them, all alike). */
function sharedDefaults(): string {
  const d = MODEL_DEFAULTS[DEFAULT_MODEL] as unknown as Record<string, number | string>;
  return SETTINGS.filter((s) => s.scope === 'hyper' && s.perModel !== true && s.name in d)
    .map((s) => `${s.flag.slice(2)} ${d[s.name]}`)
    .join(', ');
}

export function trainHelp(): string {
  const sections = SECTIONS.map(([section, title]) => {
    const rows = [
      ...COMMAND_FLAGS.filter((f) => f.section === section && f.flag === '--dataset'),
      ...SETTINGS.filter((s) => s.section === section),
      ...COMMAND_FLAGS.filter((f) => f.section === section && f.flag !== '--dataset'),
    ];
    return [`${title}:`, ...rows.flatMap((r) => flagLines(r.flag, r.arg, r.help, r.name))].join('\n');
  });
  return `Usage: kgshard train [--dataset wordnet|wordnet-lf|DIR] [--model NAME] [flags]

Train knowledge-graph embeddings on all cores (a Piscina pool over shared
tables), evaluate filtered link prediction on the test split, print the
metrics, and with --out save the embeddings for 'kgshard eval'.

${sections.join('\n')}

Per-model defaults (flags override them):
${defaultsTable()}
  every model: ${sharedDefaults()}

On a terminal, stderr shows one progress line (epoch, loss, positive
triples/s, ETA) unless --quiet; otherwise training is quiet. Errors are
one line on stderr; a bad flag exits with code 2, any other failure with 1.
`;
}

interface TrainPlan {
  /** The settings given by flags (unset ones take the library's defaults). */
  readonly options: TrainingOptions;
  readonly datasetSpec: string;
  readonly json: boolean;
  readonly perRelation: boolean;
  readonly rebuild: boolean;
  /** `--report`: where the HTML report goes, or undefined. */
  readonly report: string | undefined;
  readonly quiet: boolean;
}

/**
 * A library error about an option (`details.field` names a setting) as a
 * usage error (exit code 2) naming the flag instead of the field.
 */
function asFlagError(e: unknown): unknown {
  if (!(e instanceof KgError)) return e;
  const field = typeof e.details['field'] === 'string' ? e.details['field'] : '';
  const flag = flagOf(field);
  if (flag === undefined) return e;
  return usage(new KgError(e.code, e.message.replace(`train: ${field} `, `train: ${flag} `), { ...e.details, flag }));
}

/** Read every flag by its row of the settings table; throws usage errors (exit code 2). */
export function planTraining(args: readonly string[]): TrainPlan | 'help' {
  const c = 'train';
  const flags = parseFlags(c, args, FLAGS);
  if (bool(flags, 'help')) return 'help';
  const options: Record<string, unknown> = {};
  for (const s of SETTINGS) {
    const v = readSetting(c, flags, s);
    if (v !== undefined) options[s.name] = v;
  }
  return {
    options: options,
    datasetSpec: str(flags, 'dataset') ?? 'wordnet',
    json: bool(flags, 'json'),
    perRelation: bool(flags, 'per-relation'),
    rebuild: bool(flags, 'rebuild'),
    report: str(flags, 'report'),
    quiet: bool(flags, 'quiet'),
  };
}

/** `prepareTraining` of the flags' options, its errors about an option as usage errors naming the flag. */
export function prepareFromFlags(options: TrainingOptions): PreparedTraining {
  try {
    return prepareTraining(options);
  } catch (e) {
    throw asFlagError(e);
  }
}

export async function trainCommand(args: readonly string[]): Promise<number> {
  const plan = asUsage(() => planTraining(args));
  if (plan === 'help') {
    process.stdout.write(trainHelp());
    return 0;
  }
  const report = plan.report;
  if (report !== undefined) asUsage(() => checkReportPath(report, 'train', '--report'));
  const prepared = prepareFromFlags(plan.options);
  const o = prepared.options;
  const line = new StatusLine(process.stderr, !plan.quiet && process.stderr.isTTY === true);
  const opened = openDataset(plan.datasetSpec, { rebuild: plan.rebuild });
  for (const notice of opened.notices) line.note(notice);
  line.note(datasetLine(opened.dataset));
  const run = { ...prepared.run, datasetRef: opened.ref };

  const progress = new TrainProgress(line, o.epochs);
  const controller = new AbortController();
  const onSigint = (): void => {
    controller.abort();
    progress.note('interrupted: stopping after this epoch (Ctrl-C again to quit now)');
  };
  const hooks: TrainingHooks = {
    signal: controller.signal,
    onNotice: (n) => {
      if (n.kind === 'nothing-left') {
        // Said on stderr even off a terminal, since the run only evaluates.
        line.clear();
        process.stderr.write(`${n.message}\n`);
      } else line.note(n.kind === 'warning' ? `warning: ${n.message}` : n.message);
    },
    onPhase: (p) => {
      if (p.kind === 'training') {
        process.once('SIGINT', onSigint);
        progress.start();
      } else if (p.kind === 'trained') {
        process.removeListener('SIGINT', onSigint);
        progress.stop();
      } else if (p.kind === 'validating') progress.setPhase('validating');
      else if (p.kind === 'evaluating')
        line.set(`evaluating on ${p.split} (${p.triples.toLocaleString('en-US')} triples)`);
      else line.clear();
    },
    onEpoch: (e) => progress.epochDone(e.done - 1, e.loss, e.triplesPerSecond, e.trainSeconds),
    onValidation: (v) => {
      const mrr = v.outcome.both.mrr;
      progress.setPhase('');
      progress.setExtra(`valid MRR ${mrr.toFixed(4)} (best ${v.best.mrr.toFixed(4)} @ ${v.best.epoch})`);
      if (!plan.json)
        progress.note(
          `epoch ${v.epoch}: loss ${v.loss.toFixed(4)}, valid MRR ${mrr.toFixed(4)}, ` +
            `Hits@10 ${v.outcome.both.hits10.toFixed(4)}`,
        );
    },
  };
  let result: TrainingReport;
  try {
    result = await runTraining(opened.dataset, { options: o, run }, hooks);
  } catch (e) {
    throw asFlagError(e);
  }
  if (report !== undefined) {
    line.set(`writing the report to ${report}`);
    await writeTrainReport(report, result, { command: commandLine('train', args), datasetSource: opened.source });
    line.clear();
  }
  process.stdout.write(
    plan.json
      ? `${JSON.stringify(reportJson(result, opened))}\n`
      : reportTable(result, plan.perRelation) + (report !== undefined ? `wrote the report to ${report}\n` : ''),
  );
  return 0;
}

/** The `--json` summary: the report's fields under their JSON keys (the settings' from the table). */
export function reportJson(
  r: TrainingReport,
  opened: Pick<OpenedDataset, 'source' | 'notices'>,
): Record<string, unknown> {
  const c = r.checkpoint;
  return {
    command: 'train',
    model: r.model,
    dataset: r.dataset.name,
    dataset_source: opened.source,
    entities: r.dataset.entities,
    relations: r.dataset.relations,
    train_triples: r.dataset.trainTriples,
    epochs: r.epochs,
    stopped_by: r.stoppedBy,
    best_epoch: r.bestEpoch,
    ...settingsJson(r.options),
    train_s: r.trainSeconds,
    triples_per_s: r.triplesPerSecond,
    final_loss: r.finalLoss,
    ...(r.evaluation
      ? outcomeJson(r.evaluation)
      : {
          eval_split: r.run.evalSplit,
          eval_triples: 0,
          eval_s: 0,
          mrr: null,
          mr: null,
          hits1: null,
          hits3: null,
          hits10: null,
          per_relation: [],
          rank_histogram: [],
        }),
    validation: r.validations.map((v) => ({
      epoch: v.epoch,
      mrr: v.outcome.both.mrr,
      hits10: v.outcome.both.hits10,
      eval_s: v.outcome.seconds,
    })),
    notices: opened.notices,
    checkpoint: {
      dir: c.dir,
      fingerprint: c.fingerprint,
      resumed_from: c.resumedFrom,
      warm_started_from: c.warmStartedFrom,
      last_epoch: c.lastEpoch,
      mid_epoch: c.midEpoch,
    },
    ps: psJson(r.ps),
    reshards: r.reshards.map((x) => ({
      epoch: x.epoch,
      from: x.from,
      to: x.to,
      steps: x.steps,
      chunks_moved: x.chunksMoved,
      max_writer_pause_us: x.maxWriterPauseUs,
      total_writer_pause_us: x.totalWriterPauseUs,
      converge_ms: Math.round(x.convergeMs * 10) / 10,
      draining: x.draining,
    })),
    growth: r.growth.map((g) => ({
      epoch: g.epoch,
      dir: g.dir,
      triples: g.triples,
      new_entities: g.newEntities,
      chunks: g.chunks,
      steps: g.steps,
      place_ms: Math.round(g.placeMs * 10) / 10,
    })),
    relation_stats: r.relationStats,
    relation_stats_file: r.relationStatsFile,
    out: r.out,
  };
}

/** The parameter server's figures of the run, under the JSON keys. */
export function psJson(p: TrainingReport['ps']): Record<string, unknown> {
  return {
    shards: p.shards,
    mode: p.mode,
    pulls: p.pulls,
    pushes: p.pushes,
    relation_pushes: p.relationPushes,
    barriers: p.barriers,
    mean_staleness: p.meanStaleness,
    max_staleness: p.maxStaleness,
    snapshots: p.snapshots,
    snapshot_fence_max_ms: p.snapshotFenceMaxMs,
    writer_pauses: p.writerPauses,
    snapshot_writer_pause_us: p.writerPauseUs,
    warnings: p.warnings,
  };
}

/** The report as printed without `--json`. */
export function reportTable(r: TrainingReport, perRelation = false): string {
  const o = r.options;
  const n = (x: number): string => x.toLocaleString('en-US');
  const d = r.dataset;
  const kept = r.best;
  const lines = [
    `${r.model} dim ${o.dim} on ${d.name}: ${n(d.entities)} entities, ${n(d.relations)} relations, ` +
      `${n(d.trainTriples)} / ${n(d.validTriples)} / ${n(d.testTriples)} train / valid / test triples`,
    `trained ${r.epochs}/${o.epochs} epochs` +
      (r.stoppedBy === 'early-stopping'
        ? ` (early stop; best valid MRR ${kept!.mrr.toFixed(4)} at epoch ${kept!.epoch})`
        : r.stoppedBy === 'time-limit'
          ? ` (time limit ${r.run.maxTrainSeconds} s)`
          : r.stoppedBy === 'interrupt'
            ? ' (interrupted)'
            : kept !== null
              ? ` (best valid MRR ${kept.mrr.toFixed(4)} at epoch ${kept.epoch})`
              : '') +
      ` on ${o.workers} worker${o.workers === 1 ? '' : 's'} (${o.mode}, ${r.ps.shards} ` +
      `shard${r.ps.shards === 1 ? '' : 's'}) in ${clock(r.trainSeconds)}: ` +
      `${compact(r.triplesPerSecond)} positive triples/s, ` +
      `final loss ${r.finalLoss !== null ? r.finalLoss.toFixed(4) : '-'}`,
    '',
    r.evaluation ? metricsTable(r.evaluation).trimEnd() : `no ${r.run.evalSplit} triples: no metrics`,
  ];
  if (perRelation && r.evaluation) lines.push('', perRelationTable(r.evaluation).trimEnd());
  if (r.out !== null)
    lines.push('', `saved embeddings to ${r.out} (${n(d.entities)} entities, ${n(d.relations)} relations)`);
  return `${lines.join('\n')}\n`;
}
