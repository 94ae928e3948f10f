// Loading, creating, saving and inspecting models.

import * as tf from '@tensorflow/tfjs'
import fs from 'node:fs'
import fsp from 'node:fs/promises'
import path from 'node:path'
import { type CausalLM, type ParamSpec, type TransformerLM, hfShape, transpose2d } from './base'
import { ConfigError, type ModelConfig, countParams, parseConfig, toHfConfig } from './config'
import { GPT2Model, gpt2Aliases, gpt2Specs } from './gpt2'
import { LlamaModel, llamaSpecs } from './llama'
import { Rng } from './rng'
import { INDEX_FILE, SINGLE_FILE, SafetensorsReader, type StoreDtype, TOKENIZER_FILES, writeCheckpointFolder } from './safetensors'
import { backendInfo, initBackend } from './backend'

export function paramSpecs(c: ModelConfig): ParamSpec[] {
  return c.family === 'gpt2' ? gpt2Specs(c) : llamaSpecs(c)
}

function aliases(c: ModelConfig, name: string): string[] {
  return c.family === 'gpt2' ? gpt2Aliases(name) : [name]
}

function construct(c: ModelConfig, raw: Record<string, unknown>, values: Map<string, tf.Tensor>): TransformerLM {
  return c.family === 'gpt2' ? new GPT2Model(c, raw, values) : new LlamaModel(c, raw, values)
}

/**
 * WASM memory is 32-bit (4 GiB at most, and it never shrinks). Inference needs about twice the
 * float32 weights: XNNPACK keeps a packed copy of every matrix it multiplies with (measured: GPT-2
 * 124M, 475 MiB of weights → 1.18 GiB of WASM heap after the first token). Refuse models that
 * cannot fit before loading them.
 */
export const WASM_MEMORY_BUDGET = 3.6 * 1024 ** 3
export function wasmBytesNeeded(c: ModelConfig): number {
  return 2 * countParams(c) * 4
}

function checkFits(c: ModelConfig): void {
  const need = wasmBytesNeeded(c)
  const b = backendInfo()?.name ?? tf.getBackend()
  if (b === 'wasm' && need > WASM_MEMORY_BUDGET) {
    throw new Error(
      `model too large for the WASM backend: ${(countParams(c) / 1e6).toFixed(0)}M parameters need about ${(need / 1024 ** 3).toFixed(1)} GiB ` +
        '(float32 weights plus XNNPACK\'s packed copy); WASM memory is limited to 4 GiB (install @tensorflow/tfjs-node for larger models)',
    )
  }
}

export async function readConfig(dir: string): Promise<{ config: ModelConfig; raw: Record<string, unknown> }> {
  const file = path.join(dir, 'config.json')
  let text: string
  try {
    text = await fsp.readFile(file, 'utf8')
  } catch {
    throw new ConfigError(`not found in ${dir}`)
  }
  let raw: Record<string, unknown>
  try {
    raw = JSON.parse(text)
  } catch {
    throw new ConfigError('not valid JSON')
  }
  return { config: parseConfig(raw), raw }
}

export interface LoadOptions {
  /** called after each tensor with (done, total) */
  onProgress?: (done: number, total: number) => void
}

/** Read config.json and the safetensors weights (single file or sharded) of a model folder. */
export async function loadModel(dir: string, opts: LoadOptions = {}): Promise<CausalLM> {
  if (!backendInfo()) await initBackend()
  const { config, raw } = await readConfig(dir)
  checkFits(config)
  const reader = await SafetensorsReader.open(dir)
  const specs = paramSpecs(config)
  const values = new Map<string, tf.Tensor>()
  try {
    const sources = resolveNames(config, specs, reader)
    for (let i = 0; i < specs.length; i++) {
      const s = specs[i]
      const t = await reader.read(sources[i])
      const data = s.transposed ? transpose2d(t.data, t.shape[0], t.shape[1]) : t.data
      values.set(s.name, tf.tensor(data, s.shape, 'float32'))
      opts.onProgress?.(i + 1, specs.length)
    }
    return construct(config, raw, values)
  } catch (e) {
    for (const v of values.values()) v.dispose()
    throw e
  } finally {
    await reader.close()
  }
}

