// Long work that runs inside a worker thread. Each task gets plain-data arguments and a
// context to report progress and observe cancellation; it returns plain data. Task modules
// load on demand, so that an import worker does not load TF.js.
import type { BackendPreference, GenerationToken, RunProgress } from '../api/types'
import type { ImportTaskArgs } from './import-task'
import type { SignalsTaskArgs } from './signals-task'
import type { GenerateTaskArgs } from './engine-task'
import type { TrainTaskArgs } from './train-task'
import type { EvalTaskArgs } from './eval-task'
import type { DemoStudyTaskArgs } from './demo-task'

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
  import: async (args: ImportTaskArgs, ctx: TaskContext) => (await import('./import-task')).runImport(args, ctx),
  signals: async (args: SignalsTaskArgs, ctx: TaskContext) => (await import('./signals-task')).runSignals(args, ctx),
  engine: async (args: { preference: BackendPreference }) => (await import('./engine-task')).runEngineInfo(args),
  generate: async (args: GenerateTaskArgs, ctx: TaskContext) => (await import('./engine-task')).runGenerate(args, ctx),
  train: async (args: TrainTaskArgs, ctx: TaskContext) => (await import('./train-task')).runTraining(args, ctx),
  eval: async (args: EvalTaskArgs, ctx: TaskContext) => (await import('./eval-task')).runEval(args, ctx),
  demoStudy: async (args: DemoStudyTaskArgs, ctx: TaskContext) => (await import('./demo-task')).runDemoStudyTask(args, ctx),
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
