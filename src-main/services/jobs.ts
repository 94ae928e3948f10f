import { randomBytes } from 'node:crypto'
import type { Worker } from 'node:worker_threads'
import { ApiError } from '../api/errors'
import type { GenerationToken, JobFinished, JobInfo, JobProgress, RunProgress } from '../api/types'
import type { EventBus } from './events'
import { spawnWorker } from './spawn-worker'
import type { FromWorker, TaskArgs, TaskName, ToWorker } from './tasks'

interface Job {
  info: JobInfo
  worker: Worker
  cancelRequested: boolean
  finished: Promise<unknown>
}

const KEEP_FINISHED = 50
const PROGRESS_INTERVAL_MS = 100

/** Runs tasks in worker threads, one worker per job, and publishes their progress as events. */
export class JobManager {
  private readonly jobs = new Map<string, Job>()

  constructor(private readonly events: EventBus) {}

  start<T extends TaskName>(method: string, label: string, task: T, args: TaskArgs<T>): { jobId: string; finished: Promise<unknown> } {
    const jobId = randomBytes(8).toString('hex')
    const worker = spawnWorker()
    const info: JobInfo = { jobId, method, label, state: 'running', startedAt: new Date().toISOString(), progress: null }
    let lastProgressAt = 0

    const finished = new Promise<unknown>((resolve, reject) => {
      let settled = false
      const finish = (outcome: Omit<JobFinished, 'jobId'>) => {
        if (settled) return
        settled = true
        // A WASM thread pool keeps a worker alive after its task: end it here.
        void worker.terminate()
        info.state = outcome.state
        this.events.emit('job.finished', { jobId, ...outcome })
        this.prune()
        if (outcome.state === 'done') resolve(outcome.result)
        else reject(ApiError.from(outcome.error))
      }
      worker.on('message', (message: FromWorker) => {
        if (message.type === 'progress') {
          const progress: JobProgress = { jobId, done: message.done, total: message.total, unit: message.unit, message: message.message }
          info.progress = progress
          const t = Date.now()
          if (t - lastProgressAt >= PROGRESS_INTERVAL_MS || message.done === message.total) {
            lastProgressAt = t
            this.events.emit('job.progress', progress)
          }
        } else if (message.type === 'event') {
          if (message.event === 'generate.token') this.events.emit('generate.token', { jobId, ...(message.payload as Omit<GenerationToken, 'jobId'>) })
          else this.events.emit('run.progress', message.payload as RunProgress)
        } else if (message.type === 'result') {
          finish({ state: 'done', result: message.result })
        } else {
          const state = message.error.code === 'cancelled' ? 'cancelled' : 'failed'
          finish({ state, error: message.error as JobFinished['error'] })
        }
      })
      worker.on('error', (error) => finish({ state: 'failed', error: ApiError.from(error).toData() }))
      worker.on('exit', (code) => {
        const job = this.jobs.get(jobId)
        if (job?.cancelRequested) finish({ state: 'cancelled', error: { code: 'cancelled', message: 'cancelled' } })
        else finish({ state: 'failed', error: { code: 'failed', message: `worker stopped unexpectedly (exit code ${code})` } })
      })
    })
    // Callers that only watch events must not trip an unhandled rejection.
    finished.catch(() => {})

    this.jobs.set(jobId, { info, worker, cancelRequested: false, finished })
    worker.postMessage({ type: 'run', task, args } satisfies ToWorker)
    return { jobId, finished }
  }

  cancel(jobId: string): boolean {
    const job = this.jobs.get(jobId)
    if (!job || job.info.state !== 'running') return false
    job.cancelRequested = true
    job.worker.postMessage({ type: 'cancel' } satisfies ToWorker)
    return true
  }

  list(): JobInfo[] {
    return [...this.jobs.values()].map((j) => ({ ...j.info }))
  }

  wait(jobId: string): Promise<unknown> {
    const job = this.jobs.get(jobId)
    if (!job) return Promise.reject(new ApiError('not_found', `no job ${jobId}`))
    return job.finished
  }

  /** Cancels everything still running and waits for the workers to wind down (shutdown). */
  async stopAll(): Promise<void> {
    const running = [...this.jobs.values()].filter((j) => j.info.state === 'running')
    for (const job of running) this.cancel(job.info.jobId)
    await Promise.allSettled(running.map((j) => j.finished))
  }

  private prune(): void {
    const finished = [...this.jobs.values()].filter((j) => j.info.state !== 'running')
    for (const job of finished.slice(0, Math.max(0, finished.length - KEEP_FINISHED))) this.jobs.delete(job.info.jobId)
  }
}
