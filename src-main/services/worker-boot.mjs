// Running from TypeScript sources (tsx, vitest): register tsx inside the worker, then load
// the real entry. The desktop build spawns the bundled worker.js instead.
import { register } from 'tsx/esm/api'
import { workerData } from 'node:worker_threads'
import { pathToFileURL } from 'node:url'

register()
await import(pathToFileURL(workerData.entry).href)
