// Backend selection for the TF.js model engine.
//
// Order for 'auto': @tensorflow/tfjs-node-gpu, @tensorflow/tfjs-node (both optional, loaded with a
// dynamic import and used only when installed), then WASM (SIMD, optionally multi-threaded), then
// the pure-JS cpu backend. All model code uses the backend-neutral API of '@tensorflow/tfjs'.
//
// Multi-threaded WASM in Node (DESIGN §4) needs three workarounds, done in enableWasmThreads():
//  1. tfjs reports WASM_HAS_MULTITHREAD_SUPPORT = false in Node: set the flag to true;
//  2. Emscripten starts its pthreads with `new Worker(url)`, and tfjs hands it a `blob:` URL that
//     worker_threads cannot load: write the worker script to a real file and return its path from
//     URL.createObjectURL while the backend starts; that script in turn resolves the Blob it is sent
//     (the threaded factory) to the real wasm-out/tfjs-backend-wasm-threaded-simd.js;
//  3. the XNNPACK pool size is min(requested, logical cores / 2): os.cpus() is stretched to twice
//     the requested thread count during the start.
// The pthread workers are unref'd afterwards so that they never keep a CLI process alive.

import * as tf from '@tensorflow/tfjs'
import * as wasm from '@tensorflow/tfjs-backend-wasm'
import { createRequire } from 'node:module'
import { createHash } from 'node:crypto'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'

export type BackendPref = 'auto' | 'tensorflow' | 'wasm' | 'cpu'

export interface BackendInfo {
  /** tfjs backend name: 'tensorflow' | 'wasm' | 'cpu' */
  name: string
  /** worker threads used by the backend's kernels (1 = single-threaded) */
  threads: number
  /** WASM SIMD in use (false for non-WASM backends) */
  simd: boolean
  /** one line for display: what was chosen and why */
  detail: string
}

export interface BackendOptions {
  /**
   * WASM threads: a number, or 'auto' = half the logical cores, 1 to 4 (tfjs's own default: more
   * threads than free cores makes every small kernel wait for a descheduled worker — decoding on a
   * busy 2-core machine ran 10x slower with 2 threads). Default: env FIGA_WASM_THREADS or 'auto'.
   */
  threads?: number | 'auto'
}

const require = createRequire(import.meta.url)

let current: BackendInfo | null = null
let pending: Promise<BackendInfo> | null = null

/** The backend chosen by initBackend, or null before it ran. */
export function backendInfo(): BackendInfo | null {
  return current
}

/**
 * Select and initialise the TF.js backend. Idempotent: the first call decides (the WASM thread
 * count cannot change once the module is running); later calls return the same info.
 * `pref` defaults to env FIGA_BACKEND, then 'auto'.
 */
export function initBackend(pref?: BackendPref, opts: BackendOptions = {}): Promise<BackendInfo> {
  if (current) return Promise.resolve(current)
  if (!pending) {
    pending = doInit(normalisePref(pref ?? (process.env.FIGA_BACKEND as BackendPref | undefined) ?? 'auto'), opts)
      .then((info) => (current = info))
      .finally(() => {
        pending = null
      })
  }
  return pending
}

function normalisePref(p: string): BackendPref {
  if (p === 'auto' || p === 'tensorflow' || p === 'wasm' || p === 'cpu') return p
  throw new Error(`Unknown backend setting "${p}": expected auto, tensorflow, wasm or cpu`)
}

function requestedThreads(opts: BackendOptions): number {
  const env = process.env.FIGA_WASM_THREADS
  const t = opts.threads ?? (env ? (env === 'auto' ? 'auto' : Number(env)) : 'auto')
  if (t === 'auto') return Math.max(1, Math.min(4, Math.floor(os.cpus().length / 2)))
  if (!Number.isInteger(t) || t < 1) throw new Error(`WASM threads must be a positive integer (got ${t})`)
  return t
}

async function doInit(pref: BackendPref, opts: BackendOptions): Promise<BackendInfo> {
  const notes: string[] = []
  if (pref === 'auto' || pref === 'tensorflow') {
    for (const pkg of ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node']) {
      try {
        const name = pkg // a variable keeps bundlers and tsc from resolving the optional module
        await import(/* @vite-ignore */ name)
        if (await tf.setBackend('tensorflow')) {
          await tf.ready()
          return { name: 'tensorflow', threads: os.cpus().length, simd: false, detail: `libtensorflow via ${pkg}` }
        }
        notes.push(`${pkg} loaded but its backend did not start`)
      } catch (e) {
        notes.push(`${pkg} not available`)
        void e
      }
    }
    if (pref === 'tensorflow') throw new Error(`TensorFlow backend unavailable: ${notes.join('; ')}`)
  }
  if (pref === 'auto' || pref === 'wasm') {
    try {
      return await initWasm(requestedThreads(opts), notes)
    } catch (e) {
      if (pref === 'wasm') throw e
      notes.push(`wasm failed: ${(e as Error).message}`)
    }
  }
  await tf.setBackend('cpu')
  await tf.ready()
  return { name: 'cpu', threads: 1, simd: false, detail: ['pure-JS cpu backend (slow)', ...notes].join('; ') }
}

