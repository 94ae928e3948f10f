// What the optimizer trains: every model parameter (full fine-tuning) or LoRA adapters on chosen
// projections. Both expose the same three things to the trainer: the tf.Variables to differentiate,
// a way to add one micro-batch's gradients into JS accumulators, and a way to apply an update.
//
// LoRA is kept merged: the target variable always holds W = W0 + (α/r)·A·B, so the model's own
// forward pass (and saving) needs no change. The gradient w.r.t. W that tf.variableGrads gives is
// turned into the adapters' gradients by the chain rule:
//     dA = (α/r)·dW·Bᵀ        dB = (α/r)·Aᵀ·dW
// which is exactly the gradient of the unmerged forward x·W0 + (α/r)·(x·A)·B.

import * as tf from '@tensorflow/tfjs'
import { readView } from '../model/backend'
import type { CausalLM } from '../model/base'
import type { ParamSlot } from './optimizer'
import type { TrainRng } from './rng'
import type { LoraSettings } from './settings'

export interface Trainable {
  readonly kind: 'full' | 'lora'
  readonly slots: ParamSlot[]
  /** the variables tf.variableGrads differentiates */
  readonly vars: tf.Variable[]
  /** whether the LM head is among them */
  readonly trainHead: boolean
  /** add one micro-batch's gradients (keyed by variable name, as variableGrads returns them) */
  accumulate(grads: tf.NamedTensorMap, acc: Map<string, Float32Array>): void
  /** read each parameter, let `update` change it in place, write it back */
  apply(update: (slot: ParamSlot, param: Float32Array) => void): void
  /** parameters (by slot name) for a checkpoint; and setting them back on resume */
  values(): Map<string, Float32Array>
  restore(values: Map<string, Float32Array>): void
  dispose(): void
}

const size = (shape: number[]) => shape.reduce((a, b) => a * b, 1)

/** acc[name] += g (a copy of g when acc has no such entry yet). */
export function addInto(acc: Map<string, Float32Array>, name: string, g: Float32Array): void {
  const a = acc.get(name)
  if (!a) acc.set(name, g.slice())
  else for (let i = 0; i < a.length; i++) a[i] += g[i]
}

function setVariable(v: tf.Variable, data: Float32Array): void {
  const t = tf.tensor(data, v.shape, 'float32')
  v.assign(t)
  t.dispose()
}

/** Full fine-tuning: every parameter; weight decay on matrices only. */
export function fullTrainable(model: CausalLM): Trainable {
  const entries = [...model.params.entries()]
  const slots: ParamSlot[] = entries.map(([name, v]) => ({ name, shape: [...v.shape], decay: v.shape.length >= 2 }))
  return {
    kind: 'full',
    slots,
    vars: entries.map(([, v]) => v),
    trainHead: true,
    accumulate(grads, acc) {
      for (const [name, v] of entries) {
        const g = grads[v.name]
        if (g) addInto(acc, name, readView(g))
      }
    },
    apply(update) {
      entries.forEach(([, v], i) => {
        const p = new Float32Array(readView(v))
        update(slots[i], p)
        setVariable(v, p)
      })
    },
    values() {
      // one copy out of the engine (dataSync would copy twice)
      return new Map(entries.map(([name, v]) => [name, new Float32Array(readView(v))]))
    },
    restore(values) {
      for (const [name, v] of entries) {
        const d = values.get(name)
        if (d) setVariable(v, d)
      }
    },
    dispose() {},
  }
}

export interface LoraAdapter {
  /** the model parameter (HF name), held [in, out] */
  target: string
  inF: number
  outF: number
  /** A [in, r] and B [r, out] (row-major) */
  A: Float32Array
  B: Float32Array
  /** the frozen base weight W0 [in, out] */
  base: tf.Tensor2D
}

/** Parameters matching the LoRA targets: 2-D weights named …<target>.weight. */
export function loraTargets(model: CausalLM, targets: string[]): string[] {
  const names = [...model.params.keys()].filter((n) => targets.some((t) => n.endsWith(`.${t}.weight`)) && model.params.get(n)!.shape.length === 2)
  if (!names.length) {
    const projections = [...new Set([...model.params.keys()].map((n) => /\.([A-Za-z0-9_]+)\.weight$/.exec(n)?.[1]).filter((x): x is string => !!x && /proj|attn|fc/.test(x)))]
    throw new Error(`LoRA targets ${targets.join(', ')} match no weight of this model (it has: ${projections.sort().join(', ')})`)
  }
  return names
}

export class LoraTrainable implements Trainable {
  readonly kind = 'lora' as const
  readonly slots: ParamSlot[] = []
  readonly vars: tf.Variable[] = []
  readonly trainHead = false
  readonly scale: number

