// The benchmarks' workload, shared by bench/train.ts, bench/profile-train.ts and bench/generate.ts:
// a stories15M-shaped Llama (random weights), SPA-like synthetic pairs of token ids, and a
// tokenizer that reads the ids back from text.

export const CONFIG = {
  architectures: ['LlamaForCausalLM'],
  model_type: 'llama',
  hidden_size: 288,
  intermediate_size: 768,
  num_hidden_layers: 6,
  num_attention_heads: 6,
  num_key_value_heads: 6,
  vocab_size: 32000,
  max_position_embeddings: 1024,
  rms_norm_eps: 1e-5,
  rope_theta: 10000,
  hidden_act: 'silu',
  tie_word_embeddings: true,
  bos_token_id: 1,
  eos_token_id: 2,
}
export const EOS = 2

export interface Pair {
  prompt: number[]
  original: number[]
  revised: number[]
}

function lcg(seed: number): () => number {
  let s = seed >>> 0
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0
    return s / 4294967296
  }
}

export function makePairs(n: number, promptLen: number, respLen: number, edit: number, seed: number): Pair[] {
  const r = lcg(seed)
  const tok = () => 3 + Math.floor(r() * (CONFIG.vocab_size - 3))
  const around = (x: number) => Math.max(4, Math.round(x * (0.8 + 0.4 * r())))
  const pairs: Pair[] = []
  for (let i = 0; i < n; i++) {
    const prompt = [1, ...Array.from({ length: around(promptLen) - 1 }, tok)]
    const original = Array.from({ length: around(respLen) }, tok)
    const revised: number[] = []
    const spanMean = 4
    // span starts calibrated so that (ŷ tokens added/substituted + y tokens deleted/substituted) / (|y| + |ŷ|) ≈ edit
    const pStart = (1.4 * edit) / spanMean
    for (let j = 0; j < original.length; ) {
      if (r() < pStart) {
        const len = 1 + Math.floor(r() * (2 * spanMean - 1))
        const u = r()
        if (u < 0.6) for (let k = 0; k < len && j < original.length; k++, j++) revised.push(tok())
        else if (u < 0.8) for (let k = 0; k < len; k++) revised.push(tok())
        else j += len
      } else revised.push(original[j++])
    }
    pairs.push({ prompt, original, revised })
  }
  return pairs
}

/** Examples as text for an id tokenizer ("12 345 …", EOS "<eos>"), and that tokenizer. */
export function idTokenizer() {
  return {
    name: 'ids',
    vocabSize: CONFIG.vocab_size,
    eosId: EOS,
    bosId: 1,
    eosToken: '<eos>',
    chatTemplate: null,
    encode: (text: string) =>
      text
        .split('<eos>')
        .flatMap((part, i) => [...(i > 0 ? [EOS] : []), ...part.split(' ').filter(Boolean).map(Number)]),
    decode: (ids: number[]) => ids.join(' '),
    tokenTexts: (ids: number[]) => ids.map(String),
    idToToken: (id: number) => String(id),
  }
}
