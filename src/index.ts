/**
 * kgshard's public API: one explicit export list, values and types apart.
 */

// ---------------------------------------------------------------- values
export { KgError } from './errors.js';
export { Ring, RING_MAX_CAPACITY, RING_MAX_SLOT_WORDS } from './shm/ring.js';
export {
  Seqlock,
  SEQ_OK,
  SEQ_STALLED,
  SEQ_TIMED_OUT,
  SEQ_LOST,
  SEQ_RECOVERED,
  SEQ_INVALID,
  SEQ_BUSY,
  SEQ_STATUS_NAMES,
  DEFAULT_LEASE_MS,
  DEFAULT_READ_RETRIES,
} from './shm/seqlock.js';
export {
  OwnerLock,
  LOCK_OK,
  LOCK_RECOVERED,
  LOCK_BUSY,
  LOCK_TIMED_OUT,
  LOCK_LOST,
  LOCK_MISUSED,
  LOCK_STATUS_NAMES,
  DEFAULT_LOCK_LEASE_MS,
} from './shm/owner-lock.js';
export { realClock, ManualClock, attachClock } from './shm/clock.js';
export { LatencyCounter, newCounterWindow } from './shm/counter.js';
export { Barrier, BARRIER_MAX_PARTIES } from './shm/barrier.js';
export { Cursor } from './shm/cursor.js';
export {
  Breaker,
  BreakerTable,
  BREAKER_CLOSED,
  BREAKER_OPEN,
  BREAKER_HALF_OPEN,
  BREAKER_STATE_NAMES,
  BREAKER_REFUSED,
  BREAKER_ALLOWED,
  BREAKER_PROBE,
  BREAKER_PROBE_RETAKEN,
  BREAKER_NO_TRANSITION,
  BREAKER_CLOSED_TO_OPEN,
  BREAKER_OPEN_TO_HALF_OPEN,
  BREAKER_HALF_OPEN_TO_CLOSED,
  BREAKER_HALF_OPEN_TO_OPEN,
  BREAKER_HALF_OPEN_TO_HALF_OPEN,
  DEFAULT_BREAKER_FAILURE_THRESHOLD,
  DEFAULT_BREAKER_COOL_DOWN_MS,
  BREAKER_MAX_FAILURE_THRESHOLD,
  BREAKER_MAX_COOL_DOWN_MS,
  BREAKER_MAX_SLOTS,
  transitionFrom,
  transitionTo,
  resolveBreakerOptions,
} from './shm/breaker.js';
export { allLayouts, checkLayout, assertLayout } from '../native-layout/index.js';
export { ParameterServer, PsClient } from './ps/server.js';
export { DEFAULT_PS_CONFIG, validatePsConfig } from './ps/config.js';
export { ShardManager, hashShard } from './ps/shard-manager.js';
export { initRow, fnv1a64 } from './ps/init.js';
export { buildDataset, sharedSplit } from './data/dataset.js';
export { loadTsvDir, parseTriples } from './data/tsv.js';
export {
  loadWordnet,
  loadWordnetWithInfo,
  buildWordnet,
  WORDNET_RELATIONS,
  WORDNET_RULE,
  WORDNET_LF_RULE,
  BUILTIN_DATASETS,
} from './data/wordnet.js';
export { writeSplit, splitSummary, summaryTable } from './data/split-writer.js';
export { createModel, defineModel, MODEL_NAMES, TransE, DistMult, ComplEx, RotatE } from './kge/models/index.js';
export { Trainer, DEFAULT_TRAIN, validateTrainOptions } from './kge/trainer.js';
export { MODEL_DEFAULTS, DEFAULT_MODEL } from './kge/defaults.js';
export { SETTINGS, BASE_DEFAULTS } from './kge/hyper.js';
export { resolveTrainOptions, validateRunOptions, hyperParameters, settingsJson } from './kge/training/options.js';
export { runTraining, prepareTraining } from './kge/training/run.js';
export { openStoredRun, storedRuns, checkStoredRunDataset } from './kge/training/stored-run.js';
export { outcomeJson } from './kge/training/evaluation.js';
export { optimizerStateSize } from './kge/train-core.js';
export { evaluate, createRanker, rankQueries, metricsFromRanks, linkPredictionMetrics } from './kge/eval.js';
export { FilterIndex } from './kge/filter.js';
export { predict, createPredictor, Predictor, allocatePredictions, ASKED, MAX_TOPK } from './kge/predict.js';
export { similar, createNeighbourIndex, NeighbourIndex, SIMILARITY_METRICS } from './kge/similar.js';
export { predictNamed, similarNamed, knownTriples, KNOWN_SPLITS } from './kge/predict-named.js';
export { openEmbeddings } from './kge/embeddings-io.js';
export { NameIndex } from './data/names.js';
export { parseQueries, readQueries } from './data/queries.js';
export { EarlyStopping } from './kge/early-stopping.js';
export { saveEmbeddings, loadEmbeddings, alignEmbeddings } from './kge/embeddings-io.js';
export {
  ShardMapper,
  NO_SHARD,
  WEIGHT_TOLERANCE,
  MAX_SLOTS,
  SLOT_FREE,
  SLOT_PROVISIONING,
  SLOT_ACTIVE,
  SLOT_DRAINING,
  SLOT_STOPPED,
} from './router/mapper.js';
export {
  DEFAULT_SCALING_POLICY,
  MAX_SHARDS_LIMIT,
  scalingPolicy,
  normalizePolicy,
  validatePolicy,
} from './router/policy.js';
export { decideScaling } from './router/scaling.js';
export { DEFAULT_BREAKER_POLICY, judgeProbe } from './router/breakers.js';
export { ShardMetricsCollector, computeWeight, emptyMetrics } from './router/metrics.js';
export {
  Router,
  Producer,
  PUSH_OK,
  PUSH_FULL,
  PUSH_TIMED_OUT,
  PUSH_UNBOUND,
  PUSH_STATUS_NAMES,
  MAX_PRODUCERS,
  DEFAULT_WAIT_SLICE_MS,
} from './router/router.js';
export {
  drainShard,
  SequenceVerifier,
  verifyDelivery,
  writeSequencedEvents,
  SEQUENCE_BITS,
  EVENT_PRODUCER_MASK,
} from './router/consumer.js';
export { RouterService } from './router/service.js';
export {
  runLoadTest,
  validateLoadTest,
  activeProducersAt,
  resolveLoadProfile,
  pacingVerdict,
  DEFAULT_LOADTEST,
} from './router/loadtest.js';
export {
  loadProfile,
  resolveProfile,
  flatProfile,
  producersAt,
  rateSchedule,
  dueBy,
  timeOfDue,
  BUILT_IN_PROFILES,
} from './router/schedule.js';
export { compareLoadTests, compareRules, readLoadTestResult, COMPARE_TOLERANCE } from './router/loadtest-compare.js';
export { trainReportHtml, trainCharts } from './report/train.js';
export { loadTestReportHtml, loadTestCharts } from './report/loadtest.js';
export { checkReportPath, writeReport, writeTrainReport, writeLoadTestReport } from './report/file.js';
export { writeDurable, readDurable, frameDurable, unframeDurable, DURABLE_VERSION } from './store/durable.js';
export { RelationStats, StatsPersister } from './store/running-stats.js';
export { encodeNpy, decodeNpy, readNpy, writeNpy } from './store/embeddings/npy.js';
export { exportEmbeddings, importEmbeddings, importTable, EXPORT_FORMATS } from './store/embeddings/export.js';
export { encodeTrainerSnapshot, decodeTrainerSnapshot } from './store/train-state.js';
export { Fingerprinter, problemKeys, nearMatchKey, FINGERPRINT_VERSION } from './store/fingerprint.js';
export {
  CheckpointStore,
  DEFAULT_WRITE_FAILURE_THRESHOLD,
  DEFAULT_WRITE_COOL_DOWN_MS,
} from './store/checkpoint-store.js';
export { latestTraining } from './store/training-checkpoints.js';
export {
  writeRunDescription,
  readRunDescription,
  describedRuns,
  runDescriptionPath,
  RUN_DESCRIPTION_FORMAT,
  RUN_DESCRIPTION_VERSION,
} from './store/run-description.js';
export { Session, MIN_CHECKPOINT_INTERVAL_MS } from './store/session.js';

