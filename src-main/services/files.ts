import { randomBytes } from 'node:crypto'
import { createWriteStream, mkdirSync, rmSync, statSync } from 'node:fs'
import { basename, join } from 'node:path'
import type { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { ApiError } from '../api/errors'
import type { FileRef } from '../api/types'

const SUPPORTED = /\.(jsonl|ndjson|json|csv|tsv|parquet)$/i
const MAX_UPLOAD_BYTES = 64 * 1024 ** 3

interface Entry extends FileRef {
  path: string
}

/**
 * Files the user handed over, known to the renderer only by an opaque id. A path never
 * crosses the contract from the renderer: it comes from a dialog or a drop (Electron),
 * an upload (web host) or the command line, and is checked here.
 */
export class FileRegistry {
  private readonly entries = new Map<string, Entry>()
  private readonly uploadDir: string

  constructor(dataDir: string) {
    this.uploadDir = join(dataDir, 'uploads')
    // Uploads only live for one session.
    rmSync(this.uploadDir, { recursive: true, force: true })
  }

  registerPath(path: string, name = basename(path)): FileRef {
    let size: number
    try {
      const st = statSync(path)
      if (!st.isFile()) throw new ApiError('invalid_argument', `${path} is not a regular file`)
      size = st.size
    } catch (error) {
      if (error instanceof ApiError) throw error
      throw new ApiError('not_found', `cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`)
    }
    const fileId = randomBytes(16).toString('hex')
    const entry = { fileId, name, size, path }
    this.entries.set(fileId, entry)
    return { fileId, name, size }
  }

  /** A file dropped or picked in the desktop app: only data files are accepted. */
  registerUserPath(path: string): FileRef {
    if (!SUPPORTED.test(path)) {
      throw new ApiError('invalid_argument', `${basename(path)}: not a supported data file (use .jsonl, .json, .csv, .tsv or .parquet)`)
    }
    return this.registerPath(path)
  }

  /** Streams an upload (web host) into the data folder and registers it. */
  async upload(name: string, body: Readable): Promise<FileRef> {
    const safeName = basename(name).replace(/[^\w.\-]+/g, '_').slice(0, 120) || 'upload'
    if (!SUPPORTED.test(safeName)) {
      body.resume()
      throw new ApiError('invalid_argument', `${safeName}: not a supported data file (use .jsonl, .json, .csv, .tsv or .parquet)`)
    }
    mkdirSync(this.uploadDir, { recursive: true })
    const path = join(this.uploadDir, `${randomBytes(8).toString('hex')}-${safeName}`)
    let received = 0
    body.on('data', (chunk: Buffer) => {
      received += chunk.length
      if (received > MAX_UPLOAD_BYTES) body.destroy(new ApiError('invalid_argument', `${safeName}: upload larger than 64 GiB`))
    })
    await pipeline(body, createWriteStream(path))
    return this.registerPath(path, safeName)
  }

  resolve(fileId: string): Entry {
    const entry = this.entries.get(fileId)
    if (!entry) throw new ApiError('not_found', `no staged file with id ${fileId} (stage it again)`)
    return entry
  }
}
