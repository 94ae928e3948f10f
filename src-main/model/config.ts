// config.json (Hugging Face) → one normalised ModelConfig for the two architecture families.
//
// gpt2                  → family 'gpt2'
// llama, qwen2, mistral → family 'llama' (RMSNorm, RoPE, SwiGLU, GQA)
//
// Unsupported values raise ConfigError naming the field, e.g.
//   config.json: rope_scaling.rope_type "yarn" is not supported (supported: default, linear, llama3)

export type Family = 'gpt2' | 'llama'

export type RopeScaling =
  | { type: 'default' }
  | { type: 'linear'; factor: number }
  | { type: 'llama3'; factor: number; lowFreqFactor: number; highFreqFactor: number; originalMaxPositions: number }

export interface ModelConfig {
  family: Family
  /** config.json model_type: gpt2 | llama | qwen2 | mistral */
  modelType: string
  /** e.g. GPT2LMHeadModel, LlamaForCausalLM */
  architecture: string
  vocabSize: number
  hiddenSize: number
  numLayers: number
  numHeads: number
  numKvHeads: number
  headDim: number
  intermediateSize: number
  /** longest sequence the model accepts (positions table / max_position_embeddings / sliding window) */
  maxPositions: number
  normEps: number
  /** gpt2: gelu_new (tanh form); llama: silu */
  activation: 'gelu_new' | 'silu'
  tieWordEmbeddings: boolean
  /** llama family */
  ropeTheta: number
  ropeScaling: RopeScaling
  /** bias on q/k/v (qwen2: always; llama: attention_bias) */
  qkvBias: boolean
  /** bias on the attention output projection (llama attention_bias; gpt2 always has one) */
  oBias: boolean
  mlpBias: boolean
  /** gpt2: divide scores by sqrt(head_dim) (scale_attn_weights) */
  scaleAttnWeights: boolean
  /** gpt2: also divide scores by (layer index + 1) */
  scaleAttnByInverseLayerIdx: boolean
  bosTokenId: number | null
  eosTokenIds: number[]
  padTokenId: number | null
  /** stored dtype from torch_dtype / dtype, e.g. 'float32', 'bfloat16'; informative only */
  dtype: string | null
}

export class ConfigError extends Error {
  constructor(message: string) {
    super(`config.json: ${message}`)
    this.name = 'ConfigError'
  }
}

type Json = Record<string, unknown>

const SUPPORTED = 'gpt2, llama, qwen2, mistral'

function num(cfg: Json, field: string, opts: { int?: boolean; min?: number; fallback?: number } = {}): number {
  const v = cfg[field]
  if (v === undefined || v === null) {
    if (opts.fallback !== undefined) return opts.fallback
    throw new ConfigError(`missing required field "${field}"`)
  }
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new ConfigError(`field "${field}" must be a number (got ${JSON.stringify(v)})`)
  if (opts.int && !Number.isInteger(v)) throw new ConfigError(`field "${field}" must be an integer (got ${v})`)
  if (opts.min !== undefined && v < opts.min) throw new ConfigError(`field "${field}" must be >= ${opts.min} (got ${v})`)
  return v
}

function bool(cfg: Json, field: string, fallback: boolean): boolean {
  const v = cfg[field]
  if (v === undefined || v === null) return fallback
  if (typeof v !== 'boolean') throw new ConfigError(`field "${field}" must be true or false (got ${JSON.stringify(v)})`)
  return v
}

function tokenId(cfg: Json, field: string): number | null {
  const v = cfg[field]
  if (v === undefined || v === null) return null
  if (Array.isArray(v)) return typeof v[0] === 'number' ? v[0] : null
  if (typeof v !== 'number' || !Number.isInteger(v)) throw new ConfigError(`field "${field}" must be a token id (got ${JSON.stringify(v)})`)
  return v
}

function tokenIds(cfg: Json, field: string): number[] {
  const v = cfg[field]
  if (v === undefined || v === null) return []
  const arr = Array.isArray(v) ? v : [v]
  for (const x of arr) {
    if (typeof x !== 'number' || !Number.isInteger(x)) throw new ConfigError(`field "${field}" must be a token id or a list of them (got ${JSON.stringify(v)})`)
  }
  return arr as number[]
}

function dtypeOf(cfg: Json): string | null {
  const v = cfg.torch_dtype ?? cfg.dtype
  return typeof v === 'string' ? v : null
}

