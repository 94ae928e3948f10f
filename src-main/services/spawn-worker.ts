import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Worker } from 'node:worker_threads'

/** Starts a worker thread running worker-main, from sources (via tsx) or from the desktop build. */
export function spawnWorker(): Worker {
  const here = fileURLToPath(import.meta.url)
  if (here.endsWith('.ts')) {
    return new Worker(join(dirname(here), 'worker-boot.mjs'), { workerData: { entry: join(dirname(here), 'worker-main.ts') } })
  }
  // electron-vite bundles this module into out/main/index.js, next to out/main/worker.js.
  return new Worker(join(dirname(here), 'worker.js'))
}
