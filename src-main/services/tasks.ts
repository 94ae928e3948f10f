// Long work that runs inside a worker thread. Each task gets plain-data arguments and a
// context to report progress and observe cancellation; it returns plain data.
import { runImport, type ImportTaskArgs } from './import-task'
import { runSignals, type SignalsTaskArgs } from './signals-task'
import { runEngineInfo, runGenerate, type GenerateTaskArgs } from './engine-task'
import type { BackendPreference, GenerationToken } from '../api/types'

export interface TaskContext {
  signal: AbortSignal
  progress(done: number, total: number, unit: string, message: string): void
  /** Streams a job event (e.g. each generated token) to the UI; the job id is added for it. */
  emit(event: 'generate.token', payload: Omit<GenerationToken, 'jobId'>): void
}

export const tasks = {
  import: (args: ImportTaskArgs, ctx: TaskContext) => runImport(args, ctx),
  signals: (args: SignalsTaskArgs, ctx: TaskContext) => runSignals(args, ctx),
  engine: (args: { preference: BackendPreference }) => runEngineInfo(args),
  generate: (args: GenerateTaskArgs, ctx: TaskContext) => runGenerate(args, ctx),
}

export type TaskName = keyof typeof tasks
export type TaskArgs<T extends TaskName> = Parameters<(typeof tasks)[T]>[0]

/** Messages between a job's owner (main thread) and its worker. */
export type ToWorker = { type: 'run'; task: TaskName; args: unknown } | { type: 'cancel' }
export type FromWorker =
  | { type: 'progress'; done: number; total: number; unit: string; message: string }
  | { type: 'event'; event: 'generate.token'; payload: Omit<GenerationToken, 'jobId'> }
  | { type: 'result'; result: unknown }
  | { type: 'error'; error: { code: string; message: string; details?: unknown } }
