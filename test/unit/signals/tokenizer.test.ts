import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { byteTokenizer, BYTE_EOS_ID, loadTokenizer, TokenizerLoadError, type TokenizerAdapter } from '../../../src-main/signals/tokenizer'

const FIXTURES = fileURLToPath(new URL('../../fixtures/tokenizers/', import.meta.url))
// The tokenizer files ship with the app as its built-in tokenizers (resources/tokenizers).
const BUILTIN = fileURLToPath(new URL('../../../resources/tokenizers/', import.meta.url))
const GPT2 = join(BUILTIN, 'gpt2')
const MISTRAL = join(BUILTIN, 'mistral-7b')
const expected = JSON.parse(readFileSync(join(FIXTURES, 'expected-ids.json'), 'utf8')) as {
  cases: { text: string; gpt2: number[]; mistral: number[] }[]
}

const SAMPLES = [
  'Hello world',
  'héllo 😀 🦙 世界\n\n  x',
  ' leading space',
  'trailing   ',
  'a</s>b<|endoftext|>c<eos>',
  '\uFEFFbom first',
  '👩‍💻 Ꙋ🦙 mixed 𝔘𝔫𝔦𝔠𝔬𝔡𝔢',
  'def f(x):\n\treturn x  # done\n',
  'Ελληνικά · русский · עברית · 한국어',
  ...expected.cases.map((c) => c.text),
]

function checkTokenTexts(t: TokenizerAdapter): void {
  for (const text of SAMPLES) {
    let ids = t.encode(text)
    if (t.eosId !== null) ids = [...ids, t.eosId]
    for (const skipSpecialTokens of [false, true]) {
      const parts = t.tokenTexts(ids, { skipSpecialTokens })
      expect(parts.length).toBe(ids.length)
      expect(parts.join('')).toBe(t.decode(ids, { skipSpecialTokens }))
    }
    const hex = t.tokenTexts(ids, { partial: 'hex' })
    expect(hex.length).toBe(ids.length)
    expect(hex.every((s) => !s.includes('\uFFFD'))).toBe(true)
  }
}

describe('GPT-2 byte-level BPE (resources/tokenizers/gpt2)', () => {
  let t: TokenizerAdapter
  beforeAll(async () => {
    t = await loadTokenizer(GPT2)
  })

  it('reads the vocabulary and special tokens', () => {
    expect(t.name).toBe('gpt2')
    expect(t.vocabSize).toBe(50257)
    expect(t.eosId).toBe(50256)
    expect(t.bosId).toBe(50256)
    expect(t.eosToken).toBe('<|endoftext|>')
    expect(t.chatTemplate).toBeNull()
    expect(t.idToToken(15496)).toBe('Hello')
    expect(t.idToToken(995)).toBe('Ġworld')
    expect(t.idToToken(99999)).toBeUndefined()
  })

  it('encodes like OpenAI’s GPT-2 encoder', () => {
    expect(t.encode('Hello world')).toEqual([15496, 995])
    for (const c of expected.cases) expect(t.encode(c.text), c.text).toEqual(c.gpt2)
    // GPT-2 adds no BOS/EOS
    expect(t.encode('Hello world', { addSpecialTokens: false })).toEqual([15496, 995])
  })

  it('round-trips text and keeps special tokens', () => {
    for (const text of SAMPLES) expect(t.decode(t.encode(text))).toBe(text)
    expect(t.encode('a<|endoftext|>b')).toEqual([64, 50256, 65])
    expect(t.decode([64, 50256, 65], { skipSpecialTokens: true })).toBe('ab')
    expect(t.decode([])).toBe('')
    expect(() => t.decode([50257])).toThrow(/not in the vocabulary/)
  })

  it('gives token texts that join to decode()', () => {
    checkTokenTexts(t)
    // 😀 is split by GPT-2 over two tokens: ' ' + F0 9F 98 | 80
    const ids = t.encode('I 😀')
    expect(ids.length).toBe(3)
    expect(t.tokenTexts(ids)).toEqual(['I', ' ', '😀'])
    expect(t.tokenTexts(ids, { partial: 'hex' })).toEqual(['I', ' <0xF0><0x9F><0x98>', '<0x80>'])
  })
})

