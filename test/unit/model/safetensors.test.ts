import * as tf from '@tensorflow/tfjs'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { initBackend } from '../../../src-main/model/backend'
import type { CausalLM } from '../../../src-main/model/base'
import { parseConfig } from '../../../src-main/model/config'
import { loadModel, randomModel, saveModel } from '../../../src-main/model/model'
import {
  SafetensorsReader,
  bf16ToF32,
  f16ToF32,
  f32ToBf16,
  readSafetensorsHeader,
  writeCheckpointFolder,
  writeModelSafetensors,
  writeSafetensors,
} from '../../../src-main/model/safetensors'

const FIX = path.resolve(__dirname, '../../fixtures/parity')
let tmp: string

beforeAll(async () => {
  await initBackend()
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'figa-st-'))
})
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }))

const tinyLlama = () =>
  parseConfig({
    model_type: 'qwen2',
    hidden_size: 32,
    intermediate_size: 48,
    num_hidden_layers: 2,
    num_attention_heads: 4,
    num_key_value_heads: 2,
    vocab_size: 64,
    max_position_embeddings: 64,
    tie_word_embeddings: false,
    eos_token_id: 3,
  })

const tinyGpt2 = () => parseConfig({ model_type: 'gpt2', n_embd: 32, n_layer: 2, n_head: 4, vocab_size: 64, n_positions: 32 })

async function paramsOf(m: CausalLM): Promise<Map<string, Float32Array>> {
  const out = new Map<string, Float32Array>()
  for (const [k, v] of m.params) out.set(k, Float32Array.from((await v.data()) as Float32Array))
  return out
}

describe('number formats', () => {
  it('decodes F16, including subnormals, infinities and NaN', () => {
    const h = new Uint16Array([0x3c00, 0xc000, 0x7bff, 0x0001, 0x8400, 0x7c00, 0xfc00, 0x7e00, 0x0000, 0x3555])
    const f = f16ToF32(h)
    expect(Array.from(f.subarray(0, 7))).toEqual([1, -2, 65504, 2 ** -24, -(2 ** -14), Infinity, -Infinity])
    expect(Number.isNaN(f[7])).toBe(true)
    expect(f[8]).toBe(0)
    expect(f[9]).toBeCloseTo(0.33325195, 7)
  })

  it('rounds float32 to BF16 to nearest even and decodes it back', () => {
    const x = new Float32Array([1, -2.5, 1 + 2 ** -8, 1 + 3 * 2 ** -8, 1 + 2 ** -9, NaN, Infinity])
    const b = f32ToBf16(x)
    expect(b[0]).toBe(0x3f80)
    const back = bf16ToF32(b)
    expect(back[0]).toBe(1)
    expect(back[1]).toBe(-2.5)
    expect(back[2]).toBe(1) // halfway, rounds to even (down)
    expect(back[3]).toBe(1 + 4 * 2 ** -8) // halfway, rounds to even (up)
    expect(back[4]).toBe(1)
    expect(Number.isNaN(back[5])).toBe(true)
    expect(back[6]).toBe(Infinity)
  })
})

describe('reading', () => {
  it('reads the sharded fixture with the same tensors as the single file', async () => {
    const a = await SafetensorsReader.open(path.join(FIX, 'llama-tiny-gqa'))
    const b = await SafetensorsReader.open(path.join(FIX, 'llama-tiny-sharded'))
    try {
      expect(b.files.length).toBe(2)
      expect(b.names().sort()).toEqual(a.names().sort())
      for (const n of a.names()) {
        const x = await a.read(n)
        const y = await b.read(n)
        expect(y.shape).toEqual(x.shape)
        expect(Buffer.from(y.data.buffer).equals(Buffer.from(x.data.buffer))).toBe(true)
      }
    } finally {
      await a.close()
      await b.close()
    }
  })

  it('reads BF16 and F16 files as float32', async () => {
    for (const [name, dtype] of [
      ['llama-tiny-bf16', 'BF16'],
      ['qwen2-tiny', 'F16'],
    ]) {
      const r = await SafetensorsReader.open(path.join(FIX, name, 'model.safetensors'))
      try {
        const t = r.info('model.norm.weight')
        expect(t.dtype).toBe(dtype)
        const { data } = await r.read('model.norm.weight')
        expect(data.length).toBe(64)
        // norm weights are 1 + 0.1·N(0,1)
        for (const v of data) expect(Math.abs(v - 1)).toBeLessThan(0.6)
      } finally {
        await r.close()
      }
    }
  })

  it('reports truncated and malformed files clearly', async () => {
    const src = path.join(FIX, 'gpt2-tiny', 'model.safetensors')
    const bytes = fs.readFileSync(src)
    const cut = path.join(tmp, 'cut.safetensors')
    fs.writeFileSync(cut, bytes.subarray(0, bytes.length - 100))
    await expect(readSafetensorsHeader(cut)).rejects.toThrow(/outside the file|truncated/)
    const bad = path.join(tmp, 'bad.safetensors')
    const b = Buffer.alloc(16)
    b.writeBigUInt64LE(1000000n, 0)
    fs.writeFileSync(bad, b)
    await expect(readSafetensorsHeader(bad)).rejects.toThrow(/invalid header length/)
    const notJson = path.join(tmp, 'nj.safetensors')
    const c = Buffer.alloc(16, 0x41)
    c.writeBigUInt64LE(8n, 0)
    fs.writeFileSync(notJson, c)
    await expect(readSafetensorsHeader(notJson)).rejects.toThrow(/not valid JSON/)
  })

  it('names a missing shard', async () => {
    const dir = path.join(tmp, 'missing-shard')
    fs.mkdirSync(dir)
    for (const f of ['config.json', 'model.safetensors.index.json', 'model-00001-of-00002.safetensors']) {
      fs.copyFileSync(path.join(FIX, 'llama-tiny-sharded', f), path.join(dir, f))
    }
    await expect(SafetensorsReader.open(dir)).rejects.toThrow(/model-00002-of-00002.safetensors, which is missing/)
  })
})

