// AdamW with decoupled weight decay, the learning-rate schedule and gradient clipping, in plain JS
// over Float32Arrays. One fused loop per parameter instead of ~12 elementwise WASM kernels (each a
// full pass over the parameter), and the moments live in the JS heap, not in the 4 GiB WASM memory.
// The arithmetic follows torch.optim.AdamW (single-tensor path), in float64, stored as float32.

export interface AdamWOptions {
  beta1: number
  beta2: number
  eps: number
  weightDecay: number
}

export interface ParamSlot {
  name: string
  shape: number[]
  /** apply weight decay (matrices yes; norms and biases no) */
  decay: boolean
}

export class AdamW {
  /** optimizer steps taken (the bias-correction exponent of the next step is step + 1) */
  step = 0
  readonly m = new Map<string, Float32Array>()
  readonly v = new Map<string, Float32Array>()

  constructor(
    readonly slots: ParamSlot[],
    readonly o: AdamWOptions,
  ) {
    for (const s of slots) {
      const n = s.shape.reduce((a, b) => a * b, 1)
      this.m.set(s.name, new Float32Array(n))
      this.v.set(s.name, new Float32Array(n))
    }
  }

  /** Start a step: bumps the step count; then call update() for every parameter. */
  begin(): void {
    this.step++
  }

  /**
   * One AdamW update of `param` in place with gradient `grad · gradScale`:
   *   p ← p·(1 − lr·wd);  m ← β1·m + (1−β1)·g;  v ← β2·v + (1−β2)·g²
   *   p ← p − lr/(1−β1^t) · m / (√v/√(1−β2^t) + ε)
   */
  update(slot: ParamSlot, param: Float32Array, grad: Float32Array, lr: number, gradScale = 1): void {
    const m = this.m.get(slot.name)
    const v = this.v.get(slot.name)
    if (!m || !v) throw new Error(`optimizer: unknown parameter ${slot.name}`)
    if (param.length !== m.length || grad.length !== m.length) throw new Error(`optimizer: ${slot.name} has ${param.length} values, gradient ${grad.length}, state ${m.length}`)
    const { beta1, beta2, eps } = this.o
    const t = this.step
    if (t < 1) throw new Error('optimizer: call begin() before update()')
    const decay = slot.decay ? 1 - lr * this.o.weightDecay : 1
    const stepSize = lr / (1 - Math.pow(beta1, t))
    const bc2Sqrt = Math.sqrt(1 - Math.pow(beta2, t))
    const b1c = 1 - beta1
    const b2c = 1 - beta2
    for (let i = 0; i < param.length; i++) {
      const g = grad[i] * gradScale
      const mi = (m[i] = beta1 * m[i] + b1c * g)
      const vi = (v[i] = beta2 * v[i] + b2c * g * g)
      param[i] = param[i] * decay - (stepSize * mi) / (Math.sqrt(vi) / bc2Sqrt + eps)
    }
  }
}

/** Learning rate of optimizer step `step` (0-based) out of `total`. */
export function learningRate(step: number, total: number, s: { lr: number; schedule: 'constant' | 'cosine'; warmupSteps: number }): number {
  const w = s.warmupSteps
  if (w > 0 && step < w) return (s.lr * (step + 1)) / w
  if (s.schedule === 'constant') return s.lr
  const span = Math.max(1, total - w)
  const progress = Math.min(1, (step - w) / span)
  return s.lr * 0.5 * (1 + Math.cos(Math.PI * progress))
}

/** L2 norm of several arrays together (float64 accumulation), each times `scale`. */
export function globalNorm(arrays: Iterable<Float32Array>, scale = 1): number {
  let s = 0
  for (const a of arrays) for (let i = 0; i < a.length; i++) s += a[i] * a[i]
  return Math.sqrt(s) * Math.abs(scale)
}

/** The factor that brings a gradient of norm `norm` to at most `maxNorm` (as torch's clip_grad_norm_). */
export function clipFactor(norm: number, maxNorm: number | null): number {
  if (!maxNorm || maxNorm <= 0 || !Number.isFinite(norm)) return 1
  return Math.min(1, maxNorm / (norm + 1e-6))
}
