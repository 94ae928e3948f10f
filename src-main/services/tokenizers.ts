// Which tokenizers the app offers, and loading them by key (with a fingerprint of their files,
// so cached signals are never reused across a changed tokenizer).
import { createHash } from 'node:crypto'
import { existsSync, readFileSync, readdirSync } from 'node:fs'
import { isAbsolute, join } from 'node:path'
import { ApiError } from '../api/errors'
import type { TokenizerInfo } from '../api/types'
import { byteTokenizer, loadTokenizer, type TokenizerAdapter } from '../signals/tokenizer'
import { resourcesDir } from './paths'

export interface LoadedTokenizer {
  key: string
  /** Identifies the exact tokenizer files: part of every signal cache key. */
  fingerprint: string
  adapter: TokenizerAdapter
}

const BYTE_KEY = 'builtin:byte'
const loaded = new Map<string, Promise<LoadedTokenizer>>()

function builtinDir(): string {
  return join(resourcesDir(), 'tokenizers')
}

/** Built-in tokenizers: the byte-level one, and each folder of resources/tokenizers. */
function builtinNames(): string[] {
  try {
    return readdirSync(builtinDir()).filter((n) => existsSync(join(builtinDir(), n, 'tokenizer.json'))).sort()
  } catch {
    return []
  }
}

export async function listTokenizers(extraDirs: Array<{ label: string; dir: string }> = []): Promise<TokenizerInfo[]> {
  const keys = [BYTE_KEY, ...builtinNames().map((n) => `builtin:${n}`), ...extraDirs.map((d) => `dir:${d.dir}`)]
  const labels = new Map(extraDirs.map((d) => [`dir:${d.dir}`, d.label]))
  const infos: TokenizerInfo[] = []
  for (const key of keys) {
    try {
      const t = await resolveTokenizer(key)
      infos.push({ key, label: labels.get(key) ?? t.adapter.name, vocabSize: t.adapter.vocabSize, eosToken: t.adapter.eosToken })
    } catch {
      // A model folder whose tokenizer cannot load is reported when the model is added.
    }
  }
  return infos
}

export function resolveTokenizer(key: string): Promise<LoadedTokenizer> {
  let entry = loaded.get(key)
  if (!entry) {
    entry = load(key)
    loaded.set(key, entry)
    entry.catch(() => loaded.delete(key))
  }
  return entry
}

async function load(key: string): Promise<LoadedTokenizer> {
  if (key === BYTE_KEY) return { key, fingerprint: 'byte-v1', adapter: byteTokenizer() }
  let dir: string
  if (key.startsWith('builtin:')) {
    const name = key.slice('builtin:'.length)
    if (!builtinNames().includes(name)) throw new ApiError('not_found', `no built-in tokenizer "${name}"`)
    dir = join(builtinDir(), name)
  } else if (key.startsWith('dir:') && isAbsolute(key.slice(4))) {
    dir = key.slice(4)
  } else {
    throw new ApiError('invalid_argument', `tokenizer must be 'builtin:NAME' or 'dir:/absolute/path', got "${key}"`)
  }
  const adapter = await loadTokenizer(dir)
  return { key, fingerprint: `${key}#${fingerprintFiles(dir)}`, adapter }
}

function fingerprintFiles(dir: string): string {
  const hash = createHash('sha256')
  for (const file of ['tokenizer.json', 'tokenizer_config.json']) {
    const path = join(dir, file)
    if (existsSync(path)) hash.update(file).update(readFileSync(path))
  }
  return hash.digest('hex').slice(0, 16)
}

/** The tokenizer key a cache fingerprint was made from. */
export function keyOfFingerprint(fingerprint: string): string {
  return fingerprint === 'byte-v1' ? BYTE_KEY : fingerprint.slice(0, fingerprint.lastIndexOf('#'))
}

/** A folder given on the command line, as a tokenizer key. */
export function tokenizerKeyForDir(dir: string): string {
  return `dir:${dir}`
}
