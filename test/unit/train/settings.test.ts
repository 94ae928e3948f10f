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
  it('is within the range measured on WASM (heap high-water mark after forward/backward)', () => {
    // measured: 15M Llama, 2 rows × 260 tokens → 1.47 GiB heap; 1 row × 520 → 1.47 GiB; 512/1376/8 layers, 1 × 256 → 2.1 GiB
    const s = withDefaults({ microBatch: 1, maxLength: 260 })
    const est = estimateTrainingBytes(llama15m, 15.2e6, s)
    expect(est / 2 ** 30).toBeGreaterThan(1.4)
    expect(est / 2 ** 30).toBeLessThan(2.0)
    expect(activationBytes(llama15m, 520, 520)).toBeGreaterThan(activationBytes(llama15m, 520, 260))
    const f = fitMicroBatch(llama15m, 15.2e6, withDefaults({ microBatch: 8, maxLength: 512 }), 2 * 1024 ** 3)
    expect(f.microBatch).toBe(1)
    expect(f.fits).toBe(false)
    expect(f.maxLength).toBeLessThan(512)
  })
})
