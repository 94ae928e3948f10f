// safetensors I/O, tensor by tensor.
//
// Reading: the header of every file is parsed first; each tensor is then read from its byte range
// straight into the Float32Array that is returned (F32), or into a small staging buffer that is
// widened (F16/BF16). The model is never held twice in JS memory.
// Writing: the header is computed from the shapes, then each tensor is fetched (a callback, e.g.
// `variable.data()`), encoded (F32 or BF16) and written before the next one is fetched.
// writeCheckpointFolder() writes a whole model folder atomically (temp folder, fsync, rename).
//
// Format: u64le header length N, N bytes of JSON (space-padded to a multiple of 8), then the data.
// Offsets in the header are relative to the first byte after the header.

import fs from 'node:fs'
import fsp from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { randomBytes } from 'node:crypto'

if (os.endianness() !== 'LE') throw new Error('safetensors.ts assumes a little-endian machine')

export type StoreDtype = 'F32' | 'BF16'

export interface StTensorInfo {
  name: string
  /** dtype as stored: F32 | F16 | BF16 | (others are listed but cannot be read) */
  dtype: string
  shape: number[]
  /** absolute path of the file holding the tensor */
  file: string
  /** absolute byte offset of the data in that file */
  offset: number
  byteLength: number
}

export interface FloatTensor {
  shape: number[]
  data: Float32Array
}

/** A tensor to write: the data is requested only when it is its turn. */
export interface TensorSource {
  name: string
  shape: number[]
  data: () => Float32Array | Promise<Float32Array>
}

export class SafetensorsError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'SafetensorsError'
  }
}

const DTYPE_BYTES: Record<string, number> = {
  F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, I16: 2, I8: 1, U8: 1, BOOL: 1, F8_E4M3: 1, F8_E5M2: 1,
}
const READABLE = new Set(['F32', 'F16', 'BF16'])
const MAX_HEADER = 100 * 1024 * 1024
const CHUNK = 64 * 1024 * 1024

export const INDEX_FILE = 'model.safetensors.index.json'
export const SINGLE_FILE = 'model.safetensors'

const numel = (shape: number[]): number => shape.reduce((a, b) => a * b, 1)

async function readFully(fh: fsp.FileHandle, target: Uint8Array, position: number, file: string): Promise<void> {
  let done = 0
  while (done < target.byteLength) {
    const len = Math.min(CHUNK, target.byteLength - done)
    const { bytesRead } = await fh.read(target, done, len, position + done)
    if (bytesRead === 0) throw new SafetensorsError(`${path.basename(file)}: unexpected end of file`)
    done += bytesRead
  }
}

export interface StHeader {
  tensors: StTensorInfo[]
  metadata: Record<string, string> | null
  /** bytes of tensor data (header excluded) */
  dataBytes: number
}

/** Parse and validate the header of one .safetensors file. */
export async function readSafetensorsHeader(file: string): Promise<StHeader> {
  const fh = await fsp.open(file, 'r')
  try {
    const size = (await fh.stat()).size
    const base = path.basename(file)
    if (size < 8) throw new SafetensorsError(`${base}: too short to be a safetensors file`)
    const lenBuf = new Uint8Array(8)
    await readFully(fh, lenBuf, 0, file)
    const n = Number(new DataView(lenBuf.buffer).getBigUint64(0, true))
    if (n > MAX_HEADER || n + 8 > size) throw new SafetensorsError(`${base}: invalid header length ${n}`)
    const hb = new Uint8Array(n)
    await readFully(fh, hb, 8, file)
    let json: Record<string, unknown>
    try {
      json = JSON.parse(new TextDecoder().decode(hb))
    } catch {
      throw new SafetensorsError(`${base}: the header is not valid JSON`)
    }
    const dataStart = 8 + n
    const dataBytes = size - dataStart
    let metadata: Record<string, string> | null = null
    const tensors: StTensorInfo[] = []
    for (const [name, v] of Object.entries(json)) {
      if (name === '__metadata__') {
        metadata = v as Record<string, string>
        continue
      }
      const t = v as { dtype?: unknown; shape?: unknown; data_offsets?: unknown }
      const ok =
        typeof t?.dtype === 'string' &&
        Array.isArray(t.shape) &&
        t.shape.every((d) => Number.isInteger(d) && d >= 0) &&
        Array.isArray(t.data_offsets) &&
        t.data_offsets.length === 2
      if (!ok) throw new SafetensorsError(`${base}: malformed header entry for "${name}"`)
      const [b, e] = t.data_offsets as number[]
      const shape = t.shape as number[]
      const bytes = DTYPE_BYTES[t.dtype as string]
      if (!(b >= 0 && e >= b && e <= dataBytes)) throw new SafetensorsError(`${base}: "${name}" lies outside the file (truncated download?)`)
      if (bytes !== undefined && e - b !== numel(shape) * bytes) {
        throw new SafetensorsError(`${base}: "${name}" has ${e - b} bytes but shape [${shape}] needs ${numel(shape) * bytes}`)
      }
      tensors.push({ name, dtype: t.dtype as string, shape, file, offset: dataStart + b, byteLength: e - b })
    }
    return { tensors, metadata, dataBytes }
  } finally {
    await fh.close()
  }
}

