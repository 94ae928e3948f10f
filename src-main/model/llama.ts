// Llama family (LlamaForCausalLM, Qwen2ForCausalLM, MistralForCausalLM), after nanoGPT.
//
//   x = embed_tokens[ids]
//   per layer:  x += o_proj(attn(rmsnorm(x)))      q, k = RoPE(q_proj(·)), RoPE(k_proj(·)); v = v_proj(·)
//                                                   query head h reads kv head h // (H / Hkv)   (GQA)
//               x += down_proj(silu(gate_proj(n)) * up_proj(n)),  n = rmsnorm(x)
//   logits = norm(x) @ lm_headᵀ    (or embed_tokensᵀ when tied)
//
// nn.Linear weights are HF [out, in]; they are kept transposed, [in, out], so that every product is a
// plain 2-D matmul. Qwen2 adds biases on q/k/v (not o); Llama's attention_bias adds them on q/k/v/o.
// RoPE is rotate_half with rope_theta (and linear / llama3 rope_scaling).

import * as tf from '@tensorflow/tfjs'
import { type ParamSpec, type RowLayout, TransformerLM } from './base'
import type { ModelConfig } from './config'
import { type RopeRows, applyRope, linear, rmsNorm, ropeInvFreq, ropeRows, rotateHalfMatrix, silu, tidy } from './layers'

export function llamaSpecs(c: ModelConfig): ParamSpec[] {
  const D = c.hiddenSize
  const I = c.intermediateSize
  const V = c.vocabSize
  const qDim = c.numHeads * c.headDim
  const kvDim = c.numKvHeads * c.headDim
  // nn.Linear: HF [out, in], held [in, out]
  const lin = (name: string, inF: number, outF: number): ParamSpec => ({ name, shape: [inF, outF], transposed: true, init: 'normal' })
  const ones = (name: string, n: number): ParamSpec => ({ name, shape: [n], transposed: false, init: 'ones' })
  const zeros = (name: string, n: number): ParamSpec => ({ name, shape: [n], transposed: false, init: 'zeros' })
  const specs: ParamSpec[] = []
  if (c.tieWordEmbeddings) specs.push({ name: 'model.embed_tokens.weight', shape: [D, V], transposed: true, init: 'normal' })
  else specs.push({ name: 'model.embed_tokens.weight', shape: [V, D], transposed: false, init: 'normal' })
  for (let i = 0; i < c.numLayers; i++) {
    const L = `model.layers.${i}.`
    specs.push(ones(`${L}input_layernorm.weight`, D))
    specs.push(lin(`${L}self_attn.q_proj.weight`, D, qDim))
    if (c.qkvBias) specs.push(zeros(`${L}self_attn.q_proj.bias`, qDim))
    specs.push(lin(`${L}self_attn.k_proj.weight`, D, kvDim))
    if (c.qkvBias) specs.push(zeros(`${L}self_attn.k_proj.bias`, kvDim))
    specs.push(lin(`${L}self_attn.v_proj.weight`, D, kvDim))
    if (c.qkvBias) specs.push(zeros(`${L}self_attn.v_proj.bias`, kvDim))
    specs.push(lin(`${L}self_attn.o_proj.weight`, qDim, D))
    if (c.oBias) specs.push(zeros(`${L}self_attn.o_proj.bias`, D))
    specs.push(ones(`${L}post_attention_layernorm.weight`, D))
    specs.push(lin(`${L}mlp.gate_proj.weight`, D, I))
    specs.push(lin(`${L}mlp.up_proj.weight`, D, I))
    specs.push(lin(`${L}mlp.down_proj.weight`, I, D))
    if (c.mlpBias) specs.push(zeros(`${L}mlp.gate_proj.bias`, I), zeros(`${L}mlp.up_proj.bias`, I), zeros(`${L}mlp.down_proj.bias`, D))
  }
  specs.push(ones('model.norm.weight', D))
  if (!c.tieWordEmbeddings) specs.push(lin('lm_head.weight', D, V))
  return specs
}

