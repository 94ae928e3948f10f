// The web host: the same contract over HTTP + WebSocket, on 127.0.0.1 only, every request
// and socket gated by a per-session token. It also serves the built renderer, so the app
// runs in any browser (and the end-to-end tests drive it in Chromium).
import { createReadStream, existsSync, readFileSync, statSync } from 'node:fs'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { extname, join, normalize, sep } from 'node:path'
import { pipeline } from 'node:stream/promises'
import { WebSocketServer, type WebSocket } from 'ws'
import { ApiError } from '../api/errors'
import type { Services } from '../services'
import { rendererDir } from '../services/paths'
import {
  CONTENT_SECURITY_POLICY, SESSION_COOKIE, cookieToken, headerToken, hostAllowed, newToken, originAllowed, tokensEqual,
} from './security'

export interface HostOptions {
  services: Services
  port?: number
  token?: string
  staticDir?: string
}

export interface RunningHost {
  url: string
  /** The URL to open: carries the token once, the page then keeps it in a cookie. */
  openUrl: string
  port: number
  token: string
  close(): Promise<void>
}

const MAX_JSON_BYTES = 8 * 1024 * 1024
const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8', '.svg': 'image/svg+xml', '.png': 'image/png', '.ico': 'image/x-icon',
  '.json': 'application/json', '.wasm': 'application/wasm', '.woff2': 'font/woff2',
}

