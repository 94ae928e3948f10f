// The web host: loopback only, the session token on every request and socket, the contract
// validated at the door, and the import → export round trip over HTTP.
import { request } from 'node:http'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { startTestApp, type TestApp } from '../helpers/app'
import { spaRecords, toJsonl } from '../helpers/temp'

let app: TestApp
let base: string
let token: string

beforeAll(async () => {
  app = await startTestApp()
  base = app.host.url.replace(/\/$/, '')
  token = app.host.token
})
afterAll(() => app?.stop())

const call = (method: string, args: unknown, headers: Record<string, string> = { 'X-Figa-Token': token }) =>
  fetch(`${base}/api/call/${method}`, { method: 'POST', headers: { 'Content-Type': 'application/json', ...headers }, body: JSON.stringify(args) })

function openSocket(url: string, headers: Record<string, string> = {}): Promise<{ ws: WebSocket | null; status: number | null }> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, { headers })
    ws.on('open', () => resolve({ ws, status: 101 }))
    ws.on('unexpected-response', (_req, res) => resolve({ ws: null, status: res.statusCode ?? null }))
    ws.on('error', () => resolve({ ws: null, status: null }))
  })
}

describe('web host security', () => {
  it('listens on 127.0.0.1 only', () => {
    expect(app.host.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/)
  })

  it('refuses the page, API calls, downloads and sockets without the token', async () => {
    expect((await fetch(`${base}/`)).status).toBe(401)
    expect((await fetch(`${base}/assets/index.js`)).status).toBe(401)
    expect((await call('datasets.list', {}, {})).status).toBe(401)
    expect((await call('datasets.list', {}, { 'X-Figa-Token': 'x'.repeat(64) })).status).toBe(401)
    expect((await fetch(`${base}/api/download/datasets.export?args={"datasetId":1}`)).status).toBe(401)
    expect((await fetch(`${base}/api/upload?name=a.jsonl`, { method: 'POST', body: 'x' })).status).toBe(401)
    const socket = await openSocket(`${base.replace('http', 'ws')}/api/events`)
    expect(socket.ws).toBeNull()
    expect(socket.status).toBe(401)
    const wrong = await openSocket(`${base.replace('http', 'ws')}/api/events?token=${'0'.repeat(64)}`)
    expect(wrong.ws).toBeNull()
  })

  it('does not accept the page cookie alone for API calls (CSRF)', async () => {
    const res = await call('datasets.list', {}, { Cookie: `figa_session=${token}` })
    expect(res.status).toBe(401)
  })

  it('refuses foreign Host headers (DNS rebinding) and foreign socket origins', async () => {
    const status = await new Promise<number>((resolve) => {
      const req = request(`${base}/api/call/datasets.list`, { method: 'POST', headers: { Host: 'evil.example', 'X-Figa-Token': token } }, (res) => resolve(res.statusCode ?? 0))
      req.end('{}')
    })
    expect(status).toBe(403)
    const foreign = await openSocket(`${base.replace('http', 'ws')}/api/events?token=${token}`, { Origin: 'https://evil.example' })
    expect(foreign.status).toBe(401)
  })

  it('sets a strict cookie from the token URL and serves the page with CSP and the token meta tag', async () => {
    const first = await fetch(app.host.openUrl, { redirect: 'manual' })
    expect(first.status).toBe(302)
    const cookie = first.headers.get('set-cookie')!
    expect(cookie).toMatch(/HttpOnly/)
    expect(cookie).toMatch(/SameSite=Strict/)
    const page = await fetch(`${base}/`, { headers: { Cookie: cookie.split(';')[0] } })
    expect(page.status).toBe(200)
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'")
    expect(await page.text()).toContain(`<meta name="figa-token" content="${token}">`)
  })
})

describe('contract over HTTP', () => {
  it('validates arguments and answers with a coded error', async () => {
    const res = await call('pairs.list', { datasetId: 'one' })
    expect(res.status).toBe(400)
    const body = (await res.json()) as { error: { code: string; message: string } }
    expect(body.error.code).toBe('invalid_argument')
    expect(body.error.message).toMatch(/datasetId/)
    expect((await call('no.such', {})).status).toBe(400)
    expect((await call('datasets.get', { datasetId: 999 })).status).toBe(404)
  })

  it('uploads, previews, imports with progress events, and downloads the export', async () => {
    const { ws } = await openSocket(`${base.replace('http', 'ws')}/api/events?token=${token}`)
    const events: Array<{ event: string; payload: { jobId?: string } }> = []
    ws!.on('message', (m) => events.push(JSON.parse(String(m))))

    const text = toJsonl(spaRecords(40))
    const upload = await fetch(`${base}/api/upload?name=web.jsonl`, { method: 'POST', headers: { 'X-Figa-Token': token }, body: text })
    const { result: file } = (await upload.json()) as { result: { fileId: string; size: number } }
    expect(file.size).toBe(Buffer.byteLength(text))

    const preview = (await (await call('datasets.preview', { fileId: file.fileId, limit: 3 })).json()) as { result: { shape: string; rows: unknown[] } }
    expect(preview.result.shape).toBe('spa')
    expect(preview.result.rows).toHaveLength(3)

    const started = (await (await call('datasets.import', { fileId: file.fileId, name: 'web' })).json()) as { result: { jobId: string } }
    await expect.poll(() => events.some((e) => e.event === 'job.finished' && e.payload.jobId === started.result.jobId)).toBe(true)
    const finished = events.find((e) => e.event === 'job.finished')!.payload as unknown as { state: string; result: { imported: number; datasetId: number } }
    expect(finished.state).toBe('done')
    expect(finished.result.imported).toBe(40)
    expect(events.some((e) => e.event === 'job.progress')).toBe(true)

    const dl = await fetch(`${base}/api/download/datasets.export?args=${encodeURIComponent(JSON.stringify({ datasetId: finished.result.datasetId }))}&token=${token}`)
    expect(dl.status).toBe(200)
    expect(dl.headers.get('content-disposition')).toContain('web.jsonl')
    expect(await dl.text()).toBe(text)
    ws!.close()
  })
})