let f16Table: Float32Array | null = null
function halfTable(): Float32Array {
  if (f16Table) return f16Table
  const t = new Float32Array(65536)
  for (let h = 0; h < 65536; h++) {
    const s = h & 0x8000 ? -1 : 1
    const e = (h >> 10) & 0x1f
    const m = h & 0x3ff
    if (e === 0) t[h] = s * m * 2 ** -24
    else if (e === 31) t[h] = m ? NaN : s * Infinity
    else t[h] = s * (1 + m / 1024) * 2 ** (e - 15)
  }
  return (f16Table = t)
}

/** Round float32 values to bfloat16 (round to nearest even; NaN stays NaN). */
export function f32ToBf16(src: Float32Array, dst: Uint16Array = new Uint16Array(src.length)): Uint16Array {
  const u = new Uint32Array(src.buffer, src.byteOffset, src.length)
  for (let i = 0; i < u.length; i++) {
    const x = u[i]
    if ((x & 0x7f800000) === 0x7f800000 && x & 0x7fffff) dst[i] = (x >>> 16) | 0x40
    else dst[i] = (x + 0x7fff + ((x >>> 16) & 1)) >>> 16
  }
  return dst
}

export function bf16ToF32(src: Uint16Array, dst: Float32Array = new Float32Array(src.length)): Float32Array {
  const u = new Uint32Array(dst.buffer, dst.byteOffset, dst.length)
  for (let i = 0; i < src.length; i++) u[i] = src[i] << 16
  return dst
}

export function f16ToF32(src: Uint16Array, dst: Float32Array = new Float32Array(src.length)): Float32Array {
  const t = halfTable()
  for (let i = 0; i < src.length; i++) dst[i] = t[src[i]]
  return dst
}

/**
 * Reader over one safetensors file or a sharded set. `open` takes a .safetensors file, a
 * model.safetensors.index.json, or a folder holding either.
 */
export class SafetensorsReader {
  readonly tensors = new Map<string, StTensorInfo>()
  metadata: Record<string, string> | null = null
  /** bytes of tensor data over all files */
  dataBytes = 0
  readonly files: string[] = []
  private handles = new Map<string, fsp.FileHandle>()