/** The HF class name a config declares, or the one implied by model_type. */
function architectureOf(cfg: Json, fallback: string): string {
  const a = cfg.architectures
  if (Array.isArray(a) && typeof a[0] === 'string') return a[0]
  return fallback
}

const CAUSAL_LM_CLASSES: Record<string, string[]> = {
  gpt2: ['GPT2LMHeadModel', 'GPT2Model'],
  llama: ['LlamaForCausalLM', 'LlamaModel'],
  qwen2: ['Qwen2ForCausalLM', 'Qwen2Model'],
  mistral: ['MistralForCausalLM', 'MistralModel'],
}

/** Parse a config.json object (already JSON.parse'd). Throws ConfigError naming the offending field. */
export function parseConfig(raw: unknown): ModelConfig {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw new ConfigError('not a JSON object')
  const cfg = raw as Json
  const modelType = cfg.model_type
  if (modelType === undefined) throw new ConfigError(`missing required field "model_type" (supported: ${SUPPORTED})`)
  if (typeof modelType !== 'string' || !(modelType in CAUSAL_LM_CLASSES)) {
    throw new ConfigError(`model_type "${String(modelType)}" is not supported (supported: ${SUPPORTED})`)
  }
  const arch = architectureOf(cfg, CAUSAL_LM_CLASSES[modelType][0])
  if (!CAUSAL_LM_CLASSES[modelType].includes(arch)) {
    throw new ConfigError(`architectures[0] "${arch}" is not supported for model_type "${modelType}" (expected ${CAUSAL_LM_CLASSES[modelType][0]})`)
  }
  return modelType === 'gpt2' ? parseGpt2(cfg, arch) : parseLlama(cfg, modelType, arch)
}

function parseGpt2(cfg: Json, arch: string): ModelConfig {
  const hidden = num(cfg, 'n_embd', { int: true, min: 1 })
  const heads = num(cfg, 'n_head', { int: true, min: 1 })
  if (hidden % heads !== 0) throw new ConfigError(`field "n_embd" (${hidden}) must be divisible by "n_head" (${heads})`)
  const act = cfg.activation_function ?? 'gelu_new'
  if (act !== 'gelu_new' && act !== 'gelu_pytorch_tanh' && act !== 'gelu_fast') {
    throw new ConfigError(`activation_function "${String(act)}" is not supported (supported: gelu_new, gelu_pytorch_tanh, gelu_fast)`)
  }
  if (cfg.add_cross_attention === true) throw new ConfigError('field "add_cross_attention" = true is not supported')
  const nPositions = num(cfg, 'n_positions', { int: true, min: 1, fallback: typeof cfg.n_ctx === 'number' ? cfg.n_ctx : undefined })
  return {
    family: 'gpt2',
    modelType: 'gpt2',
    architecture: arch,
    vocabSize: num(cfg, 'vocab_size', { int: true, min: 1 }),
    hiddenSize: hidden,
    numLayers: num(cfg, 'n_layer', { int: true, min: 1 }),
    numHeads: heads,
    numKvHeads: heads,
    headDim: hidden / heads,
    intermediateSize: num(cfg, 'n_inner', { int: true, min: 1, fallback: 4 * hidden }),
    maxPositions: nPositions,
    normEps: num(cfg, 'layer_norm_epsilon', { min: 0, fallback: 1e-5 }),
    activation: 'gelu_new',
    tieWordEmbeddings: bool(cfg, 'tie_word_embeddings', true),
    ropeTheta: 0,
    ropeScaling: { type: 'default' },
    qkvBias: true,
    oBias: true,
    mlpBias: true,
    scaleAttnWeights: bool(cfg, 'scale_attn_weights', true),
    scaleAttnByInverseLayerIdx: bool(cfg, 'scale_attn_by_inverse_layer_idx', false),
    bosTokenId: tokenId(cfg, 'bos_token_id'),
    eosTokenIds: tokenIds(cfg, 'eos_token_id'),
    padTokenId: tokenId(cfg, 'pad_token_id'),
    dtype: dtypeOf(cfg),
  }
}

