// Writes resources/demo-model: a small Llama-shaped model with a byte-level BPE tokenizer, in
// Hugging Face layout, so that every model feature runs on a fresh install with nothing downloaded.
//
// The tokenizer: GPT-2's scheme (the 256 bytes, then merges; <|endoftext|> as EOS) with merges
// learned on the demo world's training text by Hugging Face `tokenizers` (a dev dependency). Its
// words are mostly single tokens, so FIGA's edit operations work on words ("Toronto" → "Ottawa"
// is one substitution), as they do with a real model's tokenizer; any text still encodes (bytes).
//
// It plays the model that wrote the demo world's ORIGINAL responses (src-main/demo/world.ts):
// seeded random weights, then SFT on the training split's original responses (with this app's
// own trainer), so that it makes each behaviour's typical mistake. FIGA training on the demo
// dataset then teaches it the revisions, which Chat and `figa eval --demo` show.
//
//   npx tsx tools/make-demo-model.ts [OUT_DIR] [--steps N]      (≈ 7 min on 2 cores)
import { readFileSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { cpSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { alpacaPrompt, initBackend, parseConfig, randomModel, saveModel } from '../src-main/model'
import { Trainer } from '../src-main/train'
import { generateWorld } from '../src-main/demo/world'
import { byteLevelChars } from '../src-main/signals/token-texts'
import { studyExamples } from '../src-main/demo/study'

const args = process.argv.slice(2)
const stepsAt = args.indexOf('--steps')
const steps = stepsAt >= 0 ? Number(args[stepsAt + 1]) : 1000
const out = resolve(args.find((a, i) => !a.startsWith('--') && args[i - 1] !== '--steps') ?? 'resources/demo-model')
const EOS = '<|endoftext|>'
const train = generateWorld().filter((p) => p.split === 'train')

/** BPE merges learned on the training split's text, as training sees it (Alpaca prompt + responses). */
async function learnMerges(staging: string): Promise<string[]> {
  const { Tokenizer, BPE, byteLevelPreTokenizer } = await import('tokenizers')
  const corpus = join(staging, 'corpus.txt')
  writeFileSync(corpus, train.map((p) => `${alpacaPrompt({ instruction: p.instruction, input: p.input })} ${p.original_output}\n${p.revised_output}`).join('\n'))
  const learner = new Tokenizer(BPE.empty())
  learner.setPreTokenizer(byteLevelPreTokenizer(false, true))
  learner.train([corpus])
  learner.save(join(staging, 'learned.json'))
  const merges = (JSON.parse(readFileSync(join(staging, 'learned.json'), 'utf8')) as { model: { merges: Array<string | [string, string]> } }).model.merges
  return merges.map((m) => (typeof m === 'string' ? m : m.join(' ')))
}

const staging = mkdtempSync(join(tmpdir(), 'figa-demo-'))
const merges = await learnMerges(staging)
const vocab: Record<string, number> = Object.fromEntries(byteLevelChars().map((ch, id) => [ch, id]))
for (const merge of merges) vocab[merge.replace(' ', '')] ??= Object.keys(vocab).length
const EOS_ID = Object.keys(vocab).length
const tokenizer = {
  version: '1.0',
  truncation: null,
  padding: null,
  added_tokens: [{ id: EOS_ID, content: EOS, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true }],
  normalizer: null,
  pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
  post_processor: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: false, use_regex: true },
  decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
  model: { type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: '', end_of_word_suffix: '', fuse_unk: false, byte_fallback: false, ignore_merges: false, vocab, merges },
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
  vocab_size: EOS_ID + 1,
  hidden_size: 192,
  intermediate_size: 512,
  num_hidden_layers: 4,
  num_attention_heads: 6,
  num_key_value_heads: 3,
  head_dim: 32,
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

await initBackend('wasm')
const initial = join(staging, 'initial')
writeFileSync(join(staging, 'tokenizer.json'), JSON.stringify(tokenizer))
writeFileSync(join(staging, 'tokenizer_config.json'), JSON.stringify(tokenizerConfig, null, 2) + '\n')
const model = randomModel(config, 20241126)
await saveModel(model, initial, { tokenizerFrom: staging })
model.dispose()

// SFT on the original responses of the training split: the demo model is the one that wrote them.
// (The held-out split stays unseen, so that the demo study asks it new prompts.)
const examples = studyExamples(train).map((e) => ({ ...e, revised: e.original!, original: null }))
const trainer = await Trainer.start({
  modelDir: initial,
  examples,
  outDir: join(staging, 'run'),
  settings: {
    method: 'sft', lr: 2e-3, schedule: 'cosine', warmupSteps: 50, weightDecay: 0.01, microBatch: 8, accumulation: 1, maxSteps: steps,
    maxLength: 512, heldOut: 0, evalEvery: 0, checkpointEvery: 0, tau: null, seed: 7,
  },
})
const result = await trainer.run({
  onStep: (m) => m.step % 50 === 0 && console.log(`step ${m.step}/${m.totalSteps} loss ${m.loss.toFixed(3)} (${m.tokensPerSec.toFixed(0)} tokens/s)`),
})
trainer.dispose()
rmSync(out, { recursive: true, force: true })
cpSync(result.finalDir, out, { recursive: true })
rmSync(staging, { recursive: true, force: true })
console.log(`wrote ${out}: ${config.vocabSize}-token byte-level-BPE Llama (${model.paramCount} parameters), SFT for ${result.steps} steps on the ${train.length} original responses of the demo world's training split`)
process.exit(0)
