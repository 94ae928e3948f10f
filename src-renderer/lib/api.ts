// The typed API client: the only way the UI talks to the app. Two transports carry the same
// contract: the Electron preload (IPC) and the web host (HTTP + WebSocket).
import type { ArgsOf, MethodName, MethodsOfKind, ResultOf } from '../../src-main/api/contract'
import type { ApiErrorData, EventMap, EventName, FileRef, JobFinished, JobProgress } from '../../src-main/api/types'
import type { Envelope, PreloadApi } from '../../src-main/electron/ipc'

export class ClientError extends Error {
  constructor(readonly code: string, message: string, readonly details?: unknown) {
    super(message)
  }
}

interface Transport {
  call(method: string, args: unknown): Promise<unknown>
  stageFile(file: File): Promise<FileRef>
  download(method: string, args: unknown): Promise<void>
  onEvent(listener: (event: EventName, payload: unknown) => void): () => void
}

function unwrap<T>(e: Envelope<T>): T {
  if (e.ok) return e.result
  throw new ClientError(e.error.code, e.error.message, e.error.details)
}

function electronTransport(bridge: PreloadApi): Transport {
  return {
    call: async (method, args) => unwrap(await bridge.call(method, args)),
    stageFile: async (file) => unwrap(await bridge.stageFile(file)) as FileRef,
    download: async (method, args) => void unwrap(await bridge.download(method, args)),
    onEvent: (listener) => bridge.onEvent(listener),
  }
}

function webTransport(token: string): Transport {
  const listeners = new Set<(event: EventName, payload: unknown) => void>()
  let socket: WebSocket | null = null
  const connect = () => {
    socket = new WebSocket(`${location.origin.replace(/^http/, 'ws')}/api/events?token=${encodeURIComponent(token)}`)
    socket.onmessage = (m) => {
      const { event, payload } = JSON.parse(m.data as string) as { event: EventName; payload: unknown }
      for (const l of listeners) l(event, payload)
    }
    // Reconnect after a host restart or a dropped connection.
    socket.onclose = () => setTimeout(connect, 1000)
  }
  connect()

  const post = async (path: string, body: BodyInit, contentType: string): Promise<unknown> => {
    const response = await fetch(path, { method: 'POST', headers: { 'X-Figa-Token': token, 'Content-Type': contentType }, body })
    const json = (await response.json()) as { result?: unknown; error?: ApiErrorData }
    if (json.error) throw new ClientError(json.error.code, json.error.message, json.error.details)
    return json.result
  }
  return {
    call: (method, args) => post(`/api/call/${encodeURIComponent(method)}`, JSON.stringify(args ?? {}), 'application/json'),
    stageFile: (file) => post(`/api/upload?name=${encodeURIComponent(file.name)}`, file, 'application/octet-stream') as Promise<FileRef>,
    download: async (method, args) => {
      const a = document.createElement('a')
      a.href = `/api/download/${encodeURIComponent(method)}?args=${encodeURIComponent(JSON.stringify(args))}&token=${encodeURIComponent(token)}`
      a.download = ''
      document.body.append(a)
      a.click()
      a.remove()
    },
    onEvent: (listener) => {
      listeners.add(listener)
      return () => listeners.delete(listener)
    },
  }
}

function pickTransport(): Transport {
  const bridge = (window as unknown as { figa?: PreloadApi }).figa
  if (bridge) return electronTransport(bridge)
  const token = document.querySelector<HTMLMetaElement>('meta[name="figa-token"]')?.content
  if (!token) throw new ClientError('unauthorized', 'no session token: open the URL that FIGA Studio printed')
  return webTransport(token)
}

const transport = pickTransport()

export const api = {
  call<M extends MethodsOfKind<'call'>>(method: M, args: ArgsOf<M>): Promise<ResultOf<M>> {
    return transport.call(method, args) as Promise<ResultOf<M>>
  },

  /** Starts a job and resolves with its result; progress arrives through `onProgress`. */
  async job<M extends MethodsOfKind<'job'>>(method: M, args: ArgsOf<M>, onProgress?: (p: JobProgress) => void, onStart?: (jobId: string) => void): Promise<ResultOf<M>> {
    // Listen before starting: events may arrive before the call returns the job id.
    const early: Array<{ event: EventName; payload: unknown }> = []
    let jobId: string | null = null
    let settle: { resolve: (v: unknown) => void; reject: (e: unknown) => void } | null = null
    const done = new Promise((resolve, reject) => (settle = { resolve, reject }))
    const handle = (event: EventName, payload: unknown) => {
      if (event === 'job.progress' && (payload as JobProgress).jobId === jobId) onProgress?.(payload as JobProgress)
      if (event === 'job.finished' && (payload as JobFinished).jobId === jobId) {
        const f = payload as JobFinished
        if (f.state === 'done') settle!.resolve(f.result)
        else settle!.reject(new ClientError(f.error?.code ?? f.state, f.error?.message ?? f.state, f.error?.details))
      }
    }
    const off = transport.onEvent((event, payload) => (jobId === null ? early.push({ event, payload }) : handle(event, payload)))
    try {
      ;({ jobId } = (await transport.call(method, args)) as { jobId: string })
      onStart?.(jobId!)
      for (const e of early.splice(0)) handle(e.event, e.payload)
      return (await done) as ResultOf<M>
    } finally {
      off()
    }
  },

  download<M extends MethodsOfKind<'download'>>(method: M, args: ArgsOf<M>): Promise<void> {
    return transport.download(method, args)
  },

  stageFile(file: File): Promise<FileRef> {
    return transport.stageFile(file)
  },

  on<E extends EventName>(event: E, listener: (payload: EventMap[E]) => void): () => void {
    return transport.onEvent((name, payload) => name === event && listener(payload as EventMap[E]))
  },
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}