  static async open(p: string): Promise<SafetensorsReader> {
    const r = new SafetensorsReader()
    let target = p
    const st = await fsp.stat(p).catch(() => null)
    if (!st) throw new SafetensorsError(`${p}: not found`)
    if (st.isDirectory()) {
      if (fs.existsSync(path.join(p, INDEX_FILE))) target = path.join(p, INDEX_FILE)
      else if (fs.existsSync(path.join(p, SINGLE_FILE))) target = path.join(p, SINGLE_FILE)
      else {
        const any = (await fsp.readdir(p)).filter((f) => f.endsWith('.safetensors')).sort()
        if (any.length !== 1) throw new SafetensorsError(`${p}: no ${SINGLE_FILE} or ${INDEX_FILE}`)
        target = path.join(p, any[0])
      }
    }
    if (target.endsWith('.json')) {
      const dir = path.dirname(target)
      let index: { weight_map?: Record<string, string> }
      try {
        index = JSON.parse(await fsp.readFile(target, 'utf8'))
      } catch {
        throw new SafetensorsError(`${path.basename(target)}: not valid JSON`)
      }
      if (!index.weight_map || typeof index.weight_map !== 'object') throw new SafetensorsError(`${path.basename(target)}: no "weight_map"`)
      const shards = [...new Set(Object.values(index.weight_map))].sort()
      for (const s of shards) {
        const f = path.join(dir, s)
        if (path.dirname(path.resolve(f)) !== path.resolve(dir)) throw new SafetensorsError(`${path.basename(target)}: bad shard name "${s}"`)
        if (!fs.existsSync(f)) throw new SafetensorsError(`${path.basename(target)} names the shard ${s}, which is missing`)
        await r.addFile(f)
      }
      for (const [name, shard] of Object.entries(index.weight_map)) {
        const t = r.tensors.get(name)
        if (!t) throw new SafetensorsError(`${path.basename(target)}: "${name}" is not in ${shard}`)
        if (path.basename(t.file) !== shard) throw new SafetensorsError(`${path.basename(target)}: "${name}" is in ${path.basename(t.file)}, not ${shard}`)
      }
    } else {
      await r.addFile(target)
    }
    return r
  }

  private async addFile(file: string): Promise<void> {
    const h = await readSafetensorsHeader(file)
    this.files.push(file)
    this.dataBytes += h.dataBytes
    this.metadata ??= h.metadata
    for (const t of h.tensors) {
      if (this.tensors.has(t.name)) throw new SafetensorsError(`"${t.name}" appears in more than one shard`)
      this.tensors.set(t.name, t)
    }
  }

  names(): string[] {
    return [...this.tensors.keys()]
  }

  has(name: string): boolean {
    return this.tensors.has(name)
  }

  info(name: string): StTensorInfo {
    const t = this.tensors.get(name)
    if (!t) throw new SafetensorsError(`tensor "${name}" not found`)
    return t
  }

  private async handle(file: string): Promise<fsp.FileHandle> {
    let h = this.handles.get(file)
    if (!h) {
      h = await fsp.open(file, 'r')
      this.handles.set(file, h)
    }
    return h
  }

  /** Read one tensor as float32 (F32, F16 and BF16 are supported). */
  async read(name: string): Promise<FloatTensor> {
    const t = this.info(name)
    if (!READABLE.has(t.dtype)) throw new SafetensorsError(`tensor "${name}" has dtype ${t.dtype}; only F32, F16 and BF16 are supported`)
    const fh = await this.handle(t.file)
    const n = numel(t.shape)
    const out = new Float32Array(n)
    if (t.dtype === 'F32') {
      await readFully(fh, new Uint8Array(out.buffer), t.offset, t.file)
    } else {
      // widen in chunks so the staging buffer stays small
      const step = CHUNK / 2
      const stage = new Uint16Array(Math.min(n, step))
      for (let i = 0; i < n; i += step) {
        const m = Math.min(step, n - i)
        const view = stage.subarray(0, m)
        await readFully(fh, new Uint8Array(view.buffer, 0, m * 2), t.offset + i * 2, t.file)
        if (t.dtype === 'BF16') bf16ToF32(view, out.subarray(i, i + m))
        else f16ToF32(view, out.subarray(i, i + m))
      }
    }
    return { shape: [...t.shape], data: out }
  }

  async close(): Promise<void> {
    const hs = [...this.handles.values()]
    this.handles.clear()
    await Promise.all(hs.map((h) => h.close()))
  }
}

