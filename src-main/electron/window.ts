// Security settings of the desktop window, as plain data and functions so that tests can
// check them without launching Electron.
import type { BrowserWindowConstructorOptions, WebContents } from 'electron'

export function windowOptions(preloadPath: string): BrowserWindowConstructorOptions {
  return {
    width: 1360,
    height: 880,
    minWidth: 960,
    minHeight: 600,
    title: 'FIGA Studio',
    show: false,
    backgroundColor: '#14161a',
    webPreferences: {
      preload: preloadPath,
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      experimentalFeatures: false,
      navigateOnDragDrop: false,
      spellcheck: false,
    },
  }
}

type HardenableContents = Pick<WebContents, 'setWindowOpenHandler' | 'on'>

/**
 * The renderer may never leave the app: every navigation away from `appUrl` and every
 * window.open is refused, and <webview> cannot be attached.
 */
export function hardenWebContents(contents: HardenableContents, isAppUrl: (url: string) => boolean): void {
  contents.setWindowOpenHandler(() => ({ action: 'deny' }))
  contents.on('will-navigate', (event, url) => {
    if (!isAppUrl(url)) event.preventDefault()
  })
  contents.on('will-redirect', (event, url) => {
    if (!isAppUrl(url)) event.preventDefault()
  })
  contents.on('will-attach-webview', (event) => event.preventDefault())
}

/** IPC is answered only for our own page (not for an iframe or a page that navigated elsewhere). */
export function isTrustedSender(frameUrl: string | undefined, isAppUrl: (url: string) => boolean): boolean {
  return typeof frameUrl === 'string' && isAppUrl(frameUrl)
}
