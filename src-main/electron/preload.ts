// The sandboxed preload: exposes exactly the contract's methods, nothing of Node or Electron.
import { contextBridge, ipcRenderer, webUtils } from 'electron'
import { isMethodName } from '../api/contract'
import type { EventName } from '../api/types'
import { CHANNEL, type Envelope, type PreloadApi } from './ipc'

const refuse = (message: string): Promise<Envelope> => Promise.resolve({ ok: false, error: { code: 'invalid_argument', message } })

const api: PreloadApi = {
  call: (method, args) => (isMethodName(method) ? ipcRenderer.invoke(CHANNEL.call, method, args) : refuse(`unknown method ${String(method)}`)),
  // The path of a picked or dropped File is known here only; the main process checks it.
  stageFile: (file) => ipcRenderer.invoke(CHANNEL.stageFile, webUtils.getPathForFile(file)),
  download: (method, args) => (isMethodName(method) ? ipcRenderer.invoke(CHANNEL.download, method, args) : refuse(`unknown method ${String(method)}`)) as Promise<Envelope<{ saved: string | null }>>,
  onEvent: (listener) => {
    const forward = (_e: unknown, event: EventName, payload: unknown) => listener(event, payload)
    ipcRenderer.on(CHANNEL.event, forward)
    return () => ipcRenderer.off(CHANNEL.event, forward)
  },
}

contextBridge.exposeInMainWorld('figa', api)