function headerBytes(entries: { name: string; dtype: string; shape: number[]; begin: number; end: number }[], metadata?: Record<string, string>): Uint8Array {
  const obj: Record<string, unknown> = { __metadata__: { format: 'pt', ...(metadata ?? {}) } }
  for (const e of entries) obj[e.name] = { dtype: e.dtype, shape: e.shape, data_offsets: [e.begin, e.end] }
  let json = JSON.stringify(obj)
  const enc = new TextEncoder()
  let bytes = enc.encode(json)
  const pad = (8 - (bytes.length % 8)) % 8
  if (pad) {
    json += ' '.repeat(pad)
    bytes = enc.encode(json)
  }
  const out = new Uint8Array(8 + bytes.length)
  new DataView(out.buffer).setBigUint64(0, BigInt(bytes.length), true)
  out.set(bytes, 8)
  return out
}

async function writeAll(fh: fsp.FileHandle, data: Uint8Array): Promise<void> {
  for (let i = 0; i < data.byteLength; i += CHUNK) {
    const part = data.subarray(i, Math.min(data.byteLength, i + CHUNK))
    let done = 0
    while (done < part.byteLength) done += (await fh.write(part, done, part.byteLength - done)).bytesWritten
  }
}

/**
 * Write one safetensors file (tensors sorted by name, contiguous). Each tensor's data is fetched,
 * encoded and written before the next is fetched. The file is fsync'ed. Returns the data bytes.
 */
export async function writeSafetensors(
  file: string,
  tensors: TensorSource[],
  opts: { dtype?: StoreDtype; metadata?: Record<string, string> } = {},
): Promise<number> {
  const dtype = opts.dtype ?? 'F32'
  const width = dtype === 'F32' ? 4 : 2
  const sorted = [...tensors].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
  let off = 0
  const entries = sorted.map((t) => {
    const begin = off
    off += numel(t.shape) * width
    return { name: t.name, dtype, shape: t.shape, begin, end: off }
  })
  const fh = await fsp.open(file, 'w')
  try {
    await writeAll(fh, headerBytes(entries, opts.metadata))
    for (const t of sorted) {
      const data = await t.data()
      if (data.length !== numel(t.shape)) throw new SafetensorsError(`"${t.name}": ${data.length} values for shape [${t.shape}]`)
      if (dtype === 'F32') await writeAll(fh, new Uint8Array(data.buffer, data.byteOffset, data.byteLength))
      else {
        const step = CHUNK / 2
        const stage = new Uint16Array(Math.min(step, data.length))
        for (let i = 0; i < data.length; i += step) {
          const m = Math.min(step, data.length - i)
          const v = f32ToBf16(data.subarray(i, i + m), stage.subarray(0, m))
          await writeAll(fh, new Uint8Array(v.buffer, 0, m * 2))
        }
      }
    }
    await fh.sync()
  } finally {
    await fh.close()
  }
  return off
}

/**
 * Write model.safetensors, or model-0000i-of-0000n.safetensors shards plus model.safetensors.index.json
 * when the data exceeds maxShardBytes. Returns the names of the files written.
 */
export async function writeModelSafetensors(
  dir: string,
  tensors: TensorSource[],
  opts: { dtype?: StoreDtype; maxShardBytes?: number; metadata?: Record<string, string> } = {},
): Promise<string[]> {
  const width = (opts.dtype ?? 'F32') === 'F32' ? 4 : 2
  const max = opts.maxShardBytes ?? 5 * 1024 ** 3
  const sorted = [...tensors].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
  const shards: TensorSource[][] = [[]]
  let size = 0
  let total = 0
  for (const t of sorted) {
    const b = numel(t.shape) * width
    if (size > 0 && size + b > max) {
      shards.push([])
      size = 0
    }
    shards[shards.length - 1].push(t)
    size += b
    total += b
  }
  if (shards.length === 1) {
    await writeSafetensors(path.join(dir, SINGLE_FILE), sorted, opts)
    return [SINGLE_FILE]
  }
  const n = shards.length
  const names: string[] = []
  const weightMap: Record<string, string> = {}
  for (let i = 0; i < n; i++) {
    const name = `model-${String(i + 1).padStart(5, '0')}-of-${String(n).padStart(5, '0')}.safetensors`
    await writeSafetensors(path.join(dir, name), shards[i], opts)
    for (const t of shards[i]) weightMap[t.name] = name
    names.push(name)
  }
  const index = { metadata: { total_size: total }, weight_map: weightMap }
  await writeFileSynced(path.join(dir, INDEX_FILE), JSON.stringify(index, null, 2) + '\n')
  names.push(INDEX_FILE)
  return names
}