// ---------------------------------------------------------------- types
export type { KgErrorCode } from './errors.js';
export type { RingHandle, RingOptions } from './shm/ring.js';
export type { SeqlockHandle, SeqlockOptions, SeqStatus } from './shm/seqlock.js';
export type { LockStatus, RecoveryHook, StaleHolder } from './shm/owner-lock.js';
export type { Clock, ClockHandle } from './shm/clock.js';
export type { CounterHandle, CounterWindow } from './shm/counter.js';
export type { BarrierHandle, BarrierOptions, BarrierResult, BarrierPoll, ArrivalTicket } from './shm/barrier.js';
export type { CursorHandle, CursorOptions } from './shm/cursor.js';
export type {
  BreakerOptions,
  BreakerTableOptions,
  ResolvedBreakerOptions,
  BreakerHandle,
  BreakerTableHandle,
  BreakerState,
  BreakerAdmission,
  BreakerTransition,
} from './shm/breaker.js';
export type { RegionLayout, Field, ElementType, LayoutViolation } from '../native-layout/index.js';
export type {
  PsHandle,
  PsOptions,
  ShardSnapshot,
  PsStats,
  PushResult,
  PsWarningHandler,
  SnapshotTarget,
  SnapshotReport,
  ClientStats,
  PlacementPin,
  LiveReshardOptions,
  ReshardReport,
  ReshardStepReport,
  GrowthReport,
  CorrectionRecord,
  PlacementStepResult,
} from './ps/server.js';
export { planStep, idealPlacement } from './ps/reshard/plan.js';
export type { PlanInput, PlanStep, CopyChange, Deferral, IdealPlacement } from './ps/reshard/plan.js';
export { AssignmentLifecycle } from './ps/reshard/lifecycle.js';
export { InMemoryReshardBackend } from './ps/reshard/memory-backend.js';
export { DEFAULT_RESHARD_OPTIONS, resolveReshardOptions } from './ps/reshard/options.js';
export type { ReshardOptions } from './ps/reshard/options.js';
export type { ReshardBackend, ReshardBackendFactory, ReshardState, ReadResult } from './ps/reshard/backend.js';
export type { ChunkId, ShardId, Holders, Assignment } from './ps/reshard/types.js';
export type { Placement as ChunkPlacement } from './ps/reshard/types.js';
export type { PsConfig, UpdateMode, ShardingStrategy } from './ps/config.js';
export type { ShardAssignment } from './ps/shard-manager.js';
export type { Dataset, TripleSplit, DatasetReport } from './data/dataset.js';
export type {
  KgeModel,
  ModelShapes,
  ModelSpec,
  Block,
  BlockGrad,
  ModelName,
  ModelOptions,
} from './kge/models/index.js';
export type { QueryPlan, WasmKernel } from './kge/wasm/plan.js';
export type { TrainOptions, EpochReport, TrainHooks, ReshardEntry, GrowthEntry } from './kge/trainer.js';
export type { TrainHyper, LossKind, OptimizerKind, RegKind } from './kge/train-core.js';
export type { ModelDefaults } from './kge/defaults.js';
export type { Setting, SettingType } from './kge/hyper.js';
export type {
  TrainSettings,
  TrainingOptions,
  TrainingRunOptions,
  ResolvedRunOptions,
  EmbeddingsWarmStart,
} from './kge/training/options.js';
export type {
  TrainingReport,
  TrainingHooks,
  TrainingNotice,
  TrainingPhase,
  EpochProgress,
  EpochRecord,
  ValidationRecord,
  StopReason,
  PreparedTraining,
} from './kge/training/run.js';
export type { EvalOutcome, Metrics } from './kge/training/evaluation.js';
export type { CheckpointInfo } from './kge/training/start.js';
export type { StoredRun, StoredRunSummary, OpenStoredRunOptions } from './kge/training/stored-run.js';
export type { EvaluateOptions, EvaluationResult, RankMetrics, LinkPredictionMetrics, TieRule } from './kge/eval.js';
export type { Embeddings, LoadedEmbeddings, EmbeddingsConfig } from './kge/embeddings-io.js';
export type { PredictorOptions, Predictions, TopKResult, PredictBackend } from './kge/predict.js';
export type { NeighbourOptions, Neighbours, SimilarityMetric } from './kge/similar.js';
export type {
  NamedPrediction,
  NamedPredictions,
  NamedPredictOptions,
  NamedResult,
  NamedNeighbours,
  NamedSimilarOptions,
  KnownTriples,
  KnownSplit,
} from './kge/predict-named.js';
export type { NamedQuery } from './data/queries.js';
export type {
  ShardMapperHandle,
  ShardMapperOptions,
  ShardState,
  ScalingDecision,
  MapperFailure,
  MapperResult,
  MapperTestHooks,
} from './router/mapper.js';
export type { ScalingPolicy } from './router/policy.js';
export type { ScalingRecord, ScalingRecords } from './router/scaling.js';
export type { BreakerPolicy, BreakerStateName, ProbeView, ProbeVerdict } from './router/breakers.js';
export type { ShardMetrics } from './router/metrics.js';
export type { RouterHandle, RouterOptions, PushStatus } from './router/router.js';
export type { ProducerTrace, DeliveryVerdict, DrainOptions, DrainResult } from './router/consumer.js';
export type {
  ScaleEvent,
  ScaleEventKind,
  BreakerEvent,
  RouterServiceOptions,
  ServiceResult,
} from './router/service.js';
export type {
  LoadTestOptions,
  LoadTestSummary,
  LoadProgress,
  LoadProfile,
  LoadSample,
  LatencySummary,
} from './router/loadtest.js';
export type { ProfileSpec, ProfileStage, ProfilePoint, ResolvedProfile, RateSchedule } from './router/schedule.js';
export type { CompareRow, CompareRule } from './router/loadtest-compare.js';
export type { Chart } from './report/render.js';
export type { TrainReportOptions } from './report/train.js';
export type { LoadTestReportOptions } from './report/loadtest.js';
export type { DurableRead, DurableProblem } from './store/durable.js';
export type {
  ExportFormat,
  ExportInput,
  ExportResult,
  ImportedEmbeddings,
  ImportOptions,
} from './store/embeddings/export.js';
export type { TrainingState } from './store/train-state.js';
export type { TrainerSnapshot, PartialEpoch, PsTotals, PsTrainingReport } from './kge/trainer.js';
export type { FieldValue, ProblemDescription, ProblemKeys } from './store/fingerprint.js';
export type { StoreEntry, EntryKind, StoreOptions, SaveOptions, PruneReport } from './store/checkpoint-store.js';
export type { LoadSource, LoadedEntry, SessionOptions } from './store/session.js';
export type { CheckpointWriteOptions, LoadedTraining } from './store/training-checkpoints.js';
export type { RunDescription } from './store/run-description.js';