describe('Llama-style SentencePiece BPE (resources/tokenizers/mistral-7b)', () => {
  let t: TokenizerAdapter
  beforeAll(async () => {
    t = await loadTokenizer(MISTRAL)
  })

  it('reads the vocabulary and special tokens', () => {
    expect(t.vocabSize).toBe(32000)
    expect(t.bosId).toBe(1)
    expect(t.eosId).toBe(2)
    expect(t.eosToken).toBe('</s>')
    expect(t.idToToken(3)).toBe('<0x00>')
    expect(t.idToToken(22557)).toBe('▁Hello')
  })

  it('encodes like the reference SentencePiece implementation (BOS added, byte fallback)', () => {
    expect(t.encode('Hello world')).toEqual([1, 22557, 1526])
    expect(t.encode('Hello world', { addSpecialTokens: false })).toEqual([22557, 1526])
    for (const c of expected.cases) expect(t.encode(c.text), JSON.stringify(c.text)).toEqual(c.mistral)
    // 🦙 is not in the vocabulary: four byte-fallback tokens
    expect(t.encode('🦙', { addSpecialTokens: false })).toEqual([28705, 243, 162, 169, 156])
  })

  it('round-trips text', () => {
    for (const text of SAMPLES) {
      if (text.includes('</s>') || text.startsWith('\uFEFF')) continue
      expect(t.decode(t.encode(text), { skipSpecialTokens: true }), JSON.stringify(text)).toBe(text)
    }
    expect(t.decode([1, 22557, 1526, 2])).toBe('<s> Hello world</s>')
  })

  it('gives token texts that join to decode()', () => {
    checkTokenTexts(t)
    const ids = t.encode('I 🦙', { addSpecialTokens: false })
    expect(t.tokenTexts(ids)).toEqual(['I', ' ', '', '', '', '🦙'])
    expect(t.tokenTexts(ids, { partial: 'hex' })).toEqual(['I', ' ', '<0xF0>', '<0x9F>', '<0xA6>', '<0x99>'])
  })
})

describe('byteTokenizer', () => {
  const t = byteTokenizer()

  it('maps UTF-8 bytes to ids 0–255 and <eos> to 256', () => {
    expect(t.vocabSize).toBe(257)
    expect(t.eosId).toBe(BYTE_EOS_ID)
    expect(t.bosId).toBeNull()
    expect(t.encode('Hi é')).toEqual([72, 105, 32, 0xc3, 0xa9])
    expect(t.encode('a<eos>b')).toEqual([97, 256, 98])
    expect(t.encode('a', { addSpecialTokens: true })).toEqual([97])
    expect(t.idToToken(72)).toBe('H')
    expect(t.idToToken(10)).toBe('<0x0A>')
    expect(t.idToToken(256)).toBe('<eos>')
    expect(t.idToToken(257)).toBeUndefined()
  })

  it('round-trips and gives token texts that join to decode()', () => {
    for (const text of SAMPLES) expect(t.decode(t.encode(text))).toBe(text)
    expect(t.decode([104, 105, 256], { skipSpecialTokens: true })).toBe('hi')
    checkTokenTexts(t)
    expect(t.tokenTexts(t.encode('é!'))).toEqual(['', 'é', '!'])
    expect(t.tokenTexts([0xc3])).toEqual(['\uFFFD'])
    expect(() => t.decode([300])).toThrow(RangeError)
  })
})

