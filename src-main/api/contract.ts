// The contract: every method the UI (or the CLI) may call, its argument schema (validated at
// run time on every door: IPC, HTTP, CLI), its result type and how it travels.
//
//   kind 'call'     — request/response.
//   kind 'job'      — long work in a worker: the call returns { jobId } at once, progress and the
//                     result arrive as 'job.progress' / 'job.finished' events.
//   kind 'download' — the result is a byte stream (a file the user saves).
//
// Adding a method = one entry here + its service function (services/index.ts is type-checked
// against this object, so a missing implementation does not compile).
import { z } from 'zod'
import type {
  DemoStudyReport,
  AppInfo, DatasetSummary, FileRef, ImportPreview, ImportReport, JobInfo, PairPage, PairRow, PairSignalSummary,
  PairSignalView, Selection, SignalStats, TokenizerInfo, EngineInfo, ModelSummary, ModelInspection, GenerationResult,
  RunDetail, RunMetrics, RunSummary, TrainPreset, ChatTurn, Conversation, ConversationSummary, EvalReport, WinRate,
} from './types'

type Kind = 'call' | 'job' | 'download'

export interface MethodSpec<A extends z.ZodType, R, K extends Kind> {
  kind: K
  args: A
  summary: string
  /** Phantom: carries the result type only. */
  result?: R
}

function call<R>() {
  return <A extends z.ZodType>(summary: string, args: A): MethodSpec<A, R, 'call'> => ({ kind: 'call', args, summary })
}
function job<R>() {
  return <A extends z.ZodType>(summary: string, args: A): MethodSpec<A, R, 'job'> => ({ kind: 'job', args, summary })
}
function download<A extends z.ZodType>(summary: string, args: A): MethodSpec<A, { fileName: string }, 'download'> {
  return { kind: 'download', args, summary }
}

// Shared argument pieces.
const rowId = z.number().int().positive()
const fileId = z.string().regex(/^[a-f0-9]{32}$/, 'fileId must be an id returned by files.* (32 hex characters)')
const datasetName = z
  .string()
  .trim()
  .min(1, 'dataset name is empty')
  .max(120, 'dataset name is longer than 120 characters')
  .regex(/^[^\u0000-\u001f/\\]+$/, 'dataset name may not contain control characters or slashes')
const format = z.enum(['jsonl', 'json', 'csv', 'tsv', 'parquet'])
const canonicalField = z.enum([
  'instruction', 'input', 'original_output', 'revised_output', 'output', 'system', 'history',
  'prompt', 'chosen', 'rejected', 'conversations', 'messages',
])
const mapping = z
  .partialRecord(canonicalField, z.string().min(1).max(200))
  .describe('canonical field → source column')
const text = z.string().max(1_000_000, 'text is longer than 1,000,000 characters')
const message = z.object({ role: z.enum(['system', 'user', 'assistant']), content: text }).strict()
const sampling = {
  maxNewTokens: z.number().int().min(1).max(4096).default(128),
  temperature: z.number().min(0).max(5).default(0.7),
  topK: z.number().int().min(0).max(100_000).default(0),
  topP: z.number().gt(0).max(1).default(0.95),
  repetitionPenalty: z.number().min(1).max(5).default(1),
  seed: z.number().int().min(0).max(2 ** 31 - 1).optional(),
  stop: z.array(z.string().min(1).max(200)).max(16).default([]),
}
const folderPath = z
  .string()
  .min(1)
  .max(4096)
  .refine((p) => p.startsWith('/') || /^[A-Za-z]:[\\/]/.test(p), 'path must be absolute')
  .refine((p) => !p.includes('\u0000'), 'path contains a NUL character')
const weight = z.number().finite().min(-100).max(100)
const tokenizer = z.string().min(1).max(4096).describe("a key from tokenizers.list ('builtin:NAME' or 'dir:/path')")
const ratio = z.number().min(0).max(1)
const positive = z.number().finite().positive()
const count = z.number().int().min(1)
const trainSettingsOverrides = z
  .object({
    alpha: weight, beta: weight, gamma: weight,
    tau: z.number().min(0).max(100).nullable(),
    tauBand: z.tuple([z.number().min(0), z.number().min(0)]).refine(([lo, hi]) => lo <= hi, 'tauBand: low must not exceed high').nullable(),
    lr: positive.max(1), schedule: z.enum(['constant', 'cosine']), warmupSteps: z.number().int().min(0),
    weightDecay: z.number().min(0).max(1), clipNorm: z.number().min(0), microBatch: count.max(256), accumulation: count.max(4096),
    epochs: z.number().positive().max(1000), maxSteps: count.nullable(), seed: z.number().int().min(0).max(2 ** 31 - 1),
    maxLength: count.min(8).max(32768), heldOut: z.number().min(0).max(0.5), evalEvery: count, checkpointEvery: count,
    lora: z.object({ rank: count.max(1024), alpha: positive, targets: z.array(z.string().min(1).max(64)).min(1) }).strict().nullable(),
    efficiency: z.object({ sharedPrefix: z.boolean(), sparseHead: z.boolean(), bucketing: z.boolean() }).strict(),
  })
  .partial()
  .strict()