/** Map each spec to the tensor name in the files, checking presence and shapes. */
function resolveNames(c: ModelConfig, specs: ParamSpec[], reader: SafetensorsReader): string[] {
  const missing: string[] = []
  const wrong: string[] = []
  const names = specs.map((s) => {
    const found = aliases(c, s.name).find((n) => reader.has(n))
    if (!found) {
      missing.push(s.name)
      return ''
    }
    const want = hfShape(s)
    const got = reader.info(found).shape
    if (want.length !== got.length || want.some((d, i) => d !== got[i])) wrong.push(`${found} is [${got}], expected [${want}]`)
    return found
  })
  if (missing.length) {
    const hint =
      !c.tieWordEmbeddings && missing.includes('lm_head.weight') ? ' (tie_word_embeddings is false but there is no lm_head.weight)' : ''
    throw new Error(`weights missing ${missing.length} tensor(s): ${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ', …' : ''}${hint}`)
  }
  if (wrong.length) throw new Error(`weights do not match config.json: ${wrong.slice(0, 5).join('; ')}`)
  return names
}

/** A model with random weights (N(0, 0.02) matrices, unit norms, zero biases), reproducible from the seed. */
export function randomModel(config: ModelConfig, seed = 0, rawConfig?: Record<string, unknown>): CausalLM {
  checkFits(config)
  const rng = new Rng(seed)
  const values = new Map<string, tf.Tensor>()
  for (const s of paramSpecs(config)) {
    const n = s.shape.reduce((a, b) => a * b, 1)
    const data = new Float32Array(n)
    if (s.init === 'ones') data.fill(1)
    else if (s.init === 'normal') for (let i = 0; i < n; i++) data[i] = 0.02 * rng.normal()
    values.set(s.name, tf.tensor(data, s.shape, 'float32'))
  }
  return construct(config, rawConfig ?? toHfConfig(config), values)
}

export interface SaveOptions {
  /** copy tokenizer files (tokenizer.json, tokenizer_config.json, …) from this folder */
  tokenizerFrom?: string
  /** stored dtype, default F32 */
  dtype?: StoreDtype
  /** shard when the weights exceed this many bytes (default 5 GiB, as HF) */
  maxShardBytes?: number
}

/** Write config.json, the weights and the tokenizer files into `dir`, atomically. */
export async function saveModel(model: CausalLM, dir: string, opts: SaveOptions = {}): Promise<void> {
  const dtype = opts.dtype ?? 'F32'
  const config = { ...model.rawConfig }
  delete config.dtype
  config.torch_dtype = dtype === 'F32' ? 'float32' : 'bfloat16'
  await writeCheckpointFolder(dir, {
    config,
    tensors: model.exportTensors(),
    dtype,
    maxShardBytes: opts.maxShardBytes,
    tokenizerFrom: opts.tokenizerFrom,
  })
}

export interface ModelFolderInfo {
  /** true when the folder can be loaded (problems is empty) */
  ok: boolean
  /** e.g. LlamaForCausalLM (null when config.json is unusable) */
  architecture: string | null
  modelType: string | null
  paramCount: number | null
  /** stored dtype(s) of the weights, e.g. 'BF16', or torch_dtype when the weights were not readable */
  dtype: string | null
  /** bytes of all files in the folder */
  sizeBytes: number
  /** float32 bytes the weights take once loaded */
  memoryBytes: number | null
  files: string[]
  config: ModelConfig | null
  /** blocking issues, each a sentence for the user */
  problems: string[]
  /** non-blocking remarks */
  warnings: string[]
}

