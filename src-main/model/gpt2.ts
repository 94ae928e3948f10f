// GPT-2 (GPT2LMHeadModel), after nanoGPT.
//
//   x = wte[ids] + wpe[pos]
//   per block:  x += c_proj(attn(ln_1(x)))        attn: c_attn → [q | k | v], causal softmax(q·kᵀ/√d)·v
//               x += mlp.c_proj(gelu_new(c_fc(ln_2(x))))
//   logits = ln_f(x) @ wteᵀ   (tied) or @ lm_headᵀ
//
// Conv1D weights are stored [in, out] by HF already (y = x @ W + b), so they are used as they are.
// The tied wte is kept as the LM head [D, V]; the embedding lookup gathers its columns.

import * as tf from '@tensorflow/tfjs'
import { type ParamSpec, type RowLayout, TransformerLM } from './base'
import type { ModelConfig } from './config'
import { embedRows, geluNew, layerNorm, linear, scalar, tidy } from './layers'

const P = 'transformer.'

export function gpt2Specs(c: ModelConfig): ParamSpec[] {
  const D = c.hiddenSize
  const I = c.intermediateSize
  const V = c.vocabSize
  const mat = (name: string, shape: number[]): ParamSpec => ({ name, shape, transposed: false, init: 'normal' })
  const ones = (name: string, n: number): ParamSpec => ({ name, shape: [n], transposed: false, init: 'ones' })
  const zeros = (name: string, n: number): ParamSpec => ({ name, shape: [n], transposed: false, init: 'zeros' })
  const specs: ParamSpec[] = []
  if (c.tieWordEmbeddings) specs.push({ name: `${P}wte.weight`, shape: [D, V], transposed: true, init: 'normal' })
  else {
    specs.push(mat(`${P}wte.weight`, [V, D]))
    specs.push({ name: 'lm_head.weight', shape: [D, V], transposed: true, init: 'normal' })
  }
  specs.push(mat(`${P}wpe.weight`, [c.maxPositions, D]))
  for (let i = 0; i < c.numLayers; i++) {
    const h = `${P}h.${i}.`
    specs.push(
      ones(`${h}ln_1.weight`, D),
      zeros(`${h}ln_1.bias`, D),
      mat(`${h}attn.c_attn.weight`, [D, 3 * D]),
      zeros(`${h}attn.c_attn.bias`, 3 * D),
      mat(`${h}attn.c_proj.weight`, [D, D]),
      zeros(`${h}attn.c_proj.bias`, D),
      ones(`${h}ln_2.weight`, D),
      zeros(`${h}ln_2.bias`, D),
      mat(`${h}mlp.c_fc.weight`, [D, I]),
      zeros(`${h}mlp.c_fc.bias`, I),
      mat(`${h}mlp.c_proj.weight`, [I, D]),
      zeros(`${h}mlp.c_proj.bias`, D),
    )
  }
  specs.push(ones(`${P}ln_f.weight`, D), zeros(`${P}ln_f.bias`, D))
  return specs
}

/** Names a GPT-2 checkpoint may use for a canonical tensor name (old uploads have no `transformer.`). */
export function gpt2Aliases(name: string): string[] {
  return name.startsWith(P) ? [name, name.slice(P.length)] : [name]
}

export class GPT2Model extends TransformerLM {
  constructor(config: ModelConfig, rawConfig: Record<string, unknown>, values: Map<string, tf.Tensor>) {
    super(config, rawConfig, gpt2Specs(config), values)
  }

  protected headWeight(): tf.Tensor2D {
    return (this.config.tieWordEmbeddings ? this.p(`${P}wte.weight`) : this.p('lm_head.weight')) as tf.Tensor2D
  }

  protected embedWeight(): tf.Tensor2D | null {
    return this.config.tieWordEmbeddings ? null : (this.p(`${P}wte.weight`) as tf.Tensor2D)
  }

  protected body(x: tf.Tensor2D, layout: RowLayout): tf.Tensor2D {
    const c = this.config
    // learned position embeddings at each row's position
    const posIds = tf.tensor1d(Int32Array.from(layout.positions), 'int32')
    let h = tf.add(x, embedRows(this.p(`${P}wpe.weight`), posIds)) as tf.Tensor2D
    // one tidy per block frees its intermediates (scores, MLP activations) before the next block
    for (let i = 0; i < c.numLayers; i++) h = tidy(() => this.block(i, h, layout))
    return layerNorm(h, this.p(`${P}ln_f.weight`), this.p(`${P}ln_f.bias`), c.normEps) as tf.Tensor2D
  }

  /** transformer block i: x + attn(ln_1(x)), then + mlp(ln_2(·)) */
  private block(i: number, x: tf.Tensor2D, layout: RowLayout): tf.Tensor2D {
    const c = this.config
    const d = c.headDim
    const L = `${P}h.${i}.`
    // attention: c_attn → [q | k | v] along the output axis
    const a = layerNorm(x, this.p(`${L}ln_1.weight`), this.p(`${L}ln_1.bias`), c.normEps)
    const qkv = linear(a, this.p(`${L}attn.c_attn.weight`), this.p(`${L}attn.c_attn.bias`)) as tf.Tensor2D
    const [q, k, v] = tf.split(qkv, 3, 1) as tf.Tensor2D[]
    let scale = c.scaleAttnWeights ? 1 / Math.sqrt(d) : 1
    if (c.scaleAttnByInverseLayerIdx) scale /= i + 1
    const att = layout.attend(i, tf.mul(q, scalar(scale)) as tf.Tensor2D, k, v, { heads: c.numHeads, kvHeads: c.numHeads, headDim: d })
    let h = tf.add(x, linear(att, this.p(`${L}attn.c_proj.weight`), this.p(`${L}attn.c_proj.bias`))) as tf.Tensor2D
    // MLP
    const m = layerNorm(h, this.p(`${L}ln_2.weight`), this.p(`${L}ln_2.bias`), c.normEps)
    const f = geluNew(linear(m, this.p(`${L}mlp.c_fc.weight`), this.p(`${L}mlp.c_fc.bias`)))
    h = tf.add(h, linear(f, this.p(`${L}mlp.c_proj.weight`), this.p(`${L}mlp.c_proj.bias`))) as tf.Tensor2D
    return h
  }
}