  private constructor(
    private readonly model: CausalLM,
    readonly settings: LoraSettings,
    readonly adapters: LoraAdapter[],
  ) {
    this.scale = settings.alpha / settings.rank
    for (const a of adapters) {
      this.slots.push({ name: `${a.target}.lora_A`, shape: [a.inF, settings.rank], decay: true })
      this.slots.push({ name: `${a.target}.lora_B`, shape: [settings.rank, a.outF], decay: true })
      this.vars.push(model.params.get(a.target)!)
    }
  }

  /**
   * New adapters: A ~ U(−1/√in, 1/√in) (PEFT's kaiming-uniform with a = √5), B = 0, so the merged
   * weights start equal to the base weights. `base` gives the frozen weights when they differ from
   * the variables' current values (resume: the variables hold merged weights).
   */
  static create(model: CausalLM, settings: LoraSettings, rng: TrainRng): LoraTrainable {
    const r = settings.rank
    const adapters = loraTargets(model, settings.targets).map((target) => {
      const v = model.params.get(target)!
      const [inF, outF] = v.shape as [number, number]
      const A = new Float32Array(inF * r)
      const bound = 1 / Math.sqrt(inF)
      for (let i = 0; i < A.length; i++) A[i] = (2 * rng.uniform() - 1) * bound
      return { target, inF, outF, A, B: new Float32Array(r * outF), base: tf.keep(tf.clone(v) as tf.Tensor2D) }
    })
    const t = new LoraTrainable(model, settings, adapters)
    t.merge()
    return t
  }

  /** Adapters from a checkpoint: A, B and the base weights W0 by target name. */
  static fromState(model: CausalLM, settings: LoraSettings, values: Map<string, Float32Array>): LoraTrainable {
    const r = settings.rank
    const adapters = loraTargets(model, settings.targets).map((target) => {
      const v = model.params.get(target)!
      const [inF, outF] = v.shape as [number, number]
      const get = (k: string, n: number) => {
        const d = values.get(`${target}.${k}`)
        if (!d || d.length !== n) throw new Error(`the checkpoint has no LoRA ${k} of the right size for ${target}`)
        return d
      }
      return { target, inF, outF, A: get('lora_A', inF * r), B: get('lora_B', r * outF), base: tf.keep(tf.tensor2d(get('base', inF * outF), [inF, outF])) }
    })
    const t = new LoraTrainable(model, settings, adapters)
    t.merge()
    return t
  }

  /** W ← W0 + (α/r)·A·B for every target. */
  merge(): void {
    const r = this.settings.rank
    for (const a of this.adapters) {
      const w = tf.tidy(() => tf.add(a.base, tf.mul(tf.matMul(tf.tensor2d(a.A, [a.inF, r]), tf.tensor2d(a.B, [r, a.outF])), this.scale)))
      this.model.params.get(a.target)!.assign(w)
      w.dispose()
    }
  }

  accumulate(grads: tf.NamedTensorMap, acc: Map<string, Float32Array>): void {
    const r = this.settings.rank
    for (const a of this.adapters) {
      const dW = grads[this.model.params.get(a.target)!.name] as tf.Tensor2D | undefined
      if (!dW) continue
      const [dA, dB] = tf.tidy(() => {
        const A = tf.tensor2d(a.A, [a.inF, r])
        const B = tf.tensor2d(a.B, [r, a.outF])
        return [tf.mul(tf.matMul(dW, tf.transpose(B)), this.scale), tf.mul(tf.matMul(tf.transpose(A), dW), this.scale)]
      })
      addInto(acc, `${a.target}.lora_A`, dA.dataSync() as Float32Array)
      addInto(acc, `${a.target}.lora_B`, dB.dataSync() as Float32Array)
      dA.dispose()
      dB.dispose()
    }
  }

  apply(update: (slot: ParamSlot, param: Float32Array) => void): void {
    this.adapters.forEach((a, i) => {
      update(this.slots[2 * i], a.A)
      update(this.slots[2 * i + 1], a.B)
    })
    this.merge()
  }

  values(): Map<string, Float32Array> {
    const out = new Map<string, Float32Array>()
    for (const a of this.adapters) {
      out.set(`${a.target}.lora_A`, a.A.slice())
      out.set(`${a.target}.lora_B`, a.B.slice())
    }
    return out
  }

  /** the frozen base weights W0 (for a checkpoint) */
  baseValues(): Map<string, Float32Array> {
    return new Map(this.adapters.map((a) => [`${a.target}.base`, new Float32Array(a.base.dataSync() as Float32Array)]))
  }

  restore(values: Map<string, Float32Array>): void {
    for (const a of this.adapters) {
      const A = values.get(`${a.target}.lora_A`)
      const B = values.get(`${a.target}.lora_B`)
      if (A) a.A.set(A)
      if (B) a.B.set(B)
    }
    this.merge()
  }

  dispose(): void {
    for (const a of this.adapters) a.base.dispose()
  }
}

export function paramCountOf(slots: ParamSlot[]): number {
  return slots.reduce((n, s) => n + size(s.shape), 0)
}