/** Writes a file and fsyncs it (part of the atomic folder writes). */
export async function writeFileSynced(file: string, data: string | Uint8Array): Promise<void> {
  const fh = await fsp.open(file, 'w')
  try {
    await fh.writeFile(data)
    await fh.sync()
  } finally {
    await fh.close()
  }
}

/** fsyncs a folder so that a rename into it is durable. */
export async function syncDir(dir: string): Promise<void> {
  try {
    const fh = await fsp.open(dir, 'r')
    try {
      await fh.sync()
    } finally {
      await fh.close()
    }
  } catch {
    // directories cannot be fsync'ed on some platforms (Windows); the renames are still atomic
  }
}

/** Files copied from a source model folder into a checkpoint (when present). */
export const TOKENIZER_FILES = [
  'tokenizer.json',
  'tokenizer_config.json',
  'special_tokens_map.json',
  'added_tokens.json',
  'vocab.json',
  'merges.txt',
  'vocab.txt',
  'tokenizer.model',
  'chat_template.jinja',
  'chat_template.json',
  'generation_config.json',
]

export interface CheckpointOptions {
  /** config.json contents */
  config: Record<string, unknown>
  tensors: TensorSource[]
  dtype?: StoreDtype
  maxShardBytes?: number
  /** copy TOKENIZER_FILES from this folder */
  tokenizerFrom?: string
  /** more files to write: name → contents */
  extraFiles?: Record<string, string | Uint8Array>
}

/**
 * Write a model folder atomically: everything goes into a temp folder next to `dir`, every file is
 * fsync'ed, and the temp folder is renamed onto `dir` (an existing `dir` is moved aside first and
 * removed after). A crash leaves either the old folder or the new one, never a half-written one.
 */
export async function writeCheckpointFolder(dir: string, opts: CheckpointOptions): Promise<string[]> {
  const target = path.resolve(dir)
  const parent = path.dirname(target)
  await fsp.mkdir(parent, { recursive: true })
  const tag = `${process.pid}-${randomBytes(4).toString('hex')}`
  const tmp = path.join(parent, `.${path.basename(target)}.tmp-${tag}`)
  await fsp.mkdir(tmp)
  try {
    const files: string[] = []
    await writeFileSynced(path.join(tmp, 'config.json'), JSON.stringify(sortKeys(opts.config), null, 2) + '\n')
    files.push('config.json')
    files.push(...(await writeModelSafetensors(tmp, opts.tensors, { dtype: opts.dtype, maxShardBytes: opts.maxShardBytes })))
    if (opts.tokenizerFrom) {
      for (const f of TOKENIZER_FILES) {
        const src = path.join(opts.tokenizerFrom, f)
        if (!fs.existsSync(src)) continue
        await writeFileSynced(path.join(tmp, f), await fsp.readFile(src))
        files.push(f)
      }
    }
    for (const [name, data] of Object.entries(opts.extraFiles ?? {})) {
      if (name.includes('/') || name.includes('\\') || name.startsWith('.')) throw new Error(`bad extra file name "${name}"`)
      await writeFileSynced(path.join(tmp, name), data)
      files.push(name)
    }
    await syncDir(tmp)
    let old: string | null = null
    if (fs.existsSync(target)) {
      old = path.join(parent, `.${path.basename(target)}.old-${tag}`)
      await fsp.rename(target, old)
    }
    await fsp.rename(tmp, target)
    await syncDir(parent)
    if (old) await fsp.rm(old, { recursive: true, force: true })
    return files
  } catch (e) {
    await fsp.rm(tmp, { recursive: true, force: true }).catch(() => {})
    throw e
  }
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys)
  if (v && typeof v === 'object') {
    const out: Record<string, unknown> = {}
    for (const k of Object.keys(v).sort()) out[k] = sortKeys((v as Record<string, unknown>)[k])
    return out
  }
  return v
}
