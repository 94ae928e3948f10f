import { EventEmitter } from 'node:events'
import type { EventMap, EventName } from '../api/types'

/** Typed fan-out of service events to every connected door (IPC, WebSocket, CLI). */
export class EventBus {
  private readonly emitter = new EventEmitter().setMaxListeners(0)

  emit<E extends EventName>(event: E, payload: EventMap[E]): void {
    this.emitter.emit(event, payload)
    this.emitter.emit('*', event, payload)
  }

  on<E extends EventName>(event: E, listener: (payload: EventMap[E]) => void): () => void {
    this.emitter.on(event, listener)
    return () => this.emitter.off(event, listener)
  }

  /** Every event, for transports that forward all of them. */
  onAny(listener: <E extends EventName>(event: E, payload: EventMap[E]) => void): () => void {
    this.emitter.on('*', listener)
    return () => this.emitter.off('*', listener)
  }
}
