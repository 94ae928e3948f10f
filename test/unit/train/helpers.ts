// Shared fixtures for the training tests: tiny random models with a byte-level BPE tokenizer
// without merges (vocab 257: the 256 bytes and EOS), and synthetic (prompt, y, ŷ) examples.

import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { parseConfig } from '../../../src-main/model/config'
import { randomModel, saveModel } from '../../../src-main/model/model'
import { SafetensorsReader } from '../../../src-main/model/safetensors'
import { alpacaPrompt } from '../../../src-main/model/prompt'
import type { TrainExample } from '../../../src-main/train/data'

export const ROOT = path.resolve(__dirname, '../../..')
/** The 256 bytes + <|endoftext|> in Hugging Face tokenizer.json form (the first demo model's). */
export const BYTE_TOKENIZER_DIR = path.join(ROOT, 'test/fixtures/byte-tokenizer')

export function tinyConfig(family: 'llama' | 'gpt2', tied = true, vocab = 257): Record<string, unknown> {
  if (family === 'gpt2') {
    return {
      architectures: ['GPT2LMHeadModel'],
      model_type: 'gpt2',
      n_embd: 32,
      n_layer: 2,
      n_head: 4,
      n_positions: 256,
      n_inner: null,
      vocab_size: vocab,
      layer_norm_epsilon: 1e-5,
      activation_function: 'gelu_new',
      tie_word_embeddings: tied,
      bos_token_id: 256,
      eos_token_id: 256,
    }
  }
  return {
    architectures: ['LlamaForCausalLM'],
    model_type: 'llama',
    hidden_size: 32,
    intermediate_size: 64,
    num_hidden_layers: 2,
    num_attention_heads: 4,
    num_key_value_heads: 2,
    head_dim: 8,
    vocab_size: vocab,
    max_position_embeddings: 256,
    rms_norm_eps: 1e-6,
    rope_theta: 10000,
    hidden_act: 'silu',
    tie_word_embeddings: tied,
    bos_token_id: 256,
    eos_token_id: 256,
  }
}

export function tempDir(tag: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `figa-train-${tag}-`))
}

/** Folders a test file makes: `out(tag)` a fresh temp folder, `keep(dir)` one made elsewhere; `removeAll()` in afterAll. */
export function testFolders() {
  const dirs: string[] = []
  return {
    keep(dir: string): string {
      dirs.push(dir)
      return dir
    },
    out(tag: string): string {
      return this.keep(tempDir(tag))
    },
    removeAll(): void {
      for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true })
    },
  }
}

/** A random tiny model saved with the byte-level tokenizer; returns its folder. */
export async function tinyModelDir(family: 'llama' | 'gpt2', seed = 1, tied = true, scale = 1): Promise<string> {
  const raw = tinyConfig(family, tied)
  const m = randomModel(parseConfig(raw), seed, raw)
  if (scale !== 1) for (const v of m.params.values()) if (v.shape.length === 2) v.assign(v.mul(scale))
  const dir = path.join(tempDir(`model-${family}`), 'model')
  await saveModel(m, dir, { tokenizerFrom: BYTE_TOKENIZER_DIR })
  m.dispose()
  return dir
}

const WORDS = 'the a cat dog sat ran on under mat rug quickly slowly big small red blue and then it was very'.split(' ')

/** Deterministic synthetic pairs: ŷ is y with a few words replaced, inserted or deleted. */
export function syntheticExamples(n: number, seed = 7, opts: { sft?: number } = {}): TrainExample[] {
  let s = seed >>> 0
  const r = () => {
    s = (s + 0x6d2b79f5) >>> 0
    let t = s
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
  const pick = () => WORDS[Math.floor(r() * WORDS.length)]
  const out: TrainExample[] = []
  for (let i = 0; i < n; i++) {
    const len = 4 + Math.floor(r() * 8)
    const y = Array.from({ length: len }, pick)
    const yh: string[] = []
    for (const w of y) {
      const u = r()
      if (u < 0.1) continue
      if (u < 0.2) yh.push(pick())
      else if (u < 0.3) yh.push(w, pick())
      else yh.push(w)
    }
    if (yh.join(' ') === y.join(' ')) yh.push(pick())
    const instruction = `Say something about item ${i} ${pick()}`
    const prompt = alpacaPrompt({ instruction, input: r() < 0.3 ? pick() : null })
    const sft = i < (opts.sft ?? 0)
    out.push({ id: 100 + i * 3, prompt: prompt.slice(prompt.length - 40 - Math.floor(r() * 20)), original: sft ? null : y.join(' '), revised: yh.join(' ') })
  }
  return out
}

/** A word-level tokenizer (id = stable hash of the word in 0..255, 256 = EOS) for tests that need one token per word. */
export function wordTokenizer(): import('../../../src-main/signals/tokenizer').TokenizerAdapter {
  const EOS = '<eos>'
  const id = (w: string) => {
    let h = 2166136261
    for (const c of w) h = Math.imul(h ^ c.charCodeAt(0), 16777619) >>> 0
    return h % 256
  }
  return {
    name: 'words',
    vocabSize: 257,
    eosId: 256,
    bosId: null,
    eosToken: EOS,
    chatTemplate: null,
    encode: (text: string) =>
      text
        .split(EOS)
        .flatMap((part, i) => [...(i > 0 ? [256] : []), ...part.split(/\s+/).filter(Boolean).map(id)]),
    decode: (ids: number[]) => ids.map((i) => (i === 256 ? EOS : `w${i}`)).join(' '),
    tokenTexts: (ids: number[]) => ids.map((i) => (i === 256 ? EOS : `w${i}`)),
    idToToken: (i: number) => (i === 256 ? EOS : `w${i}`),
  }
}

/** The tensors of a model folder's model.safetensors, by name. */
export async function weightsOf(dir: string): Promise<Map<string, Float32Array>> {
  const r = await SafetensorsReader.open(dir)
  const out = new Map<string, Float32Array>()
  for (const n of r.names()) out.set(n, (await r.read(n)).data)
  await r.close()
  return out
}

/** Largest absolute difference between two sets of the same tensors (throws when the names differ). */
export function maxWeightDiff(a: Map<string, Float32Array>, b: Map<string, Float32Array>): number {
  const names = (m: Map<string, Float32Array>) => [...m.keys()].sort().join(',')
  if (names(a) !== names(b)) throw new Error(`different tensors: ${names(a)} vs ${names(b)}`)
  let d = 0
  for (const [k, x] of a) {
    const y = b.get(k)!
    for (let i = 0; i < x.length; i++) d = Math.max(d, Math.abs(x[i] - y[i]))
  }
  return d
}