describe('writing', () => {
  it('writes a file that the reader and the HF layout rules accept', async () => {
    const file = path.join(tmp, 'w.safetensors')
    const a = new Float32Array([1, 2, 3, 4, 5, 6])
    const b = new Float32Array([0.5])
    await writeSafetensors(file, [
      { name: 'z.weight', shape: [2, 3], data: () => a },
      { name: 'a.bias', shape: [1], data: async () => b },
    ])
    const bytes = fs.readFileSync(file)
    const n = Number(bytes.readBigUInt64LE(0))
    expect(n % 8).toBe(0)
    const header = JSON.parse(bytes.subarray(8, 8 + n).toString('utf8'))
    expect(header.__metadata__).toEqual({ format: 'pt' })
    // name order, contiguous
    expect(header['a.bias'].data_offsets).toEqual([0, 4])
    expect(header['z.weight'].data_offsets).toEqual([4, 28])
    expect(bytes.length).toBe(8 + n + 28)
    const r = await SafetensorsReader.open(file)
    expect(Array.from((await r.read('z.weight')).data)).toEqual([1, 2, 3, 4, 5, 6])
    await r.close()
  })

  it('shards by size and writes the index', async () => {
    const dir = path.join(tmp, 'sharded')
    fs.mkdirSync(dir)
    const tensors = ['a', 'b', 'c', 'd'].map((name, i) => ({ name, shape: [10], data: () => new Float32Array(10).fill(i) }))
    const files = await writeModelSafetensors(dir, tensors, { maxShardBytes: 80 })
    expect(files).toEqual(['model-00001-of-00002.safetensors', 'model-00002-of-00002.safetensors', 'model.safetensors.index.json'])
    const idxText = fs.readFileSync(path.join(dir, 'model.safetensors.index.json'), 'utf8')
    const idx = JSON.parse(idxText)
    expect(idx.metadata.total_size).toBe(160)
    expect(idx.weight_map).toEqual({ a: files[0], b: files[0], c: files[1], d: files[1] })
    expect(idxText).toBe(JSON.stringify(idx, null, 2) + '\n')
    const r = await SafetensorsReader.open(dir)
    expect(Array.from((await r.read('d')).data)).toEqual(new Array(10).fill(3))
    await r.close()
  })
})

