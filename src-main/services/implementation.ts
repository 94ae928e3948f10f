// Types that bind service functions to the contract: one implementation per method, of the
// shape its kind requires. The compiler rejects a contract entry without an implementation.
import type { Readable } from 'node:stream'
import type { Contract, MethodName, ParsedArgsOf, ResultOf } from '../api/contract'
import type { TaskArgs, TaskName } from './tasks'

export interface CallContext {
  host: 'electron' | 'web' | 'cli'
}

export interface JobPlan<T extends TaskName = TaskName> {
  label: string
  task: T
  args: TaskArgs<T>
  /** Runs in the main thread when the job succeeds (e.g. to tell the UI what changed). */
  onDone?: (result: unknown) => void
}

export interface DownloadPlan {
  fileName: string
  contentType: string
  stream: () => Readable
}

type ImplFor<M extends MethodName> = Contract[M]['kind'] extends 'call'
  ? (args: ParsedArgsOf<M>, ctx: CallContext) => ResultOf<M> | Promise<ResultOf<M>>
  : Contract[M]['kind'] extends 'job'
    ? (args: ParsedArgsOf<M>, ctx: CallContext) => JobPlan | Promise<JobPlan>
    : (args: ParsedArgsOf<M>, ctx: CallContext) => DownloadPlan | Promise<DownloadPlan>

export type Implementation = { [M in MethodName]: ImplFor<M> }
