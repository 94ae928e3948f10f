import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { initBackend } from '../../../src-main/model/backend'
import { ConfigError, countParams, parseConfig, toHfConfig } from '../../../src-main/model/config'
import { inspectModelFolder, loadModel, paramSpecs } from '../../../src-main/model/model'
import { writeSafetensors } from '../../../src-main/model/safetensors'

const FIX = path.resolve(__dirname, '../../fixtures/parity')
let tmp: string

beforeAll(async () => {
  await initBackend()
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'figa-mf-'))
})
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }))

const readJson = (f: string) => JSON.parse(fs.readFileSync(f, 'utf8'))

/** a copy of a fixture folder with edits */
function copyFixture(name: string, as: string, edit?: (cfg: Record<string, unknown>) => void, drop: string[] = []): string {
  const dir = path.join(tmp, as)
  fs.mkdirSync(dir)
  for (const f of fs.readdirSync(path.join(FIX, name))) {
    if (f === 'reference.json' || drop.includes(f)) continue
    fs.copyFileSync(path.join(FIX, name, f), path.join(dir, f))
  }
  if (edit) {
    const cfg = readJson(path.join(dir, 'config.json'))
    edit(cfg)
    fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(cfg))
  }
  fs.writeFileSync(path.join(dir, 'tokenizer.json'), '{}')
  fs.writeFileSync(path.join(dir, 'tokenizer_config.json'), '{}')
  return dir
}

describe('config.json parsing', () => {
  it('normalises the fixtures', () => {
    const g = parseConfig(readJson(path.join(FIX, 'gpt2-tiny', 'config.json')))
    expect(g).toMatchObject({ family: 'gpt2', vocabSize: 512, hiddenSize: 64, numLayers: 2, numHeads: 4, headDim: 16, intermediateSize: 256, maxPositions: 128, normEps: 1e-5, tieWordEmbeddings: true, eosTokenIds: [511] })
    const l = parseConfig(readJson(path.join(FIX, 'llama-tiny-gqa', 'config.json')))
    expect(l).toMatchObject({ family: 'llama', numKvHeads: 2, headDim: 16, intermediateSize: 160, ropeTheta: 10000, tieWordEmbeddings: false, qkvBias: false, oBias: false })
    const q = parseConfig(readJson(path.join(FIX, 'qwen2-tiny', 'config.json')))
    expect(q).toMatchObject({ modelType: 'qwen2', headDim: 16, qkvBias: true, oBias: false, ropeTheta: 1e6, tieWordEmbeddings: true, dtype: 'float16' })
  })

  it('defaults tie_word_embeddings to true for GPT-2 and reads n_ctx, dtype or torch_dtype', () => {
    const c = parseConfig({ model_type: 'gpt2', n_embd: 64, n_layer: 1, n_head: 4, vocab_size: 100, n_ctx: 256, dtype: 'bfloat16' })
    expect(c.tieWordEmbeddings).toBe(true)
    expect(c.maxPositions).toBe(256)
    expect(c.dtype).toBe('bfloat16')
    expect(parseConfig({ model_type: 'llama', hidden_size: 64, intermediate_size: 64, num_hidden_layers: 1, num_attention_heads: 4, vocab_size: 10, torch_dtype: 'float32' }).dtype).toBe('float32')
  })

  it('Qwen2 head_dim is hidden/heads; eos may be a list; mistral window caps the context', () => {
    const q = parseConfig({ model_type: 'qwen2', hidden_size: 96, intermediate_size: 64, num_hidden_layers: 1, num_attention_heads: 6, num_key_value_heads: 2, vocab_size: 10, eos_token_id: [7, 8] })
    expect(q.headDim).toBe(16)
    expect(q.eosTokenIds).toEqual([7, 8])
    const m = parseConfig({ model_type: 'mistral', hidden_size: 64, intermediate_size: 64, num_hidden_layers: 1, num_attention_heads: 4, num_key_value_heads: 2, vocab_size: 10, max_position_embeddings: 32768, sliding_window: 4096 })
    expect(m.maxPositions).toBe(4096)
  })

  it('names the offending field', () => {
    const base = { model_type: 'llama', hidden_size: 64, intermediate_size: 64, num_hidden_layers: 1, num_attention_heads: 4, vocab_size: 10 }
    const err = (cfg: unknown) => {
      try {
        parseConfig(cfg)
      } catch (e) {
        expect(e).toBeInstanceOf(ConfigError)
        return (e as Error).message
      }
      throw new Error('no error')
    }
    expect(err({ ...base, model_type: 'mamba' })).toMatch(/model_type "mamba" is not supported \(supported: gpt2, llama, qwen2, mistral\)/)
    expect(err({ hidden_size: 1 })).toMatch(/missing required field "model_type"/)
    expect(err({ ...base, hidden_size: undefined })).toMatch(/"hidden_size"/)
    expect(err({ ...base, rope_scaling: { rope_type: 'yarn', factor: 4 } })).toMatch(/rope_scaling.rope_type "yarn" is not supported/)
    expect(err({ ...base, rope_scaling: { type: 'dynamic', factor: 2 } })).toMatch(/rope_scaling.type "dynamic"/)
    expect(err({ ...base, hidden_act: 'gelu' })).toMatch(/hidden_act "gelu"/)
    expect(err({ ...base, num_key_value_heads: 3 })).toMatch(/num_key_value_heads/)
    expect(err({ ...base, model_type: 'qwen2', use_sliding_window: true })).toMatch(/use_sliding_window/)
    expect(err({ model_type: 'gpt2', n_embd: 64, n_layer: 1, n_head: 4, vocab_size: 10, n_positions: 8, activation_function: 'relu' })).toMatch(/activation_function "relu"/)
    expect(err({ ...base, architectures: ['LlamaForSequenceClassification'] })).toMatch(/architectures\[0\]/)
  })

  it('accepts llama3 and linear rope_scaling', () => {
    const base = { model_type: 'llama', hidden_size: 64, intermediate_size: 64, num_hidden_layers: 1, num_attention_heads: 4, vocab_size: 10 }
    expect(parseConfig({ ...base, rope_scaling: { rope_type: 'llama3', factor: 32, low_freq_factor: 1, high_freq_factor: 4, original_max_position_embeddings: 8192 } }).ropeScaling.type).toBe('llama3')
    expect(parseConfig({ ...base, rope_scaling: { type: 'linear', factor: 2 } }).ropeScaling).toEqual({ type: 'linear', factor: 2 })
  })

  it('round-trips through toHfConfig and counts parameters like the specs', () => {
    for (const name of ['gpt2-tiny', 'llama-tiny-gqa', 'qwen2-tiny', 'llama-tiny-bf16']) {
      const c = parseConfig(readJson(path.join(FIX, name, 'config.json')))
      expect(parseConfig(toHfConfig(c))).toEqual({ ...c, dtype: 'float32' })
      const n = paramSpecs(c).reduce((a, s) => a + s.shape.reduce((x, y) => x * y, 1), 0)
      expect(countParams(c)).toBe(n)
    }
  })
})

