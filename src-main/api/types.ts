// Plain data types that cross the contract (renderer ⇄ services). No runtime code here:
// the renderer imports these as types only.
import type { Message, NormalizedRow, RowProblem, Shape, SourceFormat } from '../data/types'

export type { Message, NormalizedRow, RowProblem, Shape, SourceFormat }

export interface AppInfo {
  name: string
  version: string
  dataDir: string
  host: 'electron' | 'web' | 'cli'
  node: string
}

/** A file the user handed to the app (dialog, drop, upload or CLI path), known by an opaque id. */
export interface FileRef {
  fileId: string
  name: string
  size: number
}

export interface DatasetSummary {
  id: number
  name: string
  createdAt: string
  updatedAt: string
  sourceName: string | null
  sourceFormat: SourceFormat | null
  shape: Shape | null
  pairCount: number
  sftCount: number
}

export interface PairRow extends NormalizedRow {
  id: number
  datasetId: number
  position: number
  sourceLocation: string | null
  contentHash: string
  editedAt: string | null
}

export interface PairPage {
  total: number
  offset: number
  rows: PairRow[]
}

export interface ImportPreview {
  file: FileRef
  format: SourceFormat
  shape: Shape
  columns: string[]
  /** Effective mapping canonical field → source column. */
  mapping: Record<string, string>
  rows: Array<{ location: string; row?: NormalizedRow; problem?: RowProblem; raw: Record<string, unknown> }>
}

export interface DuplicateRow {
  location: string
  /** Where the same content was seen first: a location in this file, or "already in dataset". */
  firstSeen: string
}

export interface ImportReport {
  datasetId: number | null
  datasetName: string
  file: string
  format: SourceFormat
  shape: Shape
  mapping: Record<string, string>
  rowsRead: number
  imported: number
  pairs: number
  sft: number
  /** True when nothing was written (bad rows without skipBad). */
  rolledBack: boolean
  badCount: number
  /** The first bad rows (capped at 10 000; badCount has the total). */
  bad: RowProblem[]
  duplicateCount: number
  duplicates: DuplicateRow[]
  /** Duplicates that were dropped because `dedupe` was asked for. */
  duplicatesSkipped: number
  durationMs: number
}

export type JobState = 'running' | 'done' | 'failed' | 'cancelled'

export interface JobInfo {
  jobId: string
  method: string
  label: string
  state: JobState
  startedAt: string
  progress: JobProgress | null
}

export interface JobProgress {
  jobId: string
  /** Units done and total (bytes for imports); total 0 when unknown. */
  done: number
  total: number
  unit: string
  message: string
}

export interface JobFinished {
  jobId: string
  state: Exclude<JobState, 'running'>
  result?: unknown
  error?: ApiErrorData
}

export type ApiErrorCode = 'invalid_argument' | 'not_found' | 'conflict' | 'failed' | 'cancelled' | 'unauthorized'

export interface ApiErrorData {
  code: ApiErrorCode
  message: string
  details?: unknown
}

/** Events pushed from services to every connected UI. */
export interface EventMap {
  'job.progress': JobProgress
  'job.finished': JobFinished
  'datasets.changed': { datasetId: number | null }
  'signals.changed': { datasetId: number }
  'models.changed': Record<string, never>
  'generate.token': GenerationToken
  'run.progress': RunProgress
  'runs.changed': Record<string, never>
  'evals.changed': Record<string, never>
}
export type EventName = keyof EventMap

// ── Fine-grained signals (Review) ────────────────────────────────────────────────────────

export type TokenClass = 'same' | 'added' | 'substituted' | 'deleted'

/** FIGA's token weights: a(ŷ_t) = α added/substituted, γ otherwise (EOS: α); b(y_t) = β deleted/substituted, else 0. */
export interface FigaParams {
  alpha: number
  beta: number
  gamma: number
}

export interface TokenizerInfo {
  /** Stable id: 'builtin:NAME' or 'dir:/abs/path'. */
  key: string
  label: string
  vocabSize: number
  eosToken: string | null
}

/** Per-pair token counts from the alignment of y (original) to ŷ (revised). */
export interface SignalCounts {
  /** ŷ tokens inserted by the revision. */
  added: number
  /** y tokens the revision deleted. */
  deleted: number
  /** Replace operations: one y token and one ŷ token each. */
  substituted: number
  /** Tokens aligned unchanged. */
  same: number
  originalTokens: number
  revisedTokens: number
}

export interface ReviewFilters {
  minEditRatio: number
  maxEditRatio: number
  dropNoop: boolean
  /** A pair whose edit ratio is at least `fullRewriteAt` is a full rewrite. */
  dropFullRewrite: boolean
  fullRewriteAt: number
  /** Minimum number of changed tokens (added + deleted + substituted). */
  minChanged: number
  /** Leave out pairs excluded by hand. */
  dropExcluded: boolean
}

