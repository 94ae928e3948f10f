// The desktop shell: one window over the shared services, wired through validated IPC.
import { createWriteStream } from 'node:fs'
import { join } from 'node:path'
import { pipeline } from 'node:stream/promises'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { app, BrowserWindow, dialog, ipcMain, session, type IpcMainInvokeEvent } from 'electron'
import { ApiError } from '../api/errors'
import { createServices, type Services } from '../services'
import { dataDirFromArgv, APP_NAME } from '../services/data-dir'
import { CHANNEL, type Envelope } from './ipc'
import { hardenWebContents, isTrustedSender, windowOptions } from './window'

const here = fileURLToPath(new URL('.', import.meta.url))
const rendererIndex = join(here, '../renderer/index.html')
const appUrl = pathToFileURL(rendererIndex).href
const isAppUrl = (url: string) => url.split('#')[0].split('?')[0] === appUrl
const ctx = { host: 'electron' as const }

app.setName(APP_NAME)
const dataDirOverride = dataDirFromArgv(process.argv) ?? process.env.FIGA_DATA_DIR
if (dataDirOverride) app.setPath('userData', dataDirOverride)

let services: Services | undefined
let window: BrowserWindow | undefined

async function envelope<T>(event: IpcMainInvokeEvent, work: () => Promise<T> | T): Promise<Envelope<T>> {
  if (!isTrustedSender(event.senderFrame?.url, isAppUrl)) return { ok: false, error: { code: 'unauthorized', message: 'untrusted sender' } }
  try {
    return { ok: true, result: await work() }
  } catch (error) {
    return { ok: false, error: ApiError.from(error).toData() }
  }
}

function wireIpc(s: Services): void {
  ipcMain.handle(CHANNEL.call, (event, method: unknown, args: unknown) => envelope(event, () => s.call(method, args, ctx)))
  ipcMain.handle(CHANNEL.stageFile, (event, path: unknown) =>
    envelope(event, () => {
      if (typeof path !== 'string' || path === '') throw new ApiError('invalid_argument', 'no file path (drop a file from disk)')
      return s.files.registerUserPath(path)
    }),
  )
  ipcMain.handle(CHANNEL.download, (event, method: unknown, args: unknown) =>
    envelope(event, async () => {
      const plan = await s.download(method, args, ctx)
      const choice = await dialog.showSaveDialog(window!, { defaultPath: plan.fileName })
      if (choice.canceled || !choice.filePath) return { saved: null }
      await pipeline(plan.stream(), createWriteStream(choice.filePath))
      return { saved: choice.filePath }
    }),
  )
  s.events.onAny((name, payload) => window?.webContents.send(CHANNEL.event, name, payload))
}

function createWindow(): void {
  window = new BrowserWindow(windowOptions(join(here, '../preload/index.cjs')))
  hardenWebContents(window.webContents, isAppUrl)
  window.once('ready-to-show', () => window?.show())
  void window.loadFile(rendererIndex)
}

app.on('web-contents-created', (_e, contents) => hardenWebContents(contents, isAppUrl))

app.whenReady().then(async () => {
  // No permission (camera, notifications, …) is ever needed.
  session.defaultSession.setPermissionRequestHandler((_wc, _permission, callback) => callback(false))
  services = await createServices({ dataDir: app.getPath('userData'), seedDemo: true })
  wireIpc(services)
  createWindow()
  app.on('activate', () => BrowserWindow.getAllWindows().length === 0 && createWindow())
})

app.on('window-all-closed', () => {
  if (process.platform !== 'darwin') app.quit()
})

app.on('will-quit', (event) => {
  if (!services) return
  event.preventDefault()
  const closing = services
  services = undefined
  void closing.close().finally(() => app.quit())
})