async function initWasm(threads: number, notes: string[]): Promise<BackendInfo> {
  const simd = Boolean(await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT'))
  let threaded = false
  let restore: (() => void) | null = null
  if (threads > 1 && simd) {
    try {
      restore = enableWasmThreads(threads)
      threaded = true
    } catch (e) {
      notes.push(`wasm threads unavailable (${(e as Error).message})`)
    }
  }
  let ok = false
  try {
    ok = await tf.setBackend('wasm')
  } catch (e) {
    if (!threaded) throw e
    notes.push(`threaded WASM failed (${(e as Error).message})`)
  } finally {
    restore?.()
  }
  if (!ok && threaded) {
    // fall back to the single-threaded SIMD build
    threaded = false
    tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false)
    wasm.setThreadsCount(1)
    ok = await tf.setBackend('wasm')
    if (ok) notes.push('using 1 thread')
  }
  if (!ok) throw new Error('the WASM backend did not start')
  await tf.ready()
  patchWasmKernels()
  const actual = wasm.getThreadsCount()
  if (threaded) unrefWasmWorkers()
  const detail =
    `WASM ${simd ? 'SIMD' : 'without SIMD'}, ${actual} thread${actual > 1 ? 's' : ''}` +
    (threads > 1 && actual === 1 ? ' (threads were requested but not available)' : '') +
    (notes.length ? `; ${notes.join('; ')}` : '')
  return { name: 'wasm', threads: actual, simd, detail }
}

/** Apply the three Node workarounds; returns a function that undoes the temporary patches. */
function enableWasmThreads(threads: number): () => void {
  const factoryPath = require.resolve('@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-threaded-simd.js')
  const { wasmWorkerContents } = require('@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-threaded-simd.worker.js') as {
    wasmWorkerContents: string
  }
  if (typeof wasmWorkerContents !== 'string' || !fs.existsSync(factoryPath)) throw new Error('threaded WASM files not found')
  // The worker imports the factory through URL.createObjectURL(blob): make that return the real file.
  const script =
    `URL.createObjectURL=function(){return ${JSON.stringify(factoryPath)}};URL.revokeObjectURL=function(){};\n` +
    wasmWorkerContents.replace(/\n/g, '\\n')
  const hash = createHash('sha256').update(script).digest('hex').slice(0, 16)
  const workerPath = path.join(os.tmpdir(), `figa-tfjs-wasm-worker-${hash}.cjs`)
  if (!fs.existsSync(workerPath) || fs.readFileSync(workerPath, 'utf8') !== script) {
    const tmp = `${workerPath}.${process.pid}.tmp`
    fs.writeFileSync(tmp, script)
    fs.renameSync(tmp, workerPath)
  }
  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', true)
  wasm.setThreadsCount(threads)
  const origCreate = URL.createObjectURL
  const origCpus = os.cpus
  URL.createObjectURL = (obj: Blob | MediaSource) => {
    if (obj instanceof Blob && obj.type === 'application/javascript') return workerPath
    return origCreate(obj as Blob)
  }
  os.cpus = () => {
    const c = origCpus.call(os)
    const out: os.CpuInfo[] = []
    while (out.length < 2 * threads) out.push(...c)
    return out
  }
  return () => {
    URL.createObjectURL = origCreate
    os.cpus = origCpus
  }
}

/**
 * A float32 tensor's values without a copy where the backend allows it: on WASM a view of the heap,
 * valid only until the next tensor operation (one may grow the heap and detach it); elsewhere
 * dataSync(). For reading large results (gradients) straight into JS accumulators.
 */
export function readView(t: tf.Tensor): Float32Array {
  const b = tf.backend() as unknown as Partial<WasmBackendLike>
  if (tf.getBackend() === 'wasm' && t.dtype === 'float32' && b.typedArrayFromHeap) return b.typedArrayFromHeap(t as unknown as WasmTensorInfo) as Float32Array
  return t.dataSync() as Float32Array
}

// ---------------------------------------------------------------------------------------------
// WASM kernels that copy more than they must, replaced by equivalents that copy less (same results):
//  - Identity (tf.clone, and every tensor the tape saves for the backward pass, which the engine
//    clones) copies the whole buffer. Tensors are immutable, so it shares the data and counts a
//    reference instead, as tfjs's cpu and webgl backends do. Saves the copies and the memory.
//    Cast to the same dtype (the stock gradients of Mul and Square cast dy every time) likewise.
//  - Slice (and SplitV, built on it) first copies the *whole* input out of the heap (readSync), then
//    picks the part: slicing n pieces costs n full copies. It reads the part from a heap view.
//    SplitV (the gradient of concat) calls the original Slice directly; it gets the same fix.

interface WasmTensorInfo {
  dataId: object
  shape: number[]
  dtype: tf.DataType
}
interface WasmBackendLike {
  incRef(dataId: object): void
  makeOutput(shape: number[], dtype: tf.DataType): WasmTensorInfo
  typedArrayFromHeap(t: WasmTensorInfo): Float32Array | Int32Array | Uint8Array
}
type KernelArgs = { inputs: { x: WasmTensorInfo }; attrs: { begin: number | number[]; size: number | number[] }; backend: WasmBackendLike }