export async function startHost(options: HostOptions): Promise<RunningHost> {
  const { services } = options
  const token = options.token ?? newToken()
  const staticDir = options.staticDir ?? rendererDir()
  const ctx = { host: 'web' as const }
  let port = 0

  const server = createServer((req, res) => {
    handle(req, res).catch((error) => sendError(res, ApiError.from(error)))
  })

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    res.setHeader('X-Content-Type-Options', 'nosniff')
    res.setHeader('Referrer-Policy', 'no-referrer')
    res.setHeader('Cache-Control', 'no-store')
    if (!hostAllowed(req, port)) return sendError(res, new ApiError('unauthorized', 'unexpected Host header'), 403)
    const url = new URL(req.url ?? '/', `http://127.0.0.1:${port}`)

    if (url.pathname.startsWith('/api/')) return handleApi(req, res, url)

    // The page: the token arrives once in the query and is kept in a strict, HttpOnly cookie.
    const queryToken = url.searchParams.get('token')
    if (tokensEqual(queryToken, token)) {
      res.setHeader('Set-Cookie', `${SESSION_COOKIE}=${token}; HttpOnly; SameSite=Strict; Path=/`)
      res.writeHead(302, { Location: url.pathname })
      return void res.end()
    }
    if (!tokensEqual(cookieToken(req), token)) return sendError(res, new ApiError('unauthorized', 'missing or wrong session token: open the URL that FIGA Studio printed'), 401)
    if (req.method !== 'GET' && req.method !== 'HEAD') return sendError(res, new ApiError('invalid_argument', 'method not allowed'), 405)
    return serveStatic(res, url.pathname)
  }

  async function handleApi(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const [, , route, name] = url.pathname.split('/')
    // Calls and uploads need the token in a header: a cookie alone is not enough (CSRF).
    if (route === 'call' || route === 'upload') {
      if (!tokensEqual(headerToken(req), token)) return sendError(res, new ApiError('unauthorized', 'missing or wrong session token'), 401)
      if (req.method !== 'POST') return sendError(res, new ApiError('invalid_argument', 'use POST'), 405)
      if (route === 'call') {
        const body = await readJson(req)
        const result = await services.call(decodeURIComponent(name ?? ''), body, ctx)
        return sendJson(res, 200, { result: result ?? null })
      }
      const fileName = url.searchParams.get('name') ?? 'upload'
      const ref = await services.files.upload(fileName, req)
      return sendJson(res, 200, { result: ref })
    }
    if (route === 'download') {
      const given = url.searchParams.get('token') ?? headerToken(req) ?? cookieToken(req)
      if (!tokensEqual(given, token)) return sendError(res, new ApiError('unauthorized', 'missing or wrong session token'), 401)
      const args = parseArgsParam(url.searchParams.get('args'))
      const plan = await services.download(decodeURIComponent(name ?? ''), args, ctx)
      res.writeHead(200, {
        'Content-Type': plan.contentType,
        'Content-Disposition': `attachment; filename="${plan.fileName.replace(/"/g, '')}"`,
      })
      await pipeline(plan.stream(), res)
      return
    }
    return sendError(res, new ApiError('not_found', `no route ${url.pathname}`), 404)
  }

  function serveStatic(res: ServerResponse, pathname: string): void {
    const relative = normalize(decodeURIComponent(pathname)).replace(/^([/\\])+/, '')
    const file = join(staticDir, relative === '' ? 'index.html' : relative)
    if (!file.startsWith(staticDir + sep) && file !== staticDir) return sendError(res, new ApiError('not_found', 'not found'), 404)
    const target = existsSync(file) && statSync(file).isFile() ? file : join(staticDir, 'index.html')
    if (!existsSync(target)) {
      return sendError(res, new ApiError('not_found', `the renderer is not built (${staticDir} is missing): run npm run build`), 500)
    }
    res.setHeader('Content-Security-Policy', CONTENT_SECURITY_POLICY)
    res.setHeader('Content-Type', TYPES[extname(target)] ?? 'application/octet-stream')
    if (target.endsWith('index.html')) {
      // The page learns the token for its API calls from a meta tag only it can read (same origin).
      const html = readFileSync(target, 'utf8').replace('<head>', `<head>\n    <meta name="figa-token" content="${token}">`)
      res.writeHead(200)
      return void res.end(html)
    }
    res.writeHead(200)
    createReadStream(target).pipe(res)
  }

  const sockets = new WebSocketServer({ noServer: true })
  server.on('upgrade', (req, socket, head) => {
    const url = new URL(req.url ?? '/', `http://127.0.0.1:${port}`)
    const authorised =
      url.pathname === '/api/events' && hostAllowed(req, port) && originAllowed(req, port) &&
      tokensEqual(url.searchParams.get('token') ?? headerToken(req), token)
    if (!authorised) {
      socket.write('HTTP/1.1 401 Unauthorized\r\nConnection: close\r\n\r\n')
      socket.destroy()
      return
    }
    sockets.handleUpgrade(req, socket, head, (ws) => subscribe(ws))
  })

  function subscribe(ws: WebSocket): void {
    const off = services.events.onAny((event, payload) => {
      if (ws.readyState === ws.OPEN) ws.send(JSON.stringify({ event, payload }))
    })
    ws.on('close', off)
    ws.on('message', () => {}) // the socket is one-way: server → page
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve())
  })
  port = (server.address() as AddressInfo).port
  const url = `http://127.0.0.1:${port}/`
  return {
    url,
    openUrl: `${url}?token=${token}`,
    port,
    token,
    async close() {
      for (const ws of sockets.clients) ws.terminate()
      sockets.close()
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}

function parseArgsParam(raw: string | null): unknown {
  if (raw === null) return {}
  try {
    return JSON.parse(raw)
  } catch {
    throw new ApiError('invalid_argument', 'args must be JSON')
  }
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length
    if (size > MAX_JSON_BYTES) throw new ApiError('invalid_argument', 'request body larger than 8 MB')
    chunks.push(chunk)
  }
  if (size === 0) return {}
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'))
  } catch {
    throw new ApiError('invalid_argument', 'request body is not valid JSON')
  }
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8' })
  res.end(JSON.stringify(body))
}

const STATUS: Record<string, number> = { invalid_argument: 400, unauthorized: 401, not_found: 404, conflict: 409, cancelled: 409, failed: 500 }

function sendError(res: ServerResponse, error: ApiError, status = STATUS[error.code] ?? 500): void {
  if (res.headersSent) return void res.destroy(error)
  sendJson(res, status, { error: error.toData() })
}
