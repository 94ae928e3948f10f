// AdamW against a hand computation (and the numbers torch.optim.AdamW 1.13 gives for the same
// steps), the schedule, and gradient clipping.

import { describe, expect, it } from 'vitest'
import { AdamW, clipFactor, globalNorm, learningRate } from '../../../src-main/train/optimizer'

describe('AdamW', () => {
  const grads = [
    [0.1, -0.2, 0.3, 0.0],
    [0.05, 0.4, -0.3, 1e-3],
    [-0.2, 0.0, 0.1, 2.0],
  ]
  const hp = { beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.1 }

  it('matches a hand computation of decoupled weight decay + bias-corrected Adam', () => {
    const slot = { name: 'w', shape: [4], decay: true }
    const opt = new AdamW([slot], hp)
    const p = Float32Array.from([0.5, -1.0, 2.0, 0.0])
    // hand: float64 per element
    const ref = [0.5, -1.0, 2.0, 0.0]
    const m = [0, 0, 0, 0]
    const v = [0, 0, 0, 0]
    const lr = 0.01
    grads.forEach((g, k) => {
      const t = k + 1
      for (let i = 0; i < 4; i++) {
        ref[i] *= 1 - lr * hp.weightDecay
        m[i] = hp.beta1 * m[i] + (1 - hp.beta1) * g[i]
        v[i] = hp.beta2 * v[i] + (1 - hp.beta2) * g[i] * g[i]
        const mHat = m[i] / (1 - hp.beta1 ** t)
        const vHat = v[i] / (1 - hp.beta2 ** t)
        ref[i] -= (lr * mHat) / (Math.sqrt(vHat) + hp.eps)
        ref[i] = Math.fround(ref[i])
      }
      opt.begin()
      // gradScale: the trainer passes 1/N · clip; here the gradient is given ×2 and scaled by ½
      opt.update(slot, p, Float32Array.from(g, (x) => 2 * x), lr, 0.5)
      for (let i = 0; i < 4; i++) expect(p[i]).toBeCloseTo(ref[i], 7)
    })
    // torch.optim.AdamW(lr=0.01, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.1), same gradients
    const torch = [0.4812726080417633, -0.9935104250907898, 1.9834812879562378, -0.013824831694364548]
    for (let i = 0; i < 4; i++) expect(p[i]).toBeCloseTo(torch[i], 6)
    const torchM = [-0.0074000004678964615, 0.01979999989271164, 0.0072999997064471245, 0.20009000599384308]
    const torchV = [5.2477513236226514e-5, 0.0001997600484173745, 0.00018973011174239218, 0.00400000112131238]
    for (let i = 0; i < 4; i++) {
      expect(opt.m.get('w')![i]).toBeCloseTo(torchM[i], 7)
      expect(opt.v.get('w')![i]).toBeCloseTo(torchV[i], 9)
    }
    expect(opt.step).toBe(3)
  })

  it('does not decay parameters marked decay: false', () => {
    const slot = { name: 'norm', shape: [2], decay: false }
    const opt = new AdamW([slot], { ...hp, weightDecay: 0.5 })
    const p = Float32Array.from([1, 1])
    opt.begin()
    opt.update(slot, p, Float32Array.from([0, 0]), 0.1)
    expect([...p]).toEqual([1, 1])
  })
})

describe('schedule', () => {
  const s = { lr: 1e-3, warmupSteps: 0, schedule: 'constant' as const }
  it('constant', () => {
    expect(learningRate(0, 10, s)).toBe(1e-3)
    expect(learningRate(9, 10, s)).toBe(1e-3)
  })
  it('linear warmup then cosine to 0 at the last step', () => {
    const c = { lr: 1e-3, warmupSteps: 4, schedule: 'cosine' as const }
    expect(learningRate(0, 20, c)).toBeCloseTo(0.25e-3, 12)
    expect(learningRate(3, 20, c)).toBeCloseTo(1e-3, 12)
    expect(learningRate(4, 20, c)).toBeCloseTo(1e-3, 12)
    expect(learningRate(12, 20, c)).toBeCloseTo(0.5e-3, 12)
    expect(learningRate(20, 20, c)).toBeCloseTo(0, 12)
    for (let i = 5; i < 20; i++) expect(learningRate(i, 20, c)).toBeLessThan(learningRate(i - 1, 20, c))
  })
  it('warmup then constant', () => {
    const c = { lr: 1e-3, warmupSteps: 2, schedule: 'constant' as const }
    expect(learningRate(0, 10, c)).toBeCloseTo(0.5e-3, 12)
    expect(learningRate(5, 10, c)).toBe(1e-3)
  })
})

describe('clipping by global norm', () => {
  it('norm over all parameters, factor as clip_grad_norm_', () => {
    const n = globalNorm([Float32Array.from([3, 0]), Float32Array.from([4])], 0.5)
    expect(n).toBeCloseTo(2.5, 12)
    expect(clipFactor(2.5, 1)).toBeCloseTo(1 / (2.5 + 1e-6), 12)
    expect(clipFactor(0.5, 1)).toBe(1)
    expect(clipFactor(10, 0)).toBe(1)
  })
})
