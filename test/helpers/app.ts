// Starts the real services and web host on a temporary data folder, and a real Chromium.
import { existsSync } from 'node:fs'
import { chromium, type Browser, type Page } from 'playwright-core'
import { startHost, type RunningHost } from '../../src-main/host/server'
import { createServices, type Services } from '../../src-main/services'
import { tempDir } from './temp'

export interface TestApp {
  services: Services
  host: RunningHost
  dataDir: string
  stop(): Promise<void>
}

export async function startTestApp(options: { seedDemo?: boolean } = {}): Promise<TestApp> {
  const t = tempDir('figa-app-')
  const services = await createServices({ dataDir: t.dir, seedDemo: options.seedDemo ?? false })
  const host = await startHost({ services })
  return {
    services, host, dataDir: t.dir,
    async stop() {
      await host.close()
      await services.close()
      t.cleanup()
    },
  }
}

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'

export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`Chromium not found at ${CHROMIUM}: apt-get install chromium (or set CHROMIUM_PATH)`)
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'],
  })
}

/** Opens the app page as a user would: the printed URL with its token. */
export async function openApp(browser: Browser, app: TestApp): Promise<Page> {
  const context = await browser.newContext({ acceptDownloads: true })
  const page = await context.newPage()
  const errors: string[] = []
  page.on('pageerror', (e) => errors.push(String(e)))
  page.on('console', (m) => m.type() === 'error' && errors.push(m.text()))
  ;(page as Page & { appErrors: string[] }).appErrors = errors
  await page.goto(app.host.openUrl)
  return page
}
