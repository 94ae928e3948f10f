// The trainer's side of data parallelism: gradient helper workers (gradient-worker.ts), each with
// its own WASM engine and model copy. A step's pairs, sorted by length, are dealt round-robin —
// pair i to worker i mod W, worker 0 being the trainer itself, so every worker gets as many long
// and short pairs — each worker cuts its share into micro-batches, and the shares are summed in
// worker order: a run is deterministic for a given number of workers. (Another worker count
// changes only the order of float additions; the loss is normalised over the whole step.)

import type { Worker } from 'node:worker_threads'
import type { PreparedPair } from './data'
import type { FromHelper, ToHelper } from './gradient-worker'
import type { StepGradients } from './step'

/** How to start helpers: how many, their WASM threads each, and a function that starts one worker running serveGradients. */
export interface HelperOptions {
  count: number
  threads?: number
  spawn: () => Worker
}

interface Pending {
  resolve: (g: StepGradients) => void
  reject: (e: Error) => void
}

/** The items of worker `w` of `workers` (round-robin). */
export function shareOf<T>(batches: T[], w: number, workers: number): T[] {
  return batches.filter((_, i) => i % workers === w)
}

export class GradientHelpers {
  private readonly pending = new Map<Worker, Pending>()
  private failed: Error | null = null

  private constructor(private readonly workers: Worker[]) {
    for (const w of workers) {
      w.on('message', (m: FromHelper) => {
        const p = this.pending.get(w)
        if (!p) return
        this.pending.delete(w)
        if (m.type === 'grads') p.resolve(m.grads)
        else if (m.type === 'error') p.reject(new Error(`gradient helper: ${m.message}`))
      })
      const fail = (e: Error) => {
        this.failed = e
        this.pending.get(w)?.reject(e)
        this.pending.delete(w)
      }
      w.on('error', (e) => fail(e instanceof Error ? e : new Error(String(e))))
      w.on('exit', (code) => fail(new Error(`a gradient helper stopped (exit code ${code})`)))
    }
  }

  get count(): number {
    return this.workers.length
  }

  /** Start `opts.count` helpers for a model (its config.json and current weights) and the run's settings. */
  static async start(opts: HelperOptions, init: Omit<Extract<ToHelper, { type: 'init' }>, 'type' | 'threads'>): Promise<GradientHelpers> {
    const workers: Worker[] = []
    try {
      for (let i = 0; i < opts.count; i++) workers.push(opts.spawn())
      await Promise.all(
        workers.map(
          (w) =>
            new Promise<void>((resolve, reject) => {
              const onMessage = (m: FromHelper) => {
                w.off('error', reject)
                if (m.type === 'ready') resolve()
                else reject(new Error(`gradient helper: ${m.type === 'error' ? m.message : 'unexpected reply'}`))
              }
              w.once('message', onMessage)
              w.once('error', reject)
              w.postMessage({ type: 'init', ...init, threads: opts.threads ?? 1 } satisfies ToHelper)
            }),
        ),
      )
    } catch (e) {
      await Promise.all(workers.map((w) => w.terminate()))
      throw e
    }
    return new GradientHelpers(workers)
  }

  /**
   * Send helper k its pairs `shares[k]` with the current parameters; resolves to their gradient
   * sums in helper order. The parameter arrays are the caller's to give away: the last helper
   * receives them (transferred, not copied), the others copies.
   */
  run(params: Map<string, Float32Array>, shares: PreparedPair[][]): Promise<StepGradients[]> {
    if (this.failed) return Promise.reject(this.failed)
    const last = this.workers.length - 1
    return Promise.all(
      this.workers.map(
        (w, k) =>
          new Promise<StepGradients>((resolve, reject) => {
            this.pending.set(w, { resolve, reject })
            const transfer = k === last ? [...params.values()].map((a) => a.buffer as ArrayBuffer) : []
            w.postMessage({ type: 'step', params, pairs: shares[k] } satisfies ToHelper, transfer)
          }),
      ),
    )
  }

  async dispose(): Promise<void> {
    this.failed = new Error('the gradient helpers were stopped')
    await Promise.all(this.workers.map((w) => w.removeAllListeners('exit').terminate()))
  }
}
