// Training settings: the plain-data contract between the app and the trainer, defaults, validation,
// presets by model size and a memory estimate for the WASM ceiling.

import type { ModelConfig } from '../model/config'

export interface LoraSettings {
  /** rank r of the update A·B (A: [in, r], B: [r, out]) */
  rank: number
  /** scaling numerator: the update is (alpha / rank)·A·B */
  alpha: number
  /** projection names, e.g. ['q_proj', 'v_proj'] (Llama/Qwen2/Mistral) or ['c_attn'] (GPT-2) */
  targets: string[]
}

export interface EfficiencySettings {
  /** run the prompt and the common prefix of y and ŷ through the model once per pair (KV cache both branches continue from) */
  sharedPrefix: boolean
  /** LM head + softmax only at positions whose token carries a weight (not over every position) */
  sparseHead: boolean
  /** group the pairs of an optimizer step into micro-batches of similar length (less padding) */
  bucketing: boolean
  /**
   * run the y rows in their own call and skip their backward pass when the τ filter drops every
   * bad token of the micro-batch (no effect without a τ filter)
   */
  pruneFiltered: boolean
}

export interface TrainSettings {
  /** 'figa': the FIGA loss on (y, ŷ); 'sft': cross-entropy on ŷ (weight 1 per response token incl. EOS) */
  method: 'figa' | 'sft'
  /** a(ŷ_t) for added/substituted tokens of ŷ and for its closing EOS */
  alpha: number
  /** b(y_t) for deleted/substituted tokens of y (enters the loss with a minus) */
  beta: number
  /** a(ŷ_t) for unchanged tokens of ŷ */
  gamma: number
  /** penalise a bad token only while CE(y_t) ≤ τ (null: always) */
  tau: number | null
  /** penalise a bad token only while lo ≤ CE(y_t) ≤ hi (the earlier release); wins over tau when set */
  tauBand: [number, number] | null
  /** peak learning rate */
  lr: number
  /** 'constant' (after the warmup) or 'cosine' decay to 0 at the last step */
  schedule: 'constant' | 'cosine'
  /** linear warmup from lr/warmupSteps to lr over this many optimizer steps */
  warmupSteps: number
  /** AdamW decoupled weight decay (matrices only; norms, biases and LoRA-frozen weights are not decayed) */
  weightDecay: number
  /** clip the gradient to this global L2 norm (0: no clipping) */
  clipNorm: number
  adamBeta1: number
  adamBeta2: number
  adamEps: number
  /** pairs per forward/backward pass */
  microBatch: number
  /** micro-batches per optimizer step (effective batch = microBatch × accumulation pairs) */
  accumulation: number
  epochs: number
  /** stop after this many optimizer steps (overrides epochs; the data order wraps into further epochs) */
  maxSteps: number | null
  seed: number
  /** tokens of prompt + ' ' + response + EOS (capped by the model's max positions) */
  maxLength: number
  /** longer pairs: 'truncate' the response (the official code truncates), or 'drop' the pair */
  truncation: 'truncate' | 'drop'
  /** text between the prompt and the response (the official Alpaca format uses ' ') */
  separator: string
  /** fraction of the examples held out for evaluation (deterministic by seed) */
  heldOut: number
  /** evaluate on the held-out pairs every N optimizer steps (0: only at the start and the end) */
  evalEvery: number
  /** write checkpoint-<step>/ every N optimizer steps (0: never, only final/) */
  checkpointEvery: number
  /** keep only the newest N checkpoint-<step>/ folders (null: keep all) */
  keepCheckpoints: number | null
  lora: LoraSettings | null
  efficiency: EfficiencySettings
}

export const DEFAULT_SETTINGS: Readonly<TrainSettings> = Object.freeze({
  method: 'figa',
  alpha: 1,
  beta: 0.5,
  gamma: 0,
  tau: 0.6,
  tauBand: null,
  lr: 1e-5,
  schedule: 'constant',
  warmupSteps: 0,
  weightDecay: 0,
  clipNorm: 1,
  adamBeta1: 0.9,
  adamBeta2: 0.999,
  adamEps: 1e-8,
  microBatch: 4,
  accumulation: 8,
  epochs: 5,
  maxSteps: null,
  seed: 42,
  maxLength: 512,
  truncation: 'truncate',
  separator: ' ',
  heldOut: 0.05,
  evalEvery: 50,
  checkpointEvery: 200,
  keepCheckpoints: 3,
  lora: null,
  efficiency: Object.freeze({ sharedPrefix: true, sparseHead: true, bucketing: true, pruneFiltered: true }),
}) as TrainSettings

/** Settings as callers may give them: any field may be missing, efficiency flags too. */
export type TrainSettingsInput = Omit<Partial<TrainSettings>, 'efficiency'> & { efficiency?: Partial<EfficiencySettings> }