function patchWasmKernels(): void {
  const replace = (name: string, make: (orig: tf.KernelFunc) => tf.KernelFunc) => {
    const k = tf.getKernel(name, 'wasm')
    if (!k) return
    tf.unregisterKernel(name, 'wasm')
    tf.registerKernel({ ...k, kernelFunc: make(k.kernelFunc) })
  }
  replace('Identity', (orig) => (args) => {
    const { inputs, backend } = args as unknown as KernelArgs
    const x = inputs.x
    if (x.dtype === 'string') return orig(args)
    backend.incRef(x.dataId)
    return { dataId: x.dataId, shape: x.shape, dtype: x.dtype } as tf.TensorInfo
  })
  // a cast to the tensor's own dtype (the stock gradients of Mul and Square do one per call) is Identity
  replace('Cast', (orig) => (args) => {
    const { inputs, attrs, backend } = args as unknown as { inputs: { x: WasmTensorInfo }; attrs: { dtype: tf.DataType }; backend: WasmBackendLike }
    const x = inputs.x
    if (x.dtype !== attrs.dtype || x.dtype === 'string') return orig(args)
    backend.incRef(x.dataId)
    return { dataId: x.dataId, shape: x.shape, dtype: x.dtype } as tf.TensorInfo
  })
  let slice: tf.KernelFunc | null = null
  replace('Slice', (orig) => {
    slice = (args) => {
      const { inputs, attrs, backend } = args as unknown as KernelArgs
      const x = inputs.x
      if (x.dtype === 'string' || x.shape.length === 0) return orig(args)
      const [begin, size] = tf.slice_util.parseSliceParams(x as unknown as tf.TensorInfo, attrs.begin, attrs.size)
      const out = backend.makeOutput(size, x.dtype)
      // views only after makeOutput: growing the heap detaches earlier ones
      const src = backend.typedArrayFromHeap(x)
      const dst = backend.typedArrayFromHeap(out)
      if (tf.slice_util.isSliceContinous(x.shape, begin, size)) {
        const off = tf.slice_util.computeFlatOffset(begin, tf.util.computeStrides(x.shape))
        dst.set(src.subarray(off, off + dst.length))
      } else copySlice(src, dst, x.shape, begin, size)
      return out as unknown as tf.TensorInfo
    }
    return slice
  })
  // SplitV calls the original Slice directly: the same pieces, each through the slice above
  replace('SplitV', (orig) => (args) => {
    const { inputs, attrs, backend } = args as unknown as { inputs: { x: WasmTensorInfo }; attrs: { numOrSizeSplits: number | number[]; axis: number | number[] }; backend: WasmBackendLike }
    const x = inputs.x
    if (!slice || x.dtype === 'string') return orig(args)
    const axis = tf.util.parseAxisParam(attrs.axis, x.shape)[0]
    const sizes = tf.backend_util.prepareSplitSize(x as unknown as tf.Tensor, attrs.numOrSizeSplits, axis)
    const begin = new Array<number>(x.shape.length).fill(0)
    return sizes.map((n) => {
      const size = [...x.shape]
      size[axis] = n
      const piece = slice!({ inputs: { x }, attrs: { begin: [...begin], size }, backend } as unknown as Parameters<tf.KernelFunc>[0]) as tf.TensorInfo
      begin[axis] += n
      return piece
    })
  })
}

/** Copy the block begin..begin+size of a row-major `shape` tensor, one run of the last axis at a time. */
function copySlice(src: ArrayLike<number> & { subarray(a: number, b: number): ArrayLike<number> }, dst: { set(a: ArrayLike<number>, o: number): void }, shape: number[], begin: number[], size: number[]): void {
  const rank = shape.length
  const strides = tf.util.computeStrides(shape) // of the leading axes; the last one's is 1
  const inner = size[rank - 1]
  const total = size.reduce((a, b) => a * b, 1)
  if (total === 0) return
  const idx = new Array<number>(rank - 1).fill(0)
  for (let o = 0; o < total / inner; o++) {
    let off = begin[rank - 1]
    for (let k = 0; k < rank - 1; k++) off += (begin[k] + idx[k]) * strides[k]
    dst.set(src.subarray(off, off + inner), o * inner)
    for (let k = rank - 2; k >= 0; k--) {
      if (++idx[k] < size[k]) break
      idx[k] = 0
    }
  }
}

interface EmscriptenWorker {
  unref(): void
}
interface WasmModuleLike {
  PThread?: { runningWorkers: EmscriptenWorker[]; unusedWorkers: EmscriptenWorker[] }
}

/** Let the process exit while the XNNPACK thread pool is alive (it waits on shared memory, not on the event loop). */
function unrefWasmWorkers(): void {
  const mod = (tf.backend() as unknown as { wasm?: WasmModuleLike }).wasm
  const pt = mod?.PThread
  if (!pt) return
  for (const w of [...pt.runningWorkers, ...pt.unusedWorkers]) w.unref?.()
}
