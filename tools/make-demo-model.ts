// Writes resources/demo-model: a tiny Llama-shaped model (random weights, seeded) with a
// byte-level BPE tokenizer (the 256 bytes, no merges, <|endoftext|> as EOS), in Hugging Face
// layout. It lets the app's model features run on a fresh install with nothing downloaded; its
// answers are noise until it is trained.
//
//   npx tsx tools/make-demo-model.ts [OUT_DIR]
import { writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { initBackend, parseConfig, randomModel, saveModel } from '../src-main/model'

const out = resolve(process.argv[2] ?? 'resources/demo-model')
const EOS = '<|endoftext|>'
const EOS_ID = 256

/** GPT-2's reversible byte → printable-character map, which byte-level BPE vocabularies use. */
function bytesToUnicode(): string[] {
  const printable = [...range(33, 126), ...range(161, 172), ...range(174, 255)]
  const map: string[] = []
  let extra = 0
  for (let b = 0; b < 256; b++) map[b] = String.fromCodePoint(printable.includes(b) ? b : 256 + extra++)
  return map
}

function range(a: number, b: number): number[] {
  return Array.from({ length: b - a + 1 }, (_, i) => a + i)
}

const vocab = Object.fromEntries(bytesToUnicode().map((ch, id) => [ch, id]))
const tokenizer = {
  version: '1.0',
  truncation: null,
  padding: null,
  added_tokens: [{ id: EOS_ID, content: EOS, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true }],
  normalizer: null,
  pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
  post_processor: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: false, use_regex: true },
  decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
  model: { type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: '', end_of_word_suffix: '', fuse_unk: false, byte_fallback: false, ignore_merges: false, vocab, merges: [] },
}
const tokenizerConfig = {
  tokenizer_class: 'PreTrainedTokenizerFast',
  bos_token: EOS,
  eos_token: EOS,
  unk_token: EOS,
  model_max_length: 512,
  add_bos_token: false,
  chat_template: "{% for m in messages %}{{ '<|' + m['role'] + '|>\\n' + m['content'] + eos_token + '\\n' }}{% endfor %}{% if add_generation_prompt %}{{ '<|assistant|>\\n' }}{% endif %}",
}
const config = parseConfig({
  model_type: 'llama',
  architectures: ['LlamaForCausalLM'],
  vocab_size: 257,
  hidden_size: 64,
  intermediate_size: 176,
  num_hidden_layers: 2,
  num_attention_heads: 4,
  num_key_value_heads: 2,
  head_dim: 16,
  max_position_embeddings: 512,
  rms_norm_eps: 1e-6,
  rope_theta: 10000,
  rope_scaling: null,
  hidden_act: 'silu',
  attention_bias: false,
  mlp_bias: false,
  tie_word_embeddings: true,
  bos_token_id: EOS_ID,
  eos_token_id: EOS_ID,
  torch_dtype: 'float32',
})

await initBackend('cpu')
const staging = mkdtempSync(join(tmpdir(), 'figa-demo-tok-'))
writeFileSync(join(staging, 'tokenizer.json'), JSON.stringify(tokenizer))
writeFileSync(join(staging, 'tokenizer_config.json'), JSON.stringify(tokenizerConfig, null, 2) + '\n')
const model = randomModel(config, 20241126)
await saveModel(model, out, { tokenizerFrom: staging })
model.dispose()
rmSync(staging, { recursive: true, force: true })
console.log(`wrote ${out} (${model.paramCount.toLocaleString()} parameters)`)
process.exit(0)
