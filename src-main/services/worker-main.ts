// Entry point of every worker thread: runs one task, posts progress, honours cancel — or, started
// with the role 'gradients', serves a training run as a gradient helper (train/gradient-worker.ts).
import { parentPort, workerData } from 'node:worker_threads'
import { ApiError } from '../api/errors'
import { serveGradients } from '../train/gradient-worker'
import { tasks, type FromWorker, type TaskName, type ToWorker } from './tasks'

if (!parentPort) throw new Error('worker-main must run in a worker thread')
const port = parentPort

if ((workerData as { role?: string } | null)?.role === 'gradients') serveGradients(port)
else serveTask()

function serveTask(): void {
  const controller = new AbortController()
  const post = (message: FromWorker) => port.postMessage(message)

  port.on('message', (message: ToWorker) => {
    if (message.type === 'cancel') controller.abort()
    else void run(message.task, message.args)
  })

  async function run(name: TaskName, args: unknown): Promise<void> {
    try {
      const task = tasks[name] as (args: unknown, ctx: Parameters<(typeof tasks)[TaskName]>[1]) => Promise<unknown>
      const result = await task(args, {
        signal: controller.signal,
        progress: (done, total, unit, message) => post({ type: 'progress', done, total, unit, message }),
        emit: (event, payload) => post({ type: 'event', event, payload }),
      })
      post({ type: 'result', result })
    } catch (error) {
      const apiError = controller.signal.aborted ? new ApiError('cancelled', 'cancelled') : ApiError.from(error)
      post({ type: 'error', error: apiError.toData() })
    } finally {
      port.close()
    }
  }
}