describe('inspectModelFolder', () => {
  it('describes a valid folder', async () => {
    const dir = copyFixture('llama-tiny-bf16', 'ok-bf16')
    const info = await inspectModelFolder(dir)
    expect(info.problems).toEqual([])
    expect(info.ok).toBe(true)
    expect(info.architecture).toBe('LlamaForCausalLM')
    expect(info.modelType).toBe('llama')
    expect(info.dtype).toBe('BF16')
    expect(info.paramCount).toBe(countParams(info.config!))
    expect(info.sizeBytes).toBeGreaterThan(200_000)
    expect(info.files).toContain('model.safetensors')
  })

  it('describes a sharded folder', async () => {
    const info = await inspectModelFolder(copyFixture('llama-tiny-sharded', 'ok-sharded'))
    expect(info.problems).toEqual([])
    expect(info.dtype).toBe('F32')
  })

  it('reports a missing tokenizer', async () => {
    const info = await inspectModelFolder(path.join(FIX, 'gpt2-tiny'))
    expect(info.ok).toBe(false)
    expect(info.problems).toEqual(['tokenizer.json is missing'])
  })

  it('reports a missing config.json and missing weights', async () => {
    const dir = copyFixture('gpt2-tiny', 'no-config', undefined, ['config.json', 'model.safetensors'])
    const info = await inspectModelFolder(dir)
    expect(info.problems).toContain('config.json is missing')
    expect(info.problems.some((p) => /no weights/.test(p))).toBe(true)
  })

  it('reports PyTorch-only weights', async () => {
    const dir = copyFixture('gpt2-tiny', 'bin-only', undefined, ['model.safetensors'])
    fs.writeFileSync(path.join(dir, 'pytorch_model.bin'), 'x')
    const info = await inspectModelFolder(dir)
    expect(info.problems.join('\n')).toMatch(/PyTorch \.bin.*convert them to safetensors/)
  })

  it('reports an unsupported architecture with the field name', async () => {
    const dir = copyFixture('llama-tiny-gqa', 'yarn', (c) => (c.rope_scaling = { rope_type: 'yarn', factor: 4 }))
    const info = await inspectModelFolder(dir)
    expect(info.ok).toBe(false)
    expect(info.problems.join('\n')).toMatch(/config.json: rope_scaling.rope_type "yarn" is not supported/)
    expect(info.modelType).toBe('llama')
    const dir2 = copyFixture('llama-tiny-gqa', 'phi', (c) => {
      c.model_type = 'phi3'
      c.architectures = ['Phi3ForCausalLM']
    })
    const info2 = await inspectModelFolder(dir2)
    expect(info2.problems.join('\n')).toMatch(/model_type "phi3" is not supported/)
    expect(info2.architecture).toBe('Phi3ForCausalLM')
  })

  it('reports weights that do not match the config', async () => {
    // tie_word_embeddings true but the file has an lm_head: fine (unused, a warning)
    const tied = await inspectModelFolder(copyFixture('llama-tiny-gqa', 'tied-extra', (c) => (c.tie_word_embeddings = true)))
    expect(tied.problems).toEqual([])
    expect(tied.warnings.join('\n')).toMatch(/lm_head.weight/)
    // untied but no lm_head: missing tensor named
    const untied = await inspectModelFolder(copyFixture('llama-tiny-bf16', 'untied-missing', (c) => (c.tie_word_embeddings = false)))
    expect(untied.problems.join('\n')).toMatch(/missing 1 tensor\(s\): lm_head.weight.*tie_word_embeddings is false/)
    // wrong sizes
    const wrong = await inspectModelFolder(copyFixture('gpt2-tiny', 'wrong-shape', (c) => (c.n_inner = 128)))
    expect(wrong.problems.join('\n')).toMatch(/mlp.c_fc.weight is \[64,256\], expected \[64,128\]/)
  })

  it('loadModel fails with the same messages', async () => {
    await expect(loadModel(path.join(tmp, 'untied-missing'))).rejects.toThrow(/lm_head.weight/)
    await expect(loadModel(path.join(tmp, 'yarn'))).rejects.toThrow(/rope_scaling.rope_type "yarn"/)
    await expect(loadModel(path.join(tmp, 'nowhere'))).rejects.toThrow(/config.json: not found/)
  })

  it('reports an unsupported weight dtype', async () => {
    const dir = path.join(tmp, 'int-weights')
    fs.mkdirSync(dir)
    const cfg = { model_type: 'gpt2', n_embd: 8, n_layer: 1, n_head: 2, vocab_size: 4, n_positions: 4 }
    fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(cfg))
    fs.writeFileSync(path.join(dir, 'tokenizer.json'), '{}')
    const c = parseConfig(cfg)
    await writeSafetensors(
      path.join(dir, 'model.safetensors'),
      paramSpecs(c).map((s) => ({ name: s.name, shape: s.transposed ? [s.shape[1], s.shape[0]] : s.shape, data: () => new Float32Array(s.shape.reduce((a, b) => a * b, 1)) })),
    )
    // patch the first tensor's dtype to I32 (same width, so the header stays consistent)
    const bytes = fs.readFileSync(path.join(dir, 'model.safetensors'))
    const n = Number(bytes.readBigUInt64LE(0))
    const header = bytes.subarray(8, 8 + n).toString('utf8').replace('"F32"', '"I32"')
    bytes.write(header, 8, 'utf8')
    fs.writeFileSync(path.join(dir, 'model.safetensors'), bytes)
    const info = await inspectModelFolder(dir)
    expect(info.problems.join('\n')).toMatch(/unsupported weight dtype I32/)
  })

  it('flags models too large for WASM memory', async () => {
    const dir = path.join(tmp, 'huge')
    fs.mkdirSync(dir)
    fs.writeFileSync(
      path.join(dir, 'config.json'),
      JSON.stringify({ model_type: 'llama', hidden_size: 4096, intermediate_size: 11008, num_hidden_layers: 32, num_attention_heads: 32, vocab_size: 32000 }),
    )
    const info = await inspectModelFolder(dir)
    expect(info.paramCount).toBeGreaterThan(6e9)
    expect(info.problems.join('\n')).toMatch(/more than the WASM backend can hold/)
  })

  it('reports a path that is not a folder', async () => {
    const info = await inspectModelFolder(path.join(tmp, 'does-not-exist'))
    expect(info.ok).toBe(false)
    expect(info.problems[0]).toMatch(/is not a folder/)
  })
})