/** Fill the missing fields with defaults (nested efficiency too). */
export function withDefaults(partial: TrainSettingsInput = {}): TrainSettings {
  return {
    ...DEFAULT_SETTINGS,
    ...partial,
    efficiency: { ...DEFAULT_SETTINGS.efficiency, ...(partial.efficiency ?? {}) },
    lora: partial.lora === undefined ? null : partial.lora ? { ...partial.lora, targets: [...partial.lora.targets] } : null,
    tauBand: partial.tauBand ? [partial.tauBand[0], partial.tauBand[1]] : (partial.tauBand ?? null),
  }
}

export class SettingsError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid training settings: ${problems.join('; ')}`)
    this.name = 'SettingsError'
  }
}

/** Check every field; throws SettingsError listing all problems. Returns the settings unchanged. */
export function validateSettings(s: TrainSettings): TrainSettings {
  const p: string[] = []
  const finite = (k: keyof TrainSettings, v: unknown) => {
    if (typeof v !== 'number' || !Number.isFinite(v)) p.push(`${k} must be a finite number`)
    return typeof v === 'number' && Number.isFinite(v)
  }
  const int = (k: keyof TrainSettings, v: unknown, min: number) => {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min) p.push(`${k} must be an integer ≥ ${min}`)
  }
  if (s.method !== 'figa' && s.method !== 'sft') p.push(`method must be 'figa' or 'sft'`)
  finite('alpha', s.alpha)
  if (finite('beta', s.beta) && s.beta < 0) p.push('beta must be ≥ 0 (it is subtracted)')
  finite('gamma', s.gamma)
  if (s.tau !== null && (!finite('tau', s.tau) || s.tau <= 0)) p.push('tau must be > 0 or null')
  if (s.tauBand !== null) {
    if (!Array.isArray(s.tauBand) || s.tauBand.length !== 2 || !s.tauBand.every((x) => typeof x === 'number' && Number.isFinite(x) && x >= 0) || s.tauBand[0] > s.tauBand[1]) {
      p.push('tauBand must be [lo, hi] with 0 ≤ lo ≤ hi, or null')
    }
  }
  if (finite('lr', s.lr) && s.lr <= 0) p.push('lr must be > 0')
  if (s.schedule !== 'constant' && s.schedule !== 'cosine') p.push(`schedule must be 'constant' or 'cosine'`)
  int('warmupSteps', s.warmupSteps, 0)
  if (finite('weightDecay', s.weightDecay) && s.weightDecay < 0) p.push('weightDecay must be ≥ 0')
  if (finite('clipNorm', s.clipNorm) && s.clipNorm < 0) p.push('clipNorm must be ≥ 0 (0: no clipping)')
  if (finite('adamBeta1', s.adamBeta1) && (s.adamBeta1 < 0 || s.adamBeta1 >= 1)) p.push('adamBeta1 must be in [0, 1)')
  if (finite('adamBeta2', s.adamBeta2) && (s.adamBeta2 < 0 || s.adamBeta2 >= 1)) p.push('adamBeta2 must be in [0, 1)')
  if (finite('adamEps', s.adamEps) && s.adamEps <= 0) p.push('adamEps must be > 0')
  int('microBatch', s.microBatch, 1)
  int('accumulation', s.accumulation, 1)
  int('epochs', s.epochs, 1)
  if (s.maxSteps !== null) int('maxSteps', s.maxSteps, 1)
  if (typeof s.seed !== 'number' || !Number.isInteger(s.seed) || s.seed < 0 || s.seed > 0xffffffff) p.push('seed must be an integer in [0, 2^32)')
  int('maxLength', s.maxLength, 4)
  if (s.truncation !== 'truncate' && s.truncation !== 'drop') p.push(`truncation must be 'truncate' or 'drop'`)
  if (typeof s.separator !== 'string') p.push('separator must be a string')
  if (finite('heldOut', s.heldOut) && (s.heldOut < 0 || s.heldOut >= 1)) p.push('heldOut must be a fraction in [0, 1)')
  int('evalEvery', s.evalEvery, 0)
  int('checkpointEvery', s.checkpointEvery, 0)
  if (s.keepCheckpoints !== null) int('keepCheckpoints', s.keepCheckpoints, 1)
  if (s.lora !== null) {
    const l = s.lora
    if (!l || typeof l !== 'object') p.push('lora must be an object or null')
    else {
      if (typeof l.rank !== 'number' || !Number.isInteger(l.rank) || l.rank < 1) p.push('lora.rank must be an integer ≥ 1')
      if (typeof l.alpha !== 'number' || !Number.isFinite(l.alpha) || l.alpha <= 0) p.push('lora.alpha must be > 0')
      if (!Array.isArray(l.targets) || l.targets.length === 0 || l.targets.some((t) => typeof t !== 'string' || !/^[A-Za-z0-9_]+$/.test(t))) {
        p.push('lora.targets must be a non-empty list of projection names such as q_proj, v_proj or c_attn')
      }
    }
  }
  const e = s.efficiency
  if (!e || typeof e !== 'object' || ['sharedPrefix', 'sparseHead', 'bucketing', 'pruneFiltered'].some((k) => typeof (e as unknown as Record<string, unknown>)[k] !== 'boolean')) {
    p.push('efficiency must have boolean sharedPrefix, sparseHead, bucketing and pruneFiltered')
  }
  if (p.length) throw new SettingsError(p)
  return s
}

/** Default LoRA target projections of a model family. */
export function defaultLoraTargets(family: 'gpt2' | 'llama'): string[] {
  return family === 'gpt2' ? ['c_attn'] : ['q_proj', 'v_proj']
}

export interface Preset {
  /** tiny | small | medium | large */
  name: string
  /** one line for the UI */
  description: string
  settings: TrainSettings
}

/** The WASM heap budget (mirrors model/WASM_MEMORY_BUDGET: 4 GiB minus headroom). */
export const WASM_TRAIN_BUDGET = 3.6 * 1024 ** 3

/**
 * Settings by model size (parameter count) that fit the 4 GiB WASM memory. `family` picks the LoRA
 * target names (llama: q_proj, v_proj; gpt2: c_attn). With the model's `config`, the micro-batch is
 * lowered and, where even one pair of max-length sequences would not fit, the max length too (the
 * trainer lowers the micro-batch by itself as well, from the real sequence lengths).
 *
 *   tiny   < 40M    full fine-tuning, micro-batch 4 × accumulation 8 (32 pairs/step), lr 1e-4
 *   small  < 160M   full fine-tuning, micro-batch 1 × 32, lr 3e-5
 *   medium < 450M   LoRA r 16 (α 32) on the attention projections, micro-batch 1 × 32, lr 2e-4
 *   large  ≥ 450M   the same LoRA settings; the model does not fit the WASM backend at all
 *                   (loadModel refuses it): it needs @tensorflow/tfjs-node
 * All: FIGA α 1, β 0.5, γ 0, τ 0.6, constant lr, AdamW without weight decay, clip 1, 3 epochs,
 * max length 512, 5 % held out, every saving on.
 */
export function presetFor(paramCount: number, family: 'gpt2' | 'llama' = 'llama', config?: ModelConfig): Preset {
  const base = withDefaults({})
  const common: Partial<TrainSettings> = { epochs: 3, evalEvery: 25, checkpointEvery: 100, warmupSteps: 0, schedule: 'constant', maxLength: 512 }
  let p: Preset
  if (paramCount < 40e6) {
    // Smaller models take larger steps (the usual 1/width scaling): under 5M parameters (the
    // demo model) 1e-4 for three epochs barely moves the behaviour; 3e-4 does.
    const lr = paramCount < 5e6 ? 3e-4 : 1e-4
    p = { name: 'tiny', description: `full fine-tuning, 32 pairs per step, lr ${lr}`, settings: { ...base, ...common, microBatch: 4, accumulation: 8, lr } }
  } else if (paramCount < 160e6) {
    p = { name: 'small', description: 'full fine-tuning, 32 pairs per step', settings: { ...base, ...common, microBatch: 1, accumulation: 32, lr: 3e-5 } }
  } else {
    const lora: LoraSettings = { rank: 16, alpha: 32, targets: defaultLoraTargets(family) }
    const name = paramCount < 450e6 ? 'medium' : 'large'
    p = {
      name,
      description: `LoRA r16 on ${lora.targets.join(', ')}, 32 pairs per step${name === 'large' ? ' (needs the tfjs-node backend)' : ''}`,
      settings: { ...base, ...common, microBatch: 1, accumulation: 32, lr: 2e-4, lora },
    }
  }
  return config ? fitPreset(p, config, paramCount) : p
}

/** Lower a preset's micro-batch (same pairs per step) and, if needed, its max length to fit WASM. */
export function fitPreset(p: Preset, c: ModelConfig, paramCount: number, budget = WASM_TRAIN_BUDGET): Preset {
  const s = p.settings
  const loraTargetParams = s.lora ? Math.round(paramCount * 0.1) : 0
  const o = { loraTargetParams, loraParams: s.lora ? Math.round(loraTargetParams / 16) : 0 }
  const f = fitMicroBatch(c, paramCount, s, budget, o)
  if (f.fits && f.microBatch === s.microBatch) return p
  const eff = s.microBatch * s.accumulation
  const microBatch = f.fits ? f.microBatch : 1
  const maxLength = f.fits ? s.maxLength : Math.max(16, f.maxLength)
  const notes = [microBatch !== s.microBatch ? `micro-batch ${microBatch}` : '', maxLength !== s.maxLength ? `max length ${maxLength} tokens to fit the WASM memory` : '']
  return {
    ...p,
    description: `${p.description}; ${notes.filter(Boolean).join(', ')}`,
    settings: { ...s, microBatch, accumulation: Math.ceil(eff / microBatch), maxLength },
  }
}

/**
 * The presets offered for a model: tiny, small and medium settings with `method` applied (and
 * 'large' when that is the recommendation), the recommended one by size; fitted to the WASM
 * memory when the model's config is given.
 */
export function presetsFor(paramCount: number, method: 'figa' | 'sft' = 'figa', family: 'gpt2' | 'llama' = 'llama', config?: ModelConfig): { recommended: string; presets: Preset[] } {
  const rec = presetFor(paramCount, family)
  // The model's own tier as presetFor gives it (its lr may depend on the size), then the others.
  const list = [presetFor(1e6, family), presetFor(100e6, family), presetFor(300e6, family)].map((p) => (p.name === rec.name ? rec : p))
  if (rec.name === 'large') list.push(rec)
  const fitted = config ? list.map((p) => fitPreset(p, config, paramCount)) : list
  return { recommended: rec.name, presets: fitted.map((p) => ({ ...p, settings: { ...p.settings, method } })) }
}

/**
 * WASM heap (high-water mark) that the saved activations of `tokens` tokens in sequences of
 * `seqLen` take in one forward/backward pass. The backward keeps ≈ 32·D + 20·I + 3·H·S floats per
 * token and layer (every op's inputs: norms, q/k/v, RoPE products, per-head scores and
 * probabilities, SwiGLU terms). Measured on this engine (tfjs 4.22 WASM, packed rows; the heap's
 * growth per token through the model, three model shapes, 200- and 400-token responses): 0.9–1.35×
 * that; HEAP_FACTOR leaves a margin for fragmentation (the heap never shrinks).
 */
export function activationBytes(c: ModelConfig, tokens: number, seqLen: number): number {
  return HEAP_FACTOR * 4 * c.numLayers * tokens * (32 * c.hiddenSize + 20 * c.intermediateSize + 3 * c.numHeads * seqLen)
}
const HEAP_FACTOR = 1.6

/**
 * Upper bound of the WASM heap a training run needs, in bytes: weights, XNNPACK's packed copy,
 * gradients of the trainable weights (LoRA: of the targets, plus their frozen base copy), the
 * vocabulary-sized buffers of the step (the head's transposed copy and its packing, the head's and
 * the embedding's gradients), the activations of the largest micro-batch (its rows as long as the
 * longest), and the LM head's block of logits. `longest` is the longest sequence of the data
 * (default: the max length).
 */
export function estimateTrainingBytes(
  c: ModelConfig,
  paramCount: number,
  s: TrainSettings,
  o: { longest?: number; loraParams?: number; loraTargetParams?: number } = {},
): number {
  const weights = 2 * 4 * paramCount
  const trainable = s.lora ? 4 * (2 * (o.loraTargetParams ?? 0) + (o.loraParams ?? 0)) : 2 * 4 * paramCount
  const vocab = 4 * 4 * c.hiddenSize * c.vocabSize
  const rows = s.microBatch * (s.method === 'figa' ? 2 : 1)
  const T = Math.min(o.longest ?? s.maxLength, s.maxLength, c.maxPositions)
  const headRows = Math.min(s.efficiency.sparseHead ? Math.ceil((rows * T) / 2) : rows * T, Math.floor(HEAD_CHUNK_ELEMENTS / c.vocabSize) + 1)
  return weights + trainable + vocab + activationBytes(c, rows * T, T) + 4 * 3 * headRows * c.vocabSize
}

/**
 * The largest micro-batch (≤ the one asked for) whose estimate fits `budget`, and whether even one
 * pair fits; `maxLength` is the longest sequence that fits with one pair per micro-batch.
 */
export function fitMicroBatch(c: ModelConfig, paramCount: number, s: TrainSettings, budget: number, o: { longest?: number; loraParams?: number; loraTargetParams?: number } = {}) {
  let mb = s.microBatch
  while (mb > 1 && estimateTrainingBytes(c, paramCount, { ...s, microBatch: mb }, o) > budget) mb = Math.max(1, Math.floor(mb / 2))
  const fits = estimateTrainingBytes(c, paramCount, { ...s, microBatch: mb }, o) <= budget
  let maxLength = Math.min(s.maxLength, c.maxPositions)
  while (maxLength > 16 && estimateTrainingBytes(c, paramCount, { ...s, microBatch: 1 }, { ...o, longest: maxLength }) > budget) maxLength -= 16
  return { microBatch: mb, fits, maxLength }
}

/** float32 elements of one [rows, V] block of logits the head computes at a time */
export const HEAD_CHUNK_ELEMENTS = 16 * 1024 * 1024