export interface PairSignalSummary {
  pairId: number
  position: number
  instruction: string
  distance: number
  editRatio: number
  counts: SignalCounts
  excluded: boolean
  /** Whether its signals are computed for this tokenizer (counts are 0 until they are). */
  computed: boolean
  /** Whether the pair passes the filters (the selection would keep it). */
  kept: boolean
}

export interface SignalStats {
  datasetId: number
  tokenizer: string
  /** Pairs in the dataset (SFT rows have no signal and are not counted). */
  pairs: number
  /** Pairs whose signals are computed for this tokenizer (the rest need signals.compute). */
  computed: number
  noop: number
  fullRewrites: number
  excluded: number
  kept: number
  totals: SignalCounts
  /** Totals over the kept pairs only: what training would see. */
  keptTotals: SignalCounts
  /** Edit-ratio histogram over computed pairs: `counts[i]` pairs in [edges[i], edges[i+1]). */
  histogram: { edges: number[]; counts: number[] }
}

export interface TokenView {
  id: number
  text: string
  cls: TokenClass
  /** True for the EOS appended to ŷ (weight α). */
  eos?: boolean
}

/** One row of the side-by-side alignment: indices into original/revised tokens, or null. */
export interface AlignedRow {
  op: 'same' | 'replace' | 'insert' | 'delete'
  o: number | null
  r: number | null
}

export interface PairSignalView {
  tokenizer: string
  original: TokenView[]
  revised: TokenView[]
  alignment: AlignedRow[]
  distance: number
  editRatio: number
  counts: SignalCounts
}

export interface Selection {
  id: number
  datasetId: number
  name: string
  tokenizer: string
  filters: ReviewFilters
  pairCount: number
  createdAt: string
}

// ── Models and generation ────────────────────────────────────────────────────────────────

export type BackendPreference = 'auto' | 'tensorflow' | 'wasm' | 'cpu'

export interface EngineInfo {
  preference: BackendPreference
  /** The backend a model runs on with this preference ('tensorflow' | 'wasm' | 'cpu'). */
  backend: string
  threads: number
  simd: boolean
  /** One line for display: what was chosen and why. */
  detail: string
}

export interface ModelSummary {
  id: number
  name: string
  path: string
  architecture: string
  modelType: string
  paramCount: number
  dtype: string
  sizeBytes: number
  hasChatTemplate: boolean
  addedAt: string
}

/** What "Add model" found in a folder, before adding it. */
export interface ModelInspection {
  path: string
  ok: boolean
  architecture: string | null
  modelType: string | null
  paramCount: number | null
  dtype: string | null
  sizeBytes: number
  memoryBytes: number | null
  files: string[]
  problems: string[]
  warnings: string[]
}

export type PromptTemplate = 'alpaca' | 'chat' | 'raw'

export interface SamplingSettings {
  maxNewTokens: number
  /** 0 = greedy */
  temperature: number
  topK: number
  topP: number
  repetitionPenalty: number
  seed?: number
  stop: string[]
}

export interface GenerationResult {
  text: string
  tokens: number
  finishReason: 'eos' | 'stop' | 'length' | 'aborted'
  promptTokens: number
  prefillMs: number
  tokensPerSecond: number
  backend: string
}

export interface GenerationToken {
  jobId: string
  index: number
  token: number | null
  text: string
}

// ── Training runs ────────────────────────────────────────────────────────────────────────

export type TrainMethod = 'figa' | 'sft'

/** The training settings the app shows and edits (src-main/train/settings.ts has the rest, at their defaults). */
export interface TrainSettings {
  method: TrainMethod
  alpha: number
  beta: number
  gamma: number
  /** Penalise a bad token only while CE(y_t) ≤ τ (null: always). */
  tau: number | null
  /** The earlier release's band: penalise only while lo ≤ CE(y_t) ≤ hi (null: off). */
  tauBand: [number, number] | null
  lr: number
  schedule: 'constant' | 'cosine'
  warmupSteps: number
  weightDecay: number
  clipNorm: number
  microBatch: number
  accumulation: number
  epochs: number
  maxSteps: number | null
  seed: number
  maxLength: number
  heldOut: number
  evalEvery: number
  checkpointEvery: number
  lora: null | { rank: number; alpha: number; targets: string[] }
  efficiency: { sharedPrefix: boolean; sparseHead: boolean; bucketing: boolean }
}

export interface TrainPreset {
  name: string
  description: string
  settings: TrainSettings
}

