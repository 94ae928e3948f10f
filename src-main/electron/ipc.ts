// IPC channel names and envelopes shared by the main process and the preload.
import type { ApiErrorData, EventName } from '../api/types'

export const CHANNEL = {
  call: 'figa:call',
  stageFile: 'figa:stage-file',
  download: 'figa:download',
  event: 'figa:event',
} as const

/** Results cross IPC as an envelope: thrown errors would lose their code on the way. */
export type Envelope<T = unknown> = { ok: true; result: T } | { ok: false; error: ApiErrorData }

export interface PreloadApi {
  call(method: string, args: unknown): Promise<Envelope>
  stageFile(file: File): Promise<Envelope>
  download(method: string, args: unknown): Promise<Envelope<{ saved: string | null }>>
  onEvent(listener: (event: EventName, payload: unknown) => void): () => void
}