/** Validate a model folder for the "Add model" dialog without loading the weights. */
export async function inspectModelFolder(dir: string): Promise<ModelFolderInfo> {
  const info: ModelFolderInfo = {
    ok: false,
    architecture: null,
    modelType: null,
    paramCount: null,
    dtype: null,
    sizeBytes: 0,
    memoryBytes: null,
    files: [],
    config: null,
    problems: [],
    warnings: [],
  }
  const st = await fsp.stat(dir).catch(() => null)
  if (!st || !st.isDirectory()) {
    info.problems.push(`${dir} is not a folder`)
    return info
  }
  const files = (await fsp.readdir(dir)).sort()
  info.files = files
  for (const f of files) {
    const s = await fsp.stat(path.join(dir, f)).catch(() => null)
    if (s?.isFile()) info.sizeBytes += s.size
  }
  // config
  let config: ModelConfig | null = null
  if (!files.includes('config.json')) info.problems.push('config.json is missing')
  else {
    try {
      const r = await readConfig(dir)
      config = r.config
      info.config = config
      info.architecture = config.architecture
      info.modelType = config.modelType
      info.dtype = config.dtype
    } catch (e) {
      info.problems.push((e as Error).message)
      try {
        const raw = JSON.parse(await fsp.readFile(path.join(dir, 'config.json'), 'utf8'))
        if (typeof raw?.model_type === 'string') info.modelType = raw.model_type
        if (Array.isArray(raw?.architectures)) info.architecture = String(raw.architectures[0])
      } catch {
        /* already reported */
      }
    }
  }
  // weights
  const hasSt = files.includes(SINGLE_FILE) || files.includes(INDEX_FILE) || files.some((f) => f.endsWith('.safetensors'))
  if (!hasSt) {
    if (files.some((f) => f.endsWith('.bin') || f.endsWith('.pt') || f.endsWith('.pth'))) {
      info.problems.push('only PyTorch .bin/.pt weights were found; convert them to safetensors (model.safetensors)')
    } else if (files.some((f) => f.endsWith('.gguf'))) {
      info.problems.push('GGUF files are not supported; use the Hugging Face safetensors checkpoint')
    } else info.problems.push('no weights: model.safetensors or model.safetensors.index.json is missing')
  } else {
    let reader: SafetensorsReader | null = null
    try {
      reader = await SafetensorsReader.open(dir)
      const dtypes = [...new Set([...reader.tensors.values()].map((t) => t.dtype))].sort()
      info.dtype = dtypes.join('+')
      if (config) {
        const specs = paramSpecs(config)
        try {
          resolveNames(config, specs, reader)
          const used = new Set(specs.flatMap((s) => aliases(config!, s.name)))
          const bad = specs
            .map((s) => aliases(config!, s.name).find((n) => reader!.has(n))!)
            .filter((n) => !['F32', 'F16', 'BF16'].includes(reader!.info(n).dtype))
          if (bad.length) info.problems.push(`unsupported weight dtype ${reader.info(bad[0]).dtype} (supported: F32, F16, BF16)`)
          const extra = reader.names().filter((n) => !used.has(n) && !/\.attn\.(masked_)?bias$/.test(n) && !/rotary_emb\.inv_freq$/.test(n))
          if (extra.length) info.warnings.push(`${extra.length} tensor(s) in the weights are not used: ${extra.slice(0, 3).join(', ')}${extra.length > 3 ? ', …' : ''}`)
        } catch (e) {
          info.problems.push((e as Error).message)
        }
      }
    } catch (e) {
      info.problems.push((e as Error).message)
    } finally {
      await reader?.close()
    }
  }
  if (config) {
    info.paramCount = countParams(config)
    info.memoryBytes = info.paramCount * 4
    if (wasmBytesNeeded(config) > WASM_MEMORY_BUDGET) {
      const msg = `the model needs about ${(wasmBytesNeeded(config) / 1024 ** 3).toFixed(1)} GiB to run (float32 weights and a packed copy), more than the WASM backend can hold (4 GiB in all)`
      if ((backendInfo()?.name ?? 'wasm') === 'tensorflow') info.warnings.push(msg)
      else info.problems.push(msg + '; install @tensorflow/tfjs-node to use it')
    }
  }
  // tokenizer
  if (!files.includes('tokenizer.json')) {
    if (files.some((f) => TOKENIZER_FILES.includes(f) && f !== 'generation_config.json')) {
      info.warnings.push('no tokenizer.json (only slow-tokenizer files); the tokenizer may not load')
    } else info.problems.push('tokenizer.json is missing')
  }
  if (!files.includes('tokenizer_config.json') && files.includes('tokenizer.json')) info.warnings.push('tokenizer_config.json is missing (no chat template, default special tokens)')
  info.ok = info.problems.length === 0
  return info
}

/** True when the path looks like a model folder (cheap check for file pickers). */
export function looksLikeModelFolder(dir: string): boolean {
  return fs.existsSync(path.join(dir, 'config.json')) && (fs.existsSync(path.join(dir, SINGLE_FILE)) || fs.existsSync(path.join(dir, INDEX_FILE)))
}