function parseRopeScaling(cfg: Json): RopeScaling {
  const rs = cfg.rope_scaling
  if (rs === undefined || rs === null) return { type: 'default' }
  if (typeof rs !== 'object' || Array.isArray(rs)) throw new ConfigError('field "rope_scaling" must be an object or null')
  const r = rs as Json
  const type = r.rope_type ?? r.type
  const field = r.rope_type !== undefined ? 'rope_scaling.rope_type' : 'rope_scaling.type'
  if (type === 'default') return { type: 'default' }
  if (type === 'linear') return { type: 'linear', factor: num(r, 'factor', { min: 1e-9 }) }
  if (type === 'llama3') {
    return {
      type: 'llama3',
      factor: num(r, 'factor', { min: 1e-9 }),
      lowFreqFactor: num(r, 'low_freq_factor', { min: 1e-9 }),
      highFreqFactor: num(r, 'high_freq_factor', { min: 1e-9 }),
      originalMaxPositions: num(r, 'original_max_position_embeddings', { int: true, min: 1 }),
    }
  }
  throw new ConfigError(`${field} "${String(type)}" is not supported (supported: default, linear, llama3)`)
}

function parseLlama(cfg: Json, modelType: string, arch: string): ModelConfig {
  const hidden = num(cfg, 'hidden_size', { int: true, min: 1 })
  const heads = num(cfg, 'num_attention_heads', { int: true, min: 1 })
  const kvHeads = num(cfg, 'num_key_value_heads', { int: true, min: 1, fallback: heads })
  if (heads % kvHeads !== 0) {
    throw new ConfigError(`field "num_attention_heads" (${heads}) must be a multiple of "num_key_value_heads" (${kvHeads})`)
  }
  let headDim: number
  if (cfg.head_dim !== undefined && cfg.head_dim !== null) headDim = num(cfg, 'head_dim', { int: true, min: 1 })
  else {
    if (hidden % heads !== 0) throw new ConfigError(`field "hidden_size" (${hidden}) must be divisible by "num_attention_heads" (${heads})`)
    headDim = hidden / heads
  }
  if (headDim % 2 !== 0) throw new ConfigError(`head_dim (${headDim}) must be even for rotary embeddings`)
  const act = cfg.hidden_act ?? 'silu'
  if (act !== 'silu') throw new ConfigError(`hidden_act "${String(act)}" is not supported (supported: silu)`)
  if (cfg.pretraining_tp !== undefined && cfg.pretraining_tp !== null && cfg.pretraining_tp !== 1) {
    throw new ConfigError(`pretraining_tp ${String(cfg.pretraining_tp)} is not supported (only 1)`)
  }
  let maxPositions = num(cfg, 'max_position_embeddings', { int: true, min: 1, fallback: 2048 })
  // Sliding-window attention is not implemented. Qwen2 only applies it with use_sliding_window = true;
  // Mistral always applies it, so the usable context is capped at the window (then it is plain causal).
  if (modelType === 'qwen2' && cfg.use_sliding_window === true) {
    throw new ConfigError('use_sliding_window = true is not supported (sliding-window attention is not implemented)')
  }
  if (modelType === 'mistral' && cfg.sliding_window !== undefined && cfg.sliding_window !== null) {
    maxPositions = Math.min(maxPositions, num(cfg, 'sliding_window', { int: true, min: 1 }))
  }
  const attentionBias = bool(cfg, 'attention_bias', false)
  return {
    family: 'llama',
    modelType,
    architecture: arch,
    vocabSize: num(cfg, 'vocab_size', { int: true, min: 1 }),
    hiddenSize: hidden,
    numLayers: num(cfg, 'num_hidden_layers', { int: true, min: 1 }),
    numHeads: heads,
    numKvHeads: kvHeads,
    headDim,
    intermediateSize: num(cfg, 'intermediate_size', { int: true, min: 1 }),
    maxPositions,
    normEps: num(cfg, 'rms_norm_eps', { min: 0, fallback: 1e-6 }),
    activation: 'silu',
    tieWordEmbeddings: bool(cfg, 'tie_word_embeddings', false),
    ropeTheta: num(cfg, 'rope_theta', { min: 1e-9, fallback: 10000 }),
    ropeScaling: parseRopeScaling(cfg),
    qkvBias: modelType === 'qwen2' ? true : attentionBias,
    oBias: modelType === 'qwen2' ? false : attentionBias,
    mlpBias: modelType === 'llama' ? bool(cfg, 'mlp_bias', false) : false,
    scaleAttnWeights: true,
    scaleAttnByInverseLayerIdx: false,
    bosTokenId: tokenId(cfg, 'bos_token_id'),
    eosTokenIds: tokenIds(cfg, 'eos_token_id'),
    padTokenId: tokenId(cfg, 'pad_token_id'),
    dtype: dtypeOf(cfg),
  }
}