export type RunState = 'running' | 'done' | 'failed' | 'cancelled' | 'interrupted'

export interface RunSummary {
  id: number
  name: string
  datasetId: number | null
  datasetName: string | null
  selectionId: number | null
  modelId: number | null
  baseModel: string
  method: TrainMethod
  preset: string | null
  state: RunState
  step: number
  totalSteps: number | null
  lastCheckpoint: string | null
  finalDir: string | null
  outDir: string
  error: string | null
  createdAt: string
  updatedAt: string
  /** The model registered from this run's final checkpoint, if any. */
  resultModelId: number | null
}

export interface RunDetail extends RunSummary {
  settings: TrainSettings
}

/** One optimizer step as the dashboard charts it (the trainer's StepMetrics carries a few more fields). */
export interface StepMetrics {
  step: number
  totalSteps: number
  epoch: number
  loss: number
  lossPositive: number
  lossNegative: number
  lr: number
  gradNorm: number
  tokensPerSec: number
  pairsPerSec: number
  weightedShare: number
  elapsedMs: number
}

export interface EvalMetrics {
  step: number
  marginPerToken: number
  pplRevised: number
  pplOriginal: number
  pairs: number
}

export interface RunMetrics {
  runId: number
  train: StepMetrics[]
  eval: EvalMetrics[]
}

export interface RunProgress {
  runId: number
  state: RunState
  step: number
  totalSteps: number | null
  etaMs: number | null
  train?: StepMetrics
  eval?: EvalMetrics
  checkpoint?: string
  message?: string
}

// ── Side-by-side chat, votes and evaluation ──────────────────────────────────────────────

export type AnswerState = 'streaming' | 'done' | 'stopped' | 'failed'
export type VoteChoice = 'left' | 'right' | 'tie'

export interface ChatAnswer {
  text: string
  state: AnswerState
  /** The model that wrote it: null while a blind turn is not voted on. */
  modelId: number | null
  modelName: string | null
}

export interface ChatTurn {
  id: number
  position: number
  user: string
  left: ChatAnswer
  /** null when the conversation has one model only. */
  right: ChatAnswer | null
  /** The vote, as the user saw the sides. */
  vote: VoteChoice | null
  /** Whether the models behind the sides are shown (always, outside blind mode). */
  revealed: boolean
  createdAt: string
}

export interface ConversationSummary {
  id: number
  title: string
  modelA: { id: number; name: string }
  modelB: { id: number; name: string } | null
  blind: boolean
  template: PromptTemplate
  system: string | null
  turns: number
  updatedAt: string
}

export interface Conversation extends ConversationSummary {
  history: ChatTurn[]
}

export interface WinRate {
  modelX: { id: number; name: string }
  modelY: { id: number; name: string }
  xWins: number
  yWins: number
  ties: number
  votes: number
  /** X's win rate counting a tie as half a win, with a 95% Wilson interval. */
  rate: number
  low: number
  high: number
}

export interface EvalModelSummary {
  modelId: number | null
  name: string
  /** Mean over pairs of (mean log p per ŷ token − mean log p per y token). */
  marginPerToken: number
  pplRevised: number
  pplOriginal: number
  /** Share of pairs where ŷ is more likely per token than y. */
  preferenceAccuracy: number
  /** Mean generated answer length in tokens (null when answers were not generated). */
  answerTokens: number | null
}

export interface EvalReport {
  id: number
  datasetId: number
  datasetName: string
  pairs: number
  split: 'heldout' | 'all'
  a: EvalModelSummary
  b: EvalModelSummary
  createdAt: string
}

/** One model of the demo study, scored on the demo world's held-out prompts. */
export interface DemoStudyRow {
  model: 'base' | 'sft' | 'figa'
  /** the training seed (null for the base model) */
  seed: number | null
  pairs: number
  /** share of greedy answers that make the original's typical mistake */
  defectRate: number
  /** share of greedy answers that show the revised behaviour */
  fixRate: number
  /** share of answers that do neither (babble) */
  otherRate: number
  byBehaviour: Record<string, { pairs: number; defect: number; fixed: number; other: number }>
  /** held-out mean over pairs of (mean log p per ŷ token − mean log p per y token) */
  marginPerToken: number
  trainSeconds: number
  /** the first held-out answer of each behaviour, to show what the numbers mean */
  samples: Array<{ behaviour: string; instruction: string; input: string; answer: string; verdict: 'fixed' | 'defect' | 'other' }>
}

export interface DemoStudyReport {
  baseModel: string
  trainPairs: number
  heldOutPairs: number
  /** the training settings every run shared (method and seed set per run) */
  settings: Record<string, unknown>
  rows: DemoStudyRow[]
  createdAt: string
}