export class LlamaModel extends TransformerLM {
  private readonly invFreq: Float64Array
  private readonly rot: tf.Tensor2D

  constructor(config: ModelConfig, rawConfig: Record<string, unknown>, values: Map<string, tf.Tensor>) {
    super(config, rawConfig, llamaSpecs(config), values)
    this.invFreq = ropeInvFreq(config.headDim, config.ropeTheta, config.ropeScaling)
    this.rot = tf.keep(rotateHalfMatrix(config.headDim))
  }

  protected headWeight(): tf.Tensor2D {
    return (this.config.tieWordEmbeddings ? this.p('model.embed_tokens.weight') : this.p('lm_head.weight')) as tf.Tensor2D
  }

  protected embedWeight(): tf.Tensor2D | null {
    return this.config.tieWordEmbeddings ? null : (this.p('model.embed_tokens.weight') as tf.Tensor2D)
  }

  /** bias of a projection, when the architecture has one */
  private b(name: string): tf.Variable | null {
    return this.params.get(name) ?? null
  }

  protected body(x: tf.Tensor2D, layout: RowLayout): tf.Tensor2D {
    const c = this.config
    // the 1/√d attention scaling is folded into the queries' cos/sin
    const rope = ropeRows(this.invFreq, layout.positions, 1 / Math.sqrt(c.headDim))
    let h = x
    // one tidy per layer frees its intermediates (scores, MLP activations) before the next layer
    for (let i = 0; i < c.numLayers; i++) h = tidy(() => this.layer(i, h, rope, layout))
    return rmsNorm(h, this.p('model.norm.weight'), c.normEps) as tf.Tensor2D
  }

  /** decoder layer i: x + o_proj(attn(rmsnorm(x))), then + down(silu(gate(n)) · up(n)) */
  private layer(i: number, x: tf.Tensor2D, rope: RopeRows, layout: RowLayout): tf.Tensor2D {
    const c = this.config
    const L = `model.layers.${i}.`
    // attention
    const a = rmsNorm(x, this.p(`${L}input_layernorm.weight`), c.normEps)
    const q = linear(a, this.p(`${L}self_attn.q_proj.weight`), this.b(`${L}self_attn.q_proj.bias`)) as tf.Tensor2D
    const k = linear(a, this.p(`${L}self_attn.k_proj.weight`), this.b(`${L}self_attn.k_proj.bias`)) as tf.Tensor2D
    const v = linear(a, this.p(`${L}self_attn.v_proj.weight`), this.b(`${L}self_attn.v_proj.bias`)) as tf.Tensor2D
    const qr = applyRope(q, rope.cosScaled, rope.sinScaled, this.rot, c.numHeads)
    const kr = applyRope(k, rope.cos, rope.sin, this.rot, c.numKvHeads)
    const att = layout.attend(i, qr, kr, v, { heads: c.numHeads, kvHeads: c.numKvHeads, headDim: c.headDim })
    let h = tf.add(x, linear(att, this.p(`${L}self_attn.o_proj.weight`), this.b(`${L}self_attn.o_proj.bias`))) as tf.Tensor2D
    // SwiGLU MLP
    const n = rmsNorm(h, this.p(`${L}post_attention_layernorm.weight`), c.normEps)
    const gate = silu(linear(n, this.p(`${L}mlp.gate_proj.weight`), this.b(`${L}mlp.gate_proj.bias`)))
    const up = linear(n, this.p(`${L}mlp.up_proj.weight`), this.b(`${L}mlp.up_proj.bias`))
    h = tf.add(h, linear(tf.mul(gate, up), this.p(`${L}mlp.down_proj.weight`), this.b(`${L}mlp.down_proj.bias`))) as tf.Tensor2D
    return h
  }

  protected override disposeExtra(): void {
    this.rot.dispose()
  }
}