/** A config.json object for a ModelConfig (for saving checkpoints and random models). */
export function toHfConfig(c: ModelConfig, dtype = 'float32'): Record<string, unknown> {
  const eos = c.eosTokenIds.length === 0 ? null : c.eosTokenIds.length === 1 ? c.eosTokenIds[0] : c.eosTokenIds
  if (c.family === 'gpt2') {
    return {
      activation_function: 'gelu_new',
      architectures: [c.architecture],
      bos_token_id: c.bosTokenId,
      eos_token_id: eos,
      layer_norm_epsilon: c.normEps,
      model_type: 'gpt2',
      n_embd: c.hiddenSize,
      n_head: c.numHeads,
      n_inner: c.intermediateSize === 4 * c.hiddenSize ? null : c.intermediateSize,
      n_layer: c.numLayers,
      n_positions: c.maxPositions,
      scale_attn_by_inverse_layer_idx: c.scaleAttnByInverseLayerIdx,
      scale_attn_weights: c.scaleAttnWeights,
      tie_word_embeddings: c.tieWordEmbeddings,
      torch_dtype: dtype,
      vocab_size: c.vocabSize,
      ...(c.padTokenId !== null ? { pad_token_id: c.padTokenId } : {}),
    }
  }
  const rs = c.ropeScaling
  const ropeScaling =
    rs.type === 'default'
      ? null
      : rs.type === 'linear'
        ? { rope_type: 'linear', factor: rs.factor }
        : {
            rope_type: 'llama3',
            factor: rs.factor,
            low_freq_factor: rs.lowFreqFactor,
            high_freq_factor: rs.highFreqFactor,
            original_max_position_embeddings: rs.originalMaxPositions,
          }
  const out: Record<string, unknown> = {
    architectures: [c.architecture],
    bos_token_id: c.bosTokenId,
    eos_token_id: eos,
    hidden_act: 'silu',
    hidden_size: c.hiddenSize,
    intermediate_size: c.intermediateSize,
    max_position_embeddings: c.maxPositions,
    model_type: c.modelType,
    num_attention_heads: c.numHeads,
    num_hidden_layers: c.numLayers,
    num_key_value_heads: c.numKvHeads,
    rms_norm_eps: c.normEps,
    rope_scaling: ropeScaling,
    rope_theta: c.ropeTheta,
    tie_word_embeddings: c.tieWordEmbeddings,
    torch_dtype: dtype,
    vocab_size: c.vocabSize,
  }
  if (c.padTokenId !== null) out.pad_token_id = c.padTokenId
  if (c.modelType !== 'qwen2' || c.headDim * c.numHeads !== c.hiddenSize) out.head_dim = c.headDim
  if (c.modelType === 'qwen2') {
    out.use_sliding_window = false
    out.sliding_window = null
  } else if (c.modelType === 'mistral') {
    out.sliding_window = null
  } else {
    out.attention_bias = c.qkvBias
    out.mlp_bias = c.mlpBias
  }
  return out
}

/** Parameter count of the architecture described by a config (tied embeddings counted once). */
export function countParams(c: ModelConfig): number {
  const D = c.hiddenSize
  const V = c.vocabSize
  const I = c.intermediateSize
  const qDim = c.numHeads * c.headDim
  const kvDim = c.numKvHeads * c.headDim
  if (c.family === 'gpt2') {
    const layer = 2 * 2 * D + (D * 3 * D + 3 * D) + (D * D + D) + (D * I + I) + (I * D + D)
    return V * D + c.maxPositions * D + c.numLayers * layer + 2 * D + (c.tieWordEmbeddings ? 0 : V * D)
  }
  const attn = D * (qDim + 2 * kvDim) + (c.qkvBias ? qDim + 2 * kvDim : 0) + qDim * D + (c.oBias ? D : 0)
  const mlp = 3 * D * I + (c.mlpBias ? 2 * I + D : 0)
  const layer = attn + mlp + 2 * D
  return V * D + c.numLayers * layer + D + (c.tieWordEmbeddings ? 0 : V * D)
}
