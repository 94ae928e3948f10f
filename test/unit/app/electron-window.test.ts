// The desktop window's security settings, checked on the options object and with a stand-in
// for webContents (the Electron binary cannot run here; the same renderer code path is
// exercised through the web host in Chromium by the e2e tests).
import { describe, expect, it } from 'vitest'
import { hardenWebContents, isTrustedSender, windowOptions } from '../../../src-main/electron/window'

describe('BrowserWindow security', () => {
  it('isolates and sandboxes the renderer', () => {
    const prefs = windowOptions('/app/out/preload/index.cjs').webPreferences!
    expect(prefs).toMatchObject({
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      preload: '/app/out/preload/index.cjs',
    })
  })

  it('blocks navigation away from the app, window.open and webviews', () => {
    const handlers: Record<string, (event: { preventDefault(): void }, url?: string) => void> = {}
    let openHandler: (() => { action: string }) | undefined
    const contents = {
      setWindowOpenHandler: (h: () => { action: string }) => (openHandler = h),
      on: (name: string, h: (event: { preventDefault(): void }, url?: string) => void) => (handlers[name] = h),
    }
    const appUrl = 'file:///app/out/renderer/index.html'
    hardenWebContents(contents as never, (u) => u === appUrl)
    expect(openHandler!()).toEqual({ action: 'deny' })

    const attempt = (name: string, url?: string) => {
      let prevented = false
      handlers[name]({ preventDefault: () => (prevented = true) }, url)
      return prevented
    }
    expect(attempt('will-navigate', 'https://example.com/')).toBe(true)
    expect(attempt('will-navigate', appUrl)).toBe(false)
    expect(attempt('will-redirect', 'file:///etc/passwd')).toBe(true)
    expect(attempt('will-attach-webview')).toBe(true)
  })

  it('answers IPC only from the app page', () => {
    const isApp = (u: string) => u === 'file:///app/index.html'
    expect(isTrustedSender('file:///app/index.html', isApp)).toBe(true)
    expect(isTrustedSender('https://evil.example/', isApp)).toBe(false)
    expect(isTrustedSender(undefined, isApp)).toBe(false)
  })
})
