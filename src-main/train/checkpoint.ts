// Checkpoint folders: the model in Hugging Face layout (LoRA merged) plus what the trainer needs to
// continue exactly where it stopped. Written atomically: everything goes into a temp folder next to
// the target, every file is fsync'ed, then the folder is renamed into place.
//
//   checkpoint-<step>/
//     config.json, model.safetensors (or shards + index), tokenizer files     ← loadable as a model
//     trainer_state.json      step, epoch, data order and position, RNG state, settings, dataset hash
//     optimizer.safetensors   AdamW moments: "<param>.exp_avg", "<param>.exp_avg_sq" (F32)
//     lora.safetensors        LoRA only: "<target>.lora_A" [in, r], "<target>.lora_B" [r, out],
//                             "<target>.base" [in, out] (frozen W0), in the engine's [in, out] layout

import { randomBytes } from 'node:crypto'
import fs from 'node:fs'
import fsp from 'node:fs/promises'
import path from 'node:path'
import type { CausalLM } from '../model/base'
import { saveModel } from '../model/model'
import { SafetensorsReader, syncDir, type TensorSource, writeFileSynced, writeSafetensors } from '../model/safetensors'
import type { TrainSettings } from './settings'

export const STATE_FILE = 'trainer_state.json'
export const OPTIMIZER_FILE = 'optimizer.safetensors'
export const LORA_FILE = 'lora.safetensors'
export const STATE_FORMAT = 'figa-trainer-state'
export const STATE_VERSION = 1

export interface TrainerState {
  format: typeof STATE_FORMAT
  version: number
  /** false for final/ (no optimizer state) */
  resumable: boolean
  /** optimizer steps done */
  step: number
  totalSteps: number
  /** current epoch (0-based) and position in its order of the next pair to train */
  epoch: number
  cursor: number
  /** the current epoch's order (indices into the prepared training pairs) */
  order: number[]
  /** RNG state after drawing that order */
  rng: number[]
  /** AdamW steps taken (bias-correction exponent) */
  optimizerStep: number
  settings: TrainSettings
  datasetHash: string
  /** training / held-out pairs after preparation */
  trainPairs: number
  evalPairs: number
  /** the model folder training started from */
  baseModel: string
  elapsedMs: number
  savedAt: string
}

export interface CheckpointContent {
  model: CausalLM
  state: TrainerState
  /** copy tokenizer files from here */
  tokenizerFrom?: string
  /** optimizer moments per parameter (absent for final/) */
  moments?: { m: Map<string, Float32Array>; v: Map<string, Float32Array>; shapes: Map<string, number[]> }
  /** LoRA tensors (adapters and frozen bases) with shapes */
  lora?: { values: Map<string, Float32Array>; shapes: Map<string, number[]> }
}

function sources(values: Map<string, Float32Array>, shapes: Map<string, number[]>, suffix = ''): TensorSource[] {
  return [...values.entries()].map(([name, data]) => ({ name: name + suffix, shape: shapes.get(name)!, data: () => data }))
}

/** Write a checkpoint folder atomically (an existing folder at `dir` is replaced). */
export async function writeCheckpoint(dir: string, c: CheckpointContent): Promise<void> {
  const target = path.resolve(dir)
  const parent = path.dirname(target)
  await fsp.mkdir(parent, { recursive: true })
  const tag = `${process.pid}-${randomBytes(4).toString('hex')}`
  const tmp = path.join(parent, `.${path.basename(target)}.tmp-${tag}`)
  try {
    // the model folder (config, weights, tokenizer), itself written atomically into tmp
    await saveModel(c.model, tmp, { tokenizerFrom: c.tokenizerFrom })
    if (c.moments) {
      const { m, v, shapes } = c.moments
      await writeSafetensors(path.join(tmp, OPTIMIZER_FILE), [...sources(m, shapes, '.exp_avg'), ...sources(v, shapes, '.exp_avg_sq')], {
        metadata: { format: 'figa-adamw', step: String(c.state.optimizerStep) },
      })
    }
    if (c.lora) await writeSafetensors(path.join(tmp, LORA_FILE), sources(c.lora.values, c.lora.shapes), { metadata: { format: 'figa-lora' } })
    await writeFileSynced(path.join(tmp, STATE_FILE), JSON.stringify(c.state, null, 1) + '\n')
    await syncDir(tmp)
    let old: string | null = null
    if (fs.existsSync(target)) {
      old = path.join(parent, `.${path.basename(target)}.old-${tag}`)
      await fsp.rename(target, old)
    }
    await fsp.rename(tmp, target)
    await syncDir(parent)
    if (old) await fsp.rm(old, { recursive: true, force: true })
  } catch (e) {
    await fsp.rm(tmp, { recursive: true, force: true }).catch(() => {})
    throw e
  }
}

export async function readState(dir: string): Promise<TrainerState> {
  const file = path.join(dir, STATE_FILE)
  let text: string
  try {
    text = await fsp.readFile(file, 'utf8')
  } catch {
    throw new Error(`${dir} is not a training checkpoint (no ${STATE_FILE})`)
  }
  let s: TrainerState
  try {
    s = JSON.parse(text)
  } catch {
    throw new Error(`${file} is not valid JSON`)
  }
  if (s.format !== STATE_FORMAT) throw new Error(`${file} is not a FIGA trainer state`)
  if (s.version !== STATE_VERSION) throw new Error(`${file} has version ${s.version}; this build reads version ${STATE_VERSION}`)
  return s
}

/** All tensors of one safetensors file as float32 arrays. */
export async function readTensors(file: string): Promise<Map<string, Float32Array>> {
  const r = await SafetensorsReader.open(file)
  try {
    const out = new Map<string, Float32Array>()
    for (const name of r.names()) out.set(name, (await r.read(name)).data)
    return out
  } finally {
    await r.close()
  }
}

/** checkpoint-<step> folders in outDir, oldest first. */
export async function listCheckpoints(outDir: string): Promise<{ step: number; dir: string }[]> {
  const names = await fsp.readdir(outDir).catch(() => [] as string[])
  return names
    .map((n) => ({ n, m: /^checkpoint-(\d+)$/.exec(n) }))
    .filter((x) => x.m)
    .map((x) => ({ step: Number(x.m![1]), dir: path.join(outDir, x.n) }))
    .sort((a, b) => a.step - b.step)
}
