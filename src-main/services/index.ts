import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { MethodName } from '../api/contract'
import { contract } from '../api/contract'
import { ApiError } from '../api/errors'
import type { JobProgress } from '../api/types'
import { parseCall } from '../api/validate'
import { getMeta, openDb, setMeta, type Db } from '../store/db'
import { listDatasets } from '../store/datasets'
import { listModels } from '../store/models'
import { EventBus } from './events'
import { FileRegistry } from './files'
import { runImport } from './import-task'
import type { CallContext, DownloadPlan, JobPlan } from './implementation'
import { JobManager } from './jobs'
import { Training } from './training'
import { Chat } from './chat'
import { implementMethods } from './methods'
import { addModel } from './models'
import { appRoot, resourcesDir } from './paths'

export interface Services {
  db: Db
  dataDir: string
  events: EventBus
  files: FileRegistry
  jobs: JobManager
  training: Training
  /** Validates and runs a 'call' method, or starts a 'job' method and returns { jobId }. */
  call(method: unknown, args: unknown, ctx: CallContext): Promise<unknown>
  /** Validates and runs a 'job' method, waiting for it (CLI). */
  runJob(method: unknown, args: unknown, ctx: CallContext, onProgress?: (p: JobProgress) => void): Promise<unknown>
  /** Validates and plans a 'download' method. */
  download(method: unknown, args: unknown, ctx: CallContext): Promise<DownloadPlan>
  close(): Promise<void>
}

export interface ServiceOptions {
  dataDir: string
  /** Register the embedded demo datasets and model in an empty, never-seeded store. */
  seedDemo?: boolean
}

export async function createServices(options: ServiceOptions): Promise<Services> {
  const { dataDir } = options
  const db = openDb(dataDir)
  const events = new EventBus()
  const files = new FileRegistry(dataDir)
  const jobs = new JobManager(events)
  const training = new Training(db, dataDir, jobs, events)
  const chat = new Chat(db, jobs, events)
  const impl = implementMethods({ db, dataDir, version: appVersion(), events, files, jobs, training, chat })

  if (options.seedDemo) await seedDemo(db, dataDir)

  const invoke = (method: MethodName, args: unknown, ctx: CallContext) =>
    (impl[method] as (a: unknown, c: CallContext) => unknown)(args, ctx)

  const startJob = async (method: MethodName, args: unknown, ctx: CallContext) => {
    const plan = (await invoke(method, args, ctx)) as JobPlan
    const started = jobs.start(method, plan.label, plan.task, plan.args)
    started.finished.then((result) => plan.onDone?.(result), () => {})
    return started
  }

  return {
    db, dataDir, events, files, jobs, training,
    call: (method, rawArgs, ctx) =>
      asApiErrors(async () => {
        const { method: m, args } = parseCall(method, rawArgs)
        const kind = contract[m].kind
        if (kind === 'download') throw new ApiError('invalid_argument', `${m} is a download: fetch it, do not call it`)
        if (kind === 'job') return { jobId: (await startJob(m, args, ctx)).jobId }
        return invoke(m, args, ctx)
      }),
    runJob: (method, rawArgs, ctx, onProgress) =>
      asApiErrors(async () => {
        const { method: m, args } = parseCall(method, rawArgs)
        if (contract[m].kind !== 'job') throw new ApiError('invalid_argument', `${m} is not a job`)
        const started = await startJob(m, args, ctx)
        const off = onProgress ? events.on('job.progress', (p) => p.jobId === started.jobId && onProgress(p)) : () => {}
        try {
          return await started.finished
        } finally {
          off()
        }
      }),
    download: (method, rawArgs, ctx) =>
      asApiErrors(async () => {
        const { method: m, args } = parseCall(method, rawArgs)
        if (contract[m].kind !== 'download') throw new ApiError('invalid_argument', `${m} is not a download`)
        return (await invoke(m, args, ctx)) as DownloadPlan
      }),
    async close() {
      await jobs.stopAll()
      db.close()
    },
  }
}

/** Every error leaving the services is an ApiError: a code for programs, a message for people. */
async function asApiErrors<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work()
  } catch (error) {
    throw ApiError.from(error)
  }
}

function appVersion(): string {
  try {
    return (JSON.parse(readFileSync(join(appRoot(), 'package.json'), 'utf8')) as { version: string }).version
  } catch {
    return '0.0.0'
  }
}

/**
 * The first start of an empty store registers the embedded demo world, once: the demo dataset
 * (its training split), its held-out split and the demo base model, so that Train, Chat and
 * Evaluate work with nothing downloaded.
 */
async function seedDemo(db: Db, dataDir: string): Promise<void> {
  if (getMeta(db, 'demo_seeded') || listDatasets(db).length > 0 || listModels(db).length > 0) return
  const demo = join(resourcesDir(), 'demo')
  const context = { signal: new AbortController().signal, progress: () => {}, emit: () => {} }
  for (const [file, name] of [['demo-spa.jsonl', 'demo'], ['demo-heldout.jsonl', 'demo-heldout']] as const) {
    await runImport({ dataDir, path: join(demo, file), name, skipBad: false, dedupe: false, append: false }, context)
  }
  await addModel(db, join(resourcesDir(), 'demo-model'), 'demo-model')
  setMeta(db, 'demo_seeded', new Date().toISOString())
}