describe('model weights round trip', () => {
  for (const [label, cfg] of [
    ['llama family (qwen2 biases, GQA, untied)', tinyLlama],
    ['gpt2 (tied)', tinyGpt2],
  ] as const) {
    it(`F32: save then load gives identical tensors — ${label}`, async () => {
      const m = randomModel(cfg(), 7)
      const dir = path.join(tmp, `rt-f32-${m.config.modelType}`)
      await saveModel(m, dir)
      const m2 = await loadModel(dir)
      try {
        const a = await paramsOf(m)
        const b = await paramsOf(m2)
        expect([...b.keys()]).toEqual([...a.keys()])
        for (const [k, v] of a) expect(Buffer.from(b.get(k)!.buffer).equals(Buffer.from(v.buffer)), k).toBe(true)
        const cfgJson = JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8'))
        expect(cfgJson.torch_dtype).toBe('float32')
        // same logits
        const ids = [[1, 2, 3, 4, 5]]
        const d = tf.tidy(() => tf.max(tf.abs(tf.sub(m.forward(ids), m2.forward(ids)))).dataSync()[0])
        expect(d).toBe(0)
      } finally {
        m.dispose()
        m2.dispose()
      }
    })
  }

  it('BF16: save then load gives the BF16-rounded tensors, and saving again is byte-identical', async () => {
    const m = randomModel(tinyLlama(), 11)
    const dir = path.join(tmp, 'rt-bf16')
    const dir2 = path.join(tmp, 'rt-bf16-again')
    await saveModel(m, dir, { dtype: 'BF16' })
    const m2 = await loadModel(dir)
    try {
      const a = await paramsOf(m)
      const b = await paramsOf(m2)
      for (const [k, v] of a) {
        const want = bf16ToF32(f32ToBf16(v))
        expect(Buffer.from(b.get(k)!.buffer).equals(Buffer.from(want.buffer)), k).toBe(true)
      }
      const hdr = await readSafetensorsHeader(path.join(dir, 'model.safetensors'))
      expect(new Set(hdr.tensors.map((t) => t.dtype))).toEqual(new Set(['BF16']))
      expect(JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8')).torch_dtype).toBe('bfloat16')
      await saveModel(m2, dir2, { dtype: 'BF16' })
      expect(fs.readFileSync(path.join(dir2, 'model.safetensors')).equals(fs.readFileSync(path.join(dir, 'model.safetensors')))).toBe(true)
    } finally {
      m.dispose()
      m2.dispose()
    }
  })

  it('sharded save loads back identically', async () => {
    const m = randomModel(tinyGpt2(), 3)
    const dir = path.join(tmp, 'rt-sharded')
    await saveModel(m, dir, { maxShardBytes: 20_000 })
    const files = fs.readdirSync(dir)
    expect(files.filter((f) => /^model-\d{5}-of-\d{5}\.safetensors$/.test(f)).length).toBeGreaterThan(2)
    expect(files).toContain('model.safetensors.index.json')
    const m2 = await loadModel(dir)
    try {
      const a = await paramsOf(m)
      const b = await paramsOf(m2)
      for (const [k, v] of a) expect(Buffer.from(b.get(k)!.buffer).equals(Buffer.from(v.buffer)), k).toBe(true)
    } finally {
      m.dispose()
      m2.dispose()
    }
  })

  it('skips GPT-2 attn.bias / attn.masked_bias buffers and accepts keys without transformer.', async () => {
    const m = randomModel(tinyGpt2(), 5)
    const dir = path.join(tmp, 'gpt2-buffers')
    const P = 32
    const tri = new Float32Array(P * P)
    for (let i = 0; i < P; i++) for (let j = 0; j <= i; j++) tri[i * P + j] = 1
    const tensors = m.exportTensors().map((t) => ({ ...t, name: t.name.replace(/^transformer\./, '') }))
    for (let i = 0; i < 2; i++) {
      tensors.push({ name: `h.${i}.attn.bias`, shape: [1, 1, P, P], data: () => tri })
      tensors.push({ name: `h.${i}.attn.masked_bias`, shape: [], data: () => new Float32Array([-1e4]) })
    }
    await writeCheckpointFolder(dir, { config: m.rawConfig, tensors })
    const m2 = await loadModel(dir)
    try {
      const ids = [[3, 1, 4, 1, 5, 9, 2, 6]]
      const d = tf.tidy(() => tf.max(tf.abs(tf.sub(m.forward(ids), m2.forward(ids)))).dataSync()[0])
      expect(d).toBe(0)
    } finally {
      m.dispose()
      m2.dispose()
    }
  })
})

describe('checkpoint folder', () => {
  it('replaces an existing folder atomically, copies tokenizer files and leaves no temp folders', async () => {
    const src = path.join(tmp, 'tok-src')
    fs.mkdirSync(src)
    fs.writeFileSync(path.join(src, 'tokenizer.json'), '{"model":{}}')
    fs.writeFileSync(path.join(src, 'tokenizer_config.json'), '{"eos_token":"</s>"}')
    fs.writeFileSync(path.join(src, 'unrelated.txt'), 'x')
    const dir = path.join(tmp, 'ckpt')
    fs.mkdirSync(dir)
    fs.writeFileSync(path.join(dir, 'stale.bin'), 'old')
    const m = randomModel(tinyLlama(), 1)
    try {
      await saveModel(m, dir, { tokenizerFrom: src })
    } finally {
      m.dispose()
    }
    expect(fs.readdirSync(dir).sort()).toEqual(['config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json'])
    expect(fs.readdirSync(tmp).filter((f) => f.startsWith('.ckpt'))).toEqual([])
    const cfg = JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8'))
    expect(Object.keys(cfg)).toEqual(Object.keys(cfg).sort())
    expect(cfg.model_type).toBe('qwen2')
  })

  it('keeps the old folder when writing fails', async () => {
    const dir = path.join(tmp, 'ckpt-fail')
    fs.mkdirSync(dir)
    fs.writeFileSync(path.join(dir, 'config.json'), '{"old":true}')
    await expect(
      writeCheckpointFolder(dir, {
        config: { new: true },
        tensors: [{ name: 'x', shape: [2], data: () => Promise.reject(new Error('disk full')) }],
      }),
    ).rejects.toThrow('disk full')
    expect(fs.readFileSync(path.join(dir, 'config.json'), 'utf8')).toBe('{"old":true}')
    expect(fs.readdirSync(tmp).filter((f) => f.startsWith('.ckpt-fail'))).toEqual([])
  })
})
