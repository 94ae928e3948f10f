import { randomBytes, timingSafeEqual } from 'node:crypto'
import type { IncomingMessage } from 'node:http'

export const SESSION_COOKIE = 'figa_session'
export const TOKEN_HEADER = 'x-figa-token'

/** The renderer's CSP, the same as the desktop app's (index.html carries it as a meta tag too). */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "font-src 'self'",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ')

export function newToken(): string {
  return randomBytes(32).toString('hex')
}

export function tokensEqual(given: string | undefined | null, token: string): boolean {
  if (!given) return false
  const a = Buffer.from(given)
  const b = Buffer.from(token)
  return a.length === b.length && timingSafeEqual(a, b)
}

export function cookieToken(req: IncomingMessage): string | undefined {
  const header = req.headers.cookie
  if (!header) return undefined
  for (const part of header.split(';')) {
    const [name, ...rest] = part.trim().split('=')
    if (name === SESSION_COOKIE) return rest.join('=')
  }
  return undefined
}

export function headerToken(req: IncomingMessage): string | undefined {
  const explicit = req.headers[TOKEN_HEADER]
  if (typeof explicit === 'string') return explicit
  const auth = req.headers.authorization
  if (auth?.startsWith('Bearer ')) return auth.slice(7)
  return undefined
}

/**
 * Defence against DNS rebinding: a page on another name that resolves to 127.0.0.1 would
 * send its own Host. Only our loopback names are served.
 */
export function hostAllowed(req: IncomingMessage, port: number): boolean {
  const host = req.headers.host
  return host === `127.0.0.1:${port}` || host === `localhost:${port}`
}

/** Browsers send Origin on WebSocket upgrades: only our own page may open the socket. */
export function originAllowed(req: IncomingMessage, port: number): boolean {
  const origin = req.headers.origin
  if (origin === undefined) return true // not a browser (CLI, scripts): the token still applies
  return origin === `http://127.0.0.1:${port}` || origin === `http://localhost:${port}`
}