describe('loadTokenizer errors and configuration', () => {
  let tmp: string
  beforeAll(() => {
    tmp = mkdtempSync(join(tmpdir(), 'figa-tok-'))
  })
  afterAll(() => rmSync(tmp, { recursive: true, force: true }))

  const make = (name: string, files: Record<string, string>, tokenizerFrom?: string): string => {
    const dir = join(tmp, name)
    rmSync(dir, { recursive: true, force: true })
    mkdirSync(dir, { recursive: true })
    if (tokenizerFrom) copyFileSync(join(tokenizerFrom, 'tokenizer.json'), join(dir, 'tokenizer.json'))
    for (const [f, content] of Object.entries(files)) writeFileSync(join(dir, f), content)
    return dir
  }

  it('names the folder when it does not exist', async () => {
    const missing = join(tmp, 'nope')
    await expect(loadTokenizer(missing)).rejects.toThrow(TokenizerLoadError)
    await expect(loadTokenizer(missing)).rejects.toThrow(missing)
  })

  it('names the folder and the file when tokenizer.json is missing', async () => {
    const dir = make('empty', { 'config.json': '{}' })
    await expect(loadTokenizer(dir)).rejects.toThrow(`No tokenizer.json in ${dir}`)
    const slow = make('slow', { 'vocab.json': '{}', 'merges.txt': '#version: 0.2\n' })
    await expect(loadTokenizer(slow)).rejects.toThrow(/vocab\.json, merges\.txt.*tokenizer\.json/)
  })

  it('reports invalid JSON with the file name', async () => {
    const dir = make('broken', { 'tokenizer.json': '{ not json' })
    await expect(loadTokenizer(dir)).rejects.toThrow(`${join(dir, 'tokenizer.json')} is not valid JSON`)
    const bad = make('badcfg', { 'tokenizer_config.json': '[1,' }, GPT2)
    await expect(loadTokenizer(bad)).rejects.toThrow('tokenizer_config.json is not valid JSON')
  })

  it('finds EOS without tokenizer_config.json (config.json, then well-known tokens)', async () => {
    const bare = make('gpt2-bare', {}, GPT2)
    const t = await loadTokenizer(bare)
    expect(t.eosId).toBe(50256)
    expect(t.eosToken).toBe('<|endoftext|>')
    const withConfig = make('gpt2-config', { 'config.json': JSON.stringify({ eos_token_id: [50256, 0], bos_token_id: 50256 }) }, GPT2)
    const u = await loadTokenizer(withConfig)
    expect(u.eosId).toBe(50256)
    expect(u.bosId).toBe(50256)
  })

  it('follows add_bos_token / add_eos_token from tokenizer_config.json', async () => {
    const base = JSON.parse(readFileSync(join(MISTRAL, 'tokenizer_config.json'), 'utf8'))
    const noBos = make('mistral-nobos', { 'tokenizer_config.json': JSON.stringify({ ...base, add_bos_token: false }) }, MISTRAL)
    expect((await loadTokenizer(noBos)).encode('Hello world')).toEqual([22557, 1526])
    const eos = make('mistral-eos', { 'tokenizer_config.json': JSON.stringify({ ...base, add_eos_token: true }) }, MISTRAL)
    expect((await loadTokenizer(eos)).encode('Hello world')).toEqual([1, 22557, 1526, 2])
  })

  it('reads the chat template from tokenizer_config.json or chat_template.jinja', async () => {
    const base = JSON.parse(readFileSync(join(MISTRAL, 'tokenizer_config.json'), 'utf8'))
    const inline = make('tpl-inline', { 'tokenizer_config.json': JSON.stringify({ ...base, chat_template: '{{ bos_token }}{{ messages }}' }) }, MISTRAL)
    expect((await loadTokenizer(inline)).chatTemplate).toBe('{{ bos_token }}{{ messages }}')
    const list = make(
      'tpl-list',
      { 'tokenizer_config.json': JSON.stringify({ ...base, chat_template: [{ name: 'tool_use', template: 'T' }, { name: 'default', template: 'D' }] }) },
      MISTRAL,
    )
    expect((await loadTokenizer(list)).chatTemplate).toBe('D')
    const file = make('tpl-file', { 'chat_template.jinja': '{% for m in messages %}{{ m.content }}{% endfor %}' }, MISTRAL)
    expect((await loadTokenizer(file)).chatTemplate).toBe('{% for m in messages %}{{ m.content }}{% endfor %}')
  })
})