export const reviewFilters = z
  .object({
    minEditRatio: ratio.default(0),
    maxEditRatio: ratio.default(1),
    dropNoop: z.boolean().default(true),
    dropFullRewrite: z.boolean().default(false),
    fullRewriteAt: ratio.default(0.9),
    minChanged: z.number().int().min(0).default(0),
    dropExcluded: z.boolean().default(true),
  })
  .strict()

export const contract = {
  'app.info': call<AppInfo>()('Version, data folder and host of this app', z.object({}).strict()),

  'datasets.list': call<DatasetSummary[]>()('All datasets with their counts', z.object({}).strict()),
  'datasets.get': call<DatasetSummary>()('One dataset', z.object({ datasetId: rowId }).strict()),
  'datasets.preview': call<ImportPreview>()(
    'Read the first rows of a staged file: detected format, shape, mapping and normalised rows; writes nothing',
    z.object({ fileId, format: format.optional(), mapping: mapping.optional(), limit: z.number().int().min(1).max(200).default(20) }).strict(),
  ),
  'datasets.import': job<ImportReport>()(
    'Import a staged file into a dataset in one transaction',
    z
      .object({
        fileId,
        name: datasetName,
        format: format.optional(),
        mapping: mapping.optional(),
        skipBad: z.boolean().default(false),
        dedupe: z.boolean().default(false),
        append: z.boolean().default(false),
      })
      .strict(),
  ),
  'datasets.rename': call<DatasetSummary>()('Rename a dataset', z.object({ datasetId: rowId, name: datasetName }).strict()),
  'datasets.delete': call<{ deleted: number }>()(
    'Delete a dataset and its pairs; confirmName must equal its name',
    z.object({ datasetId: rowId, confirmName: z.string() }).strict(),
  ),
  'datasets.export': download('Export a dataset as JSONL in SPA shape (re-imports identically)', z.object({ datasetId: rowId }).strict()),

  'pairs.list': call<PairPage>()(
    'A page of a dataset\'s pairs, optionally filtered by a search text',
    z
      .object({
        datasetId: rowId,
        offset: z.number().int().min(0).default(0),
        limit: z.number().int().min(1).max(500).default(50),
        search: z.string().max(500).optional(),
        kind: z.enum(['pair', 'sft']).optional(),
      })
      .strict(),
  ),
  'pairs.get': call<PairRow>()('One pair', z.object({ pairId: rowId }).strict()),
  'pairs.update': call<PairRow>()(
    'Edit a pair\'s texts (the revised response, usually)',
    z
      .object({ pairId: rowId, instruction: text.min(1).optional(), input: text.optional(), original: text.optional(), revised: text.min(1).optional() })
      .strict()
      .refine((a) => a.instruction !== undefined || a.input !== undefined || a.original !== undefined || a.revised !== undefined, 'nothing to update: give instruction, input, original or revised'),
  ),

  'tokenizers.list': call<TokenizerInfo[]>()('Tokenizers the Review screen can use: built-in ones and those of added models', z.object({}).strict()),
  'signals.compute': job<{ total: number; computed: number; cached: number }>()(
    'Tokenize and align every pair of a dataset with a tokenizer (cached per pair content and tokenizer)',
    z.object({ datasetId: rowId, tokenizer }).strict(),
  ),
  'signals.stats': call<SignalStats>()(
    'Dataset statistics of the fine-grained signal: counts per class, edit-ratio histogram, what the filters keep',
    z.object({ datasetId: rowId, tokenizer, filters: reviewFilters.default(reviewFilters.parse({})) }).strict(),
  ),
  'signals.pairs': call<{ total: number; offset: number; rows: PairSignalSummary[] }>()(
    'A page of pairs with their edit ratio and counts, sorted and filtered',
    z
      .object({
        datasetId: rowId,
        tokenizer,
        filters: reviewFilters.default(reviewFilters.parse({})),
        show: z.enum(['all', 'kept', 'dropped']).default('all'),
        sort: z.enum(['position', 'editRatio', '-editRatio', '-changed']).default('position'),
        offset: z.number().int().min(0).default(0),
        limit: z.number().int().min(1).max(1000).default(200),
      })
      .strict(),
  ),
  'signals.pair': call<PairSignalView>()('One pair in tokens, aligned and classified', z.object({ pairId: rowId, tokenizer }).strict()),
  'signals.preview': call<PairSignalView>()(
    'Align two texts as a pair would be (live diff while editing a revision)',
    z.object({ tokenizer, original: text, revised: text }).strict(),
  ),
  'review.exclude': call<{ pairId: number; excluded: boolean }>()(
    'Exclude a pair from training selections by hand, or include it again (the dataset is not changed)',
    z.object({ pairId: rowId, excluded: z.boolean() }).strict(),
  ),
  'selections.save': call<Selection>()(
    'Save the pairs the filters keep as a named selection that training can use',
    z.object({ datasetId: rowId, name: datasetName, tokenizer, filters: reviewFilters }).strict(),
  ),
  'selections.list': call<Selection[]>()('Saved selections of a dataset', z.object({ datasetId: rowId }).strict()),
  'selections.delete': call<{ deleted: boolean }>()('Delete a saved selection', z.object({ selectionId: rowId }).strict()),

  'engine.info': call<EngineInfo>()('The TF.js backend models run on, and the preference that chose it', z.object({}).strict()),
  'engine.setBackend': call<EngineInfo>()(
    'Choose the backend: auto (tfjs-node-gpu, tfjs-node, WASM, then CPU), or one of them',
    z.object({ preference: z.enum(['auto', 'tensorflow', 'wasm', 'cpu']) }).strict(),
  ),
  'models.list': call<ModelSummary[]>()('Models added to the app', z.object({}).strict()),
  'models.inspect': call<ModelInspection>()(
    'Check a Hugging Face model folder (config.json, safetensors, tokenizer) without adding it',
    z.object({ path: folderPath }).strict(),
  ),
  'models.add': call<ModelSummary>()(
    'Add a Hugging Face model folder (GPT-2 or Llama family; safetensors, single or sharded)',
    z.object({ path: folderPath, name: datasetName.optional() }).strict(),
  ),
  'models.remove': call<{ removed: boolean }>()('Forget a model (its folder is not touched)', z.object({ modelId: rowId }).strict()),
  'generate.start': job<GenerationResult>()(
    'Generate a response with a model, streaming tokens as generate.token events',
    z
      .object({
        modelId: rowId,
        prompt: text.min(1, 'the prompt is empty'),
        input: text.default(''),
        system: text.optional(),
        history: z.array(message).max(200).default([]),
        template: z.enum(['alpaca', 'chat', 'raw']).default('alpaca'),
        ...sampling,
      })
      .strict(),
  ),

  'chat.list': call<ConversationSummary[]>()('Conversations, newest first', z.object({}).strict()),
  'chat.get': call<Conversation>()('A conversation with its turns', z.object({ conversationId: rowId }).strict()),
  'chat.create': call<Conversation>()(
    'Start a conversation with one model, or two side by side (blind: sides shuffled and unlabeled until you vote)',
    z
      .object({
        modelAId: rowId,
        modelBId: rowId.nullable().default(null),
        blind: z.boolean().default(false),
        template: z.enum(['alpaca', 'chat', 'raw']).default('alpaca'),
        system: text.optional(),
        title: datasetName.optional(),
      })
      .strict(),
  ),
  'chat.delete': call<{ deleted: boolean }>()('Delete a conversation', z.object({ conversationId: rowId }).strict()),
  'chat.send': call<{ turn: ChatTurn; jobs: { left: string; right: string | null } }>()(
    'Send a message to both sides; the answers stream as generate.token events of the returned jobs',
    z
      .object({
        conversationId: rowId,
        text: text.min(1, 'the message is empty'),
        sampling: z.object(sampling).strict().default(z.object(sampling).parse({})),
        /** Settings of the right side when they differ from the left's. */
        samplingRight: z.object(sampling).strict().optional(),
      })
      .strict(),
  ),
  'chat.vote': call<ChatTurn>()(
    'Vote for the left answer, the right one, or a tie; reveals the models in blind mode',
    z.object({ turnId: rowId, choice: z.enum(['left', 'right', 'tie']) }).strict(),
  ),
  'chat.winRates': call<WinRate[]>()('Win rates per model pair from the votes, with 95% intervals', z.object({}).strict()),
  'chat.revise': call<PairRow>()(
    'Turn an answer into a pair: original = the answer, revised = your edit, prompt = the message (earlier turns as history)',
    z
      .object({
        turnId: rowId,
        side: z.enum(['left', 'right']),
        revised: text.min(1, 'the revision is empty'),
        datasetId: rowId.optional(),
        newDataset: datasetName.optional(),
      })
      .strict()
      .refine((a) => (a.datasetId === undefined) !== (a.newDataset === undefined), 'give either datasetId or newDataset'),
  ),
  'eval.run': job<EvalReport>()(
    'Score two models on a dataset\'s held-out pairs: log-prob margin, perplexities, preference accuracy, answer length',
    z
      .object({
        modelAId: rowId,
        modelBId: rowId,
        datasetId: rowId,
        selectionId: rowId.optional(),
        split: z.enum(['heldout', 'all']).default('heldout'),
        heldOut: z.number().gt(0).max(0.5).default(0.1),
        seed: z.number().int().min(0).max(2 ** 31 - 1).default(0),
        limit: z.number().int().min(1).max(100_000).optional(),
        answerTokens: z.number().int().min(0).max(1024).default(0).describe('generate greedy answers of up to this many tokens (0: do not generate)'),
      })
      .strict(),
  ),
  'eval.demo': job<DemoStudyReport>()(
    'The demo study: train SFT and FIGA from the demo base model on the demo world with several seeds, answer its held-out prompts, and score defect and fix rates',
    z
      .object({
        modelId: rowId.optional().describe('the base model (default: the embedded demo model)'),
        seeds: z.array(z.number().int().min(0).max(2 ** 31 - 1)).min(1).max(10).default([1, 2, 3]),
        methods: z.array(z.enum(['sft', 'figa'])).min(1).max(2).default(['sft', 'figa']),
        maxSteps: z.number().int().min(1).max(100_000).optional().describe('training budget per run (default: the preset\'s epochs)'),
        gamma: z.number().min(0).max(10).optional().describe('FIGA\'s weight of the unchanged tokens of ŷ (default: the preset\'s, 0)'),
        answerTokens: z.number().int().min(1).max(512).default(64),
        limit: z.number().int().min(1).max(100_000).optional().describe('score only the first N held-out prompts'),
      })
      .strict(),
  ),
  'eval.list': call<EvalReport[]>()('Evaluations, newest first', z.object({}).strict()),
  'eval.export': download(
    'An evaluation\'s per-pair scores as CSV or JSONL',
    z.object({ evalId: rowId, format: z.enum(['csv', 'jsonl']).default('csv') }).strict(),
  ),

  'train.presets': call<{ recommended: string; presets: TrainPreset[] }>()(
    'Training presets fitted to a model\'s size (the recommended one is what one click uses)',
    z.object({ modelId: rowId, method: z.enum(['figa', 'sft']).default('figa') }).strict(),
  ),
  'runs.start': call<RunSummary>()(
    'Start training a model on a dataset (or a saved selection of it) in the background',
    z
      .object({
        datasetId: rowId,
        selectionId: rowId.optional(),
        modelId: rowId,
        method: z.enum(['figa', 'sft']).default('figa'),
        preset: z.string().min(1).max(40).optional(),
        settings: trainSettingsOverrides.default({}),
        name: datasetName.optional(),
      })
      .strict(),
  ),
  'runs.list': call<RunSummary[]>()('All training runs, newest first', z.object({}).strict()),
  'runs.get': call<RunDetail>()('One run with its settings', z.object({ runId: rowId }).strict()),
  'runs.metrics': call<RunMetrics[]>()(
    'The recorded metrics of one or more runs (for the dashboard and overlays)',
    z.object({ runIds: z.array(rowId).min(1).max(12) }).strict(),
  ),
  'runs.cancel': call<RunSummary>()('Stop a run; it keeps its last checkpoint and can resume', z.object({ runId: rowId }).strict()),
  'runs.resume': call<RunSummary>()(
    'Continue a stopped or interrupted run from its last checkpoint, exactly where it stopped',
    z.object({ runId: rowId }).strict(),
  ),
  'runs.delete': call<{ deleted: boolean }>()(
    'Delete a run from the list (and, with deleteFiles, its checkpoints)',
    z.object({ runId: rowId, deleteFiles: z.boolean().default(false) }).strict(),
  ),
  'runs.addModel': call<ModelSummary>()(
    'Add the run\'s final model (or its last checkpoint) to the models, to chat with or train further',
    z.object({ runId: rowId }).strict(),
  ),

  'jobs.list': call<JobInfo[]>()('Running and recent jobs', z.object({}).strict()),
  'jobs.cancel': call<{ cancelled: boolean }>()('Cancel a running job (an import rolls back)', z.object({ jobId: z.string().min(1).max(64) }).strict()),
} as const

export type Contract = typeof contract
export type MethodName = keyof Contract
export type ArgsOf<M extends MethodName> = z.input<Contract[M]['args']>
export type ParsedArgsOf<M extends MethodName> = z.output<Contract[M]['args']>
export type ResultOf<M extends MethodName> = NonNullable<Contract[M]['result']>
export type KindOf<M extends MethodName> = Contract[M]['kind']
export type MethodsOfKind<K extends Kind> = { [M in MethodName]: Contract[M]['kind'] extends K ? M : never }[MethodName]

export const methodNames = Object.keys(contract) as MethodName[]

export function isMethodName(name: unknown): name is MethodName {
  return typeof name === 'string' && Object.prototype.hasOwnProperty.call(contract, name)
}
