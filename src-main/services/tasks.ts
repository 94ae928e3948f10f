// Long work that runs inside a worker thread. Each task gets plain-data arguments and a
// context to report progress and observe cancellation; it returns plain data.
import { runImport, type ImportTaskArgs } from './import-task'
import { runSignals, type SignalsTaskArgs } from './signals-task'
import { runEngineInfo, runGenerate, type GenerateTaskArgs } from './engine-task'
import type { BackendPreference, GenerationToken, RunProgress } from '../api/types'
import { runTraining, type TrainTaskArgs } from './train-task'
import { runEval, type EvalTaskArgs } from './eval-task'

export interface TaskContext {
  signal: AbortSignal
  progress(done: number, total: number, unit: string, message: string): void
  /** Streams a job event (each generated token, each training step) to the UI. */
  emit<E extends WorkerEvent>(event: E, payload: WorkerEventPayload<E>): void
}

/** Events a worker may send; the job id is added to generate.token by the job manager. */
export type WorkerEvent = 'generate.token' | 'run.progress'
export type WorkerEventPayload<E extends WorkerEvent> = E extends 'generate.token' ? Omit<GenerationToken, 'jobId'> : RunProgress

export const tasks = {
  import: (args: ImportTaskArgs, ctx: TaskContext) => runImport(args, ctx),
  signals: (args: SignalsTaskArgs, ctx: TaskContext) => runSignals(args, ctx),
  engine: (args: { preference: BackendPreference }) => runEngineInfo(args),
  generate: (args: GenerateTaskArgs, ctx: TaskContext) => runGenerate(args, ctx),
  train: (args: TrainTaskArgs, ctx: TaskContext) => runTraining(args, ctx),
  eval: (args: EvalTaskArgs, ctx: TaskContext) => runEval(args, ctx),
}

export type TaskName = keyof typeof tasks
export type TaskArgs<T extends TaskName> = Parameters<(typeof tasks)[T]>[0]

/** Messages between a job's owner (main thread) and its worker. */
export type ToWorker = { type: 'run'; task: TaskName; args: unknown } | { type: 'cancel' }
export type FromWorker =
  | { type: 'progress'; done: number; total: number; unit: string; message: string }
  | { type: 'event'; event: WorkerEvent; payload: WorkerEventPayload<WorkerEvent> }
  | { type: 'result'; result: unknown }
  | { type: 'error'; error: { code: string; message: string; details?: unknown } }
