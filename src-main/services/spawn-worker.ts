import os from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Worker } from 'node:worker_threads'
import type { HelperOptions } from '../train/gradient-helpers'

/** What a worker thread runs: one task (worker-main), or a training run's gradient helper. */
export type WorkerRole = 'task' | 'gradients'

/** Starts a worker thread running worker-main, from sources (via tsx) or from the desktop build. */
export function spawnWorker(role: WorkerRole = 'task'): Worker {
  const here = fileURLToPath(import.meta.url)
  if (here.endsWith('.ts')) {
    return new Worker(join(dirname(here), 'worker-boot.mjs'), { workerData: { entry: join(dirname(here), 'worker-main.ts'), role } })
  }
  // electron-vite bundles this module into out/main/index.js, next to out/main/worker.js.
  return new Worker(join(dirname(here), 'worker.js'), { workerData: { role } })
}

/**
 * How a training run on WASM uses the cores: one engine per core, up to four (the trainer plus
 * gradient helpers, see train/gradient-helpers.ts), each with the cores' share of threads.
 * Measured on the 2-core bench machine: two one-thread engines 1.13× one engine with two threads.
 * FIGA_TRAIN_ENGINES (1 = no helpers) and FIGA_WASM_THREADS override the choice.
 */
export function trainingParallelism(): { threads: number; helpers: HelperOptions | undefined } {
  const cores = os.availableParallelism()
  const engines = positiveInt(process.env.FIGA_TRAIN_ENGINES, 'FIGA_TRAIN_ENGINES') ?? Math.min(4, cores)
  const threads = positiveInt(process.env.FIGA_WASM_THREADS, 'FIGA_WASM_THREADS') ?? Math.max(1, Math.floor(cores / engines))
  return { threads, helpers: engines > 1 ? { count: engines - 1, threads, spawn: () => spawnWorker('gradients') } : undefined }
}

function positiveInt(v: string | undefined, name: string): number | undefined {
  if (v === undefined || v === '' || v === 'auto') return undefined
  const n = Number(v)
  if (!Number.isInteger(n) || n < 1) throw new Error(`${name} must be a positive integer or auto (got "${v}")`)
  return n
}
