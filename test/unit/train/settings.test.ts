// Settings: defaults, validation messages, presets by model size fitted to the WASM memory, and the
// memory estimate against heap sizes measured on this engine.

import { describe, expect, it } from 'vitest'
import { parseConfig } from '../../../src-main/model/config'
import {
  DEFAULT_SETTINGS,
  SettingsError,
  activationBytes,
  estimateTrainingBytes,
  fitMicroBatch,
  presetFor,
  presetsFor,
  validateSettings,
  withDefaults,
} from '../../../src-main/train/settings'

const llama15m = parseConfig({
  architectures: ['LlamaForCausalLM'], model_type: 'llama', hidden_size: 288, intermediate_size: 768, num_hidden_layers: 6, num_attention_heads: 6,
  num_key_value_heads: 6, vocab_size: 32000, max_position_embeddings: 1024, rms_norm_eps: 1e-5, tie_word_embeddings: true,
})
const gpt2 = parseConfig({ architectures: ['GPT2LMHeadModel'], model_type: 'gpt2', n_embd: 768, n_layer: 12, n_head: 12, n_positions: 1024, vocab_size: 50257 })

describe('settings', () => {
  it('defaults follow DESIGN §1 (α 1, β 0.5, γ 0, τ 0.6) with every saving on', () => {
    expect(DEFAULT_SETTINGS).toMatchObject({ method: 'figa', alpha: 1, beta: 0.5, gamma: 0, tau: 0.6, tauBand: null, schedule: 'constant', weightDecay: 0 })
    const s = withDefaults({ efficiency: { sharedPrefix: false }, lora: { rank: 4, alpha: 8, targets: ['q_proj'] } })
    expect(s.efficiency).toEqual({ sharedPrefix: false, sparseHead: true, bucketing: true, pruneFiltered: true })
    expect(s.lora).toEqual({ rank: 4, alpha: 8, targets: ['q_proj'] })
  })

  it('validation lists every problem', () => {
    try {
      validateSettings(withDefaults({ lr: 0, microBatch: 1.5, tauBand: [1, 0.6], beta: -1, lora: { rank: 0, alpha: 1, targets: [] } }))
      expect.unreachable()
    } catch (e) {
      expect(e).toBeInstanceOf(SettingsError)
      const p = (e as SettingsError).problems.join('\n')
      for (const k of ['lr', 'microBatch', 'tauBand', 'beta', 'lora.rank', 'lora.targets']) expect(p).toContain(k)
    }
    expect(() => validateSettings(withDefaults({}))).not.toThrow()
  })
})

describe('presets', () => {
  it('by size: tiny and small train all weights, medium and large LoRA', () => {
    expect(presetFor(0.1e6).name).toBe('tiny')
    expect(presetFor(15e6).settings.lora).toBeNull()
    expect(presetFor(124e6).name).toBe('small')
    expect(presetFor(300e6, 'gpt2').settings.lora).toEqual({ rank: 16, alpha: 32, targets: ['c_attn'] })
    expect(presetFor(1.1e9).name).toBe('large')
    for (const p of [presetFor(1e6), presetFor(100e6), presetFor(300e6)]) {
      expect(p.settings.microBatch * p.settings.accumulation).toBe(32)
      expect(() => validateSettings(p.settings)).not.toThrow()
    }
  })

  it('the tiny preset takes larger steps for models under 5M parameters, in the list too', () => {
    expect(presetFor(1.8e6).settings.lr).toBe(3e-4)
    expect(presetFor(15e6).settings.lr).toBe(1e-4)
    expect(presetsFor(1.8e6).presets.find((p) => p.name === 'tiny')!.settings.lr).toBe(3e-4)
    expect(presetsFor(15e6).presets.find((p) => p.name === 'tiny')!.settings.lr).toBe(1e-4)
  })

  it('presetsFor: the list, the recommendation, the method', () => {
    const r = presetsFor(15e6, 'sft')
    expect(r.recommended).toBe('tiny')
    expect(r.presets.map((p) => p.name)).toEqual(['tiny', 'small', 'medium'])
    expect(r.presets.every((p) => p.settings.method === 'sft')).toBe(true)
    expect(presetsFor(2e9).presets.map((p) => p.name)).toContain('large')
  })

  it('with the model config, presets fit the WASM memory: smaller micro-batch, and max length where needed', () => {
    const p15 = presetFor(15.2e6, 'llama', llama15m)
    expect(p15.settings.microBatch).toBeLessThan(4)
    expect(p15.settings.microBatch * p15.settings.accumulation).toBe(32)
    expect(p15.settings.maxLength).toBe(512)
    expect(estimateTrainingBytes(llama15m, 15.2e6, p15.settings)).toBeLessThan(3.6 * 1024 ** 3)
    const g = presetFor(124e6, 'gpt2', gpt2)
    expect(g.settings.microBatch).toBe(1)
    expect(g.settings.maxLength).toBeLessThan(512)
    expect(g.description).toMatch(/max length/)
  })
})

describe('memory estimate', () => {
  // Measured (2026-11-27, tfjs 4.22 WASM, 1 thread, packed rows): WASM heap high-water mark after one
  // step's forward/backward of random-weight Llamas on SPA-like pairs (see src-main/train/README.md, Memory)
  const shapes = {
    bench: llama15m,
    wide: { ...llama15m, hiddenSize: 512, intermediateSize: 1376, numLayers: 4, numHeads: 8, numKvHeads: 8, headDim: 64 },
    deep: { ...llama15m, hiddenSize: 192, intermediateSize: 512, numLayers: 12, numHeads: 6, numKvHeads: 3, headDim: 32, vocabSize: 4000 },
  }
  const params = { bench: 15.2e6, wide: 29.0e6, deep: 5.6e6 }
  const measured: [keyof typeof shapes, number, number, number][] = [
    // shape, micro-batch (pairs), longest sequence, heap MiB
    ['bench', 1, 262, 871],
    ['bench', 4, 287, 1991],
    ['bench', 8, 294, 3120],
    ['bench', 2, 552, 2109],
    ['wide', 2, 273, 1815],
    ['wide', 4, 287, 2693],
    ['deep', 4, 287, 1866],
    ['deep', 2, 552, 2066],
  ]
  it.each(measured)('bounds the measured heap from above, without being more than 2.5× it: %s, micro-batch %i, longest %i', (shape, micro, longest, heapMiB) => {
    const est = estimateTrainingBytes(shapes[shape], params[shape], withDefaults({ microBatch: micro, maxLength: 1024, tau: null }), { longest }) / 2 ** 20
    expect(est).toBeGreaterThan(heapMiB * 1.1)
    expect(est).toBeLessThan(heapMiB * 2.5)
  })

  it('grows with the sequence length; fitMicroBatch lowers the micro-batch, then names a max length that fits', () => {
    expect(activationBytes(llama15m, 520, 520)).toBeGreaterThan(activationBytes(llama15m, 520, 260))
    const f = fitMicroBatch(llama15m, 15.2e6, withDefaults({ microBatch: 8, maxLength: 512 }), 1024 ** 3)
    expect(f.microBatch).toBe(1)
    expect(f.fits).toBe(false)
    expect(f.maxLength).toBeLessThan(512)
    expect(fitMicroBatch(llama15m, 15.2e6, withDefaults({ microBatch: 8, maxLength: 512 }), 3.6 * 1024 ** 3).microBatch).toBe(2)
  })
})
