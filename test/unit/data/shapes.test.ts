import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { normalizeRecord } from '../../../src-main/data/normalize'
import { applyMapping, detectShape } from '../../../src-main/data/shapes'
import { FileFormatError, openDataset, parseMappingArgs, previewDataset, type NormalizedRow, type Shape } from '../../../src-main/data/index'
import { fixture, readAll, rejection, tempDir } from './helpers'

const temp = tempDir()
afterAll(temp.cleanup)

/** Normalises one inline record as `shape`: the row, or the problem's reason. */
function normalize(shape: Shape, value: Record<string, unknown>): NormalizedRow | string {
  const result = normalizeRecord(shape, { index: 0, location: 'line 1', value })
  return result.row ?? result.problem!.reason
}

const pair = (fields: Partial<NormalizedRow>): NormalizedRow => ({
  kind: 'pair', system: null, instruction: '', input: '', history: null, original: null, revised: '', reference: null, ...fields,
})

describe('shape detection', () => {
  it.each([
    ['spa.jsonl', 'spa'],
    ['spa.csv', 'spa'],
    ['ultrafeedback.jsonl', 'preference'],
    ['ultrafeedback.parquet', 'preference'],
    ['preference.jsonl', 'preference'],
    ['hh.jsonl', 'hh'],
    ['alpaca.json', 'alpaca'],
    ['sharegpt.json', 'sharegpt'],
    ['sharegpt-messages.jsonl', 'sharegpt'],
  ])('%s is %s', async (name, shape) => {
    const { info } = await openDataset(fixture(name))
    expect(info.shape).toBe(shape)
  })

  it('tells preference from HH by the values when there is no prompt', () => {
    expect(detectShape([{ chosen: [{ role: 'user', content: 'a' }], rejected: [] }])).toBe('preference')
    expect(detectShape([{ chosen: '[{"role": "user", "content": "a"}]', rejected: '[]' }])).toBe('preference')
    expect(detectShape([{ chosen: '\n\nHuman: a\n\nAssistant: b', rejected: '\n\nHuman: a\n\nAssistant: c' }])).toBe('hh')
    expect(detectShape([{ chosen: 'good', rejected: 'bad' }])).toBeNull()
  })

  it('reports the effective mapping and the columns found', async () => {
    const { info } = await openDataset(fixture('ultrafeedback.jsonl'))
    expect(info.mapping).toEqual({ prompt: 'prompt', chosen: 'chosen', rejected: 'rejected' })
    expect(info.columns).toEqual(['prompt', 'prompt_id', 'chosen', 'rejected', 'messages', 'score_chosen', 'score_rejected'])
  })

  it('explains an unknown shape, listing the columns and the shapes expected', async () => {
    const error = await rejection(openDataset(fixture('unknown-shape.jsonl')))
    expect(error).toBeInstanceOf(FileFormatError)
    expect(error.message).toContain('Columns found: question, answer, source')
    expect(error.message).toMatch(/SPA pairs.*preference pairs.*Anthropic-HH.*Alpaca SFT.*ShareGPT SFT/)
    expect(error.message).toContain('--map revised_output=good_answer')
  })

  it('explains a file whose first records are all unreadable', async () => {
    const path = join(temp.dir, 'garbage.jsonl')
    writeFileSync(path, 'not json\n{"a": \n')
    expect((await rejection(openDataset(path))).message).toMatch(/none of the first 2 records could be read \(line 1: line is not valid JSON/)
  })

  it('rejects an empty file', async () => {
    const path = join(temp.dir, 'empty.jsonl')
    writeFileSync(path, '\n\n')
    expect((await rejection(openDataset(path))).message).toMatch(/holds no records/)
  })
})

describe('mapping override', () => {
  const mapping = { instruction: 'question', input: 'context', original_output: 'bad_answer', revised_output: 'good_answer' }

  it('renames source columns before detection and normalisation', async () => {
    const { info, rows } = await previewDataset(fixture('mapped.csv'), { mapping })
    expect(info.shape).toBe('spa')
    expect(info.mapping).toEqual(mapping)
    expect(rows[1].row).toEqual(pair({ instruction: 'Name the largest planet.', input: 'Solar system', original: 'Saturn', revised: 'Jupiter' }))
    expect(rows[1].raw).toEqual({ question: 'Name the largest planet.', context: 'Solar system', bad_answer: 'Saturn', good_answer: 'Jupiter', id: 'q2' })
  })

  it('fails on a column the file does not have, or a field that does not exist', async () => {
    const missing = await rejection(openDataset(fixture('mapped.csv'), { mapping: { ...mapping, revised_output: 'best' } }))
    expect(missing.message).toMatch(/revised_output=best names a column the file does not have \(columns: question, context/)
    await expect(openDataset(fixture('mapped.csv'), { mapping: { answer: 'good_answer' } })).rejects.toThrow(/cannot map to "answer"/)
  })

  it('swaps columns without losing either', () => {
    expect(applyMapping({ chosen: 'b', rejected: 'a' }, { chosen: 'rejected', rejected: 'chosen' })).toEqual({ chosen: 'a', rejected: 'b' })
  })

  it('parses the CLI form', () => {
    expect(parseMappingArgs(['revised_output=good_answer', 'original_output = bad answer'])).toEqual({ revised_output: 'good_answer', original_output: 'bad answer' })
    expect(() => parseMappingArgs(['revised_output'])).toThrow(/expected field=column/)
    expect(() => parseMappingArgs(['best=good_answer'])).toThrow(/cannot map to "best"/)
  })
})

describe('SPA', () => {
  it('keeps system, history and the reference output', async () => {
    const rows = await readAll(fixture('spa.jsonl'))
    expect(rows[2].row).toEqual(pair({
      system: 'You are a careful translator.',
      instruction: 'And what about tomorrow?',
      history: [
        { role: 'user', content: 'Translate: the weather is nice today.' },
        { role: 'assistant', content: "Il fait beau aujourd'hui." },
      ],
      original: 'Demain il fait beau.',
      revised: 'Demain, il fera beau.',
    }))
    expect(rows[0].row?.reference).toMatch(/^1\. Eat a balanced and nutritious diet/)
  })

  it('reports bad rows naming the field, and keeps no-op pairs', async () => {
    const rows = await readAll(fixture('broken-rows.jsonl'))
    expect(rows.map((r) => r.problem && [r.problem.location, r.problem.field, r.problem.reason])).toEqual([
      undefined,
      ['line 2', undefined, 'line is not valid JSON: Expected double-quoted property name at column 75'],
      ['line 3', 'revised_output', 'revised_output is missing'],
      ['line 4', 'original_output', 'original_output: expected a string, got number'],
      ['line 6', 'instruction', 'instruction is empty'],
      ['line 7', undefined, 'line is not a JSON object (got array)'],
      ['line 8', 'history', 'history: expected a list of {role, content} messages, got a string that is not JSON'],
      undefined,
      undefined,
    ])
    expect(rows.at(-1)?.row).toMatchObject({ original: 'Same.', revised: 'Same.' })
  })

  it('reads a row with only `output` as SFT, so mixed exports import back', () => {
    expect(normalize('spa', { instruction: 'Hi', input: '', output: 'Hello' })).toMatchObject({ kind: 'sft', original: null, revised: 'Hello' })
    expect(normalize('spa', { instruction: 'Hi', original_output: '', revised_output: '', output: 'Hello' })).toMatchObject({ kind: 'sft' })
    expect(normalize('spa', { instruction: 'Hi', original_output: 'a', output: 'Hello' })).toBe('revised_output is missing')
  })

  it('validates history messages', () => {
    const base = { instruction: 'Hi', original_output: 'a', revised_output: 'b' }
    expect(normalize('spa', { ...base, history: [{ role: 'user', content: 1 }] })).toBe('history[0].content: expected a string, got number')
    expect(normalize('spa', { ...base, history: ['hi'] })).toBe('history[0]: expected a {role, content} object, got string')
    expect(normalize('spa', { ...base, history: {} })).toBe('history: expected a list of {role, content} messages, got object')
    expect(normalize('spa', { ...base, history: [] })).toMatchObject({ history: null })
  })

  it('accepts LLaMA-Factory [question, answer] history pairs', () => {
    expect(normalize('alpaca', { instruction: 'And 3?', output: 'Odd.', history: [['Is 2 even?', 'Yes.']] })).toMatchObject({
      history: [{ role: 'user', content: 'Is 2 even?' }, { role: 'assistant', content: 'Yes.' }],
    })
  })
})

describe('preference', () => {
  it('takes history, system and instruction from UltraFeedback message lists', async () => {
    const rows = await readAll(fixture('ultrafeedback.jsonl'))
    expect(rows[1].row).toEqual(pair({
      system: 'Be concise.',
      instruction: 'Can you make it shorter?',
      history: [
        { role: 'user', content: 'Explain photosynthesis.' },
        { role: 'assistant', content: "Plants turn light, water and CO2 into sugar and oxygen, storing the light's energy as chemical energy." },
      ],
      original: 'Photosynthesis is the process by which green plants and some other organisms use sunlight to synthesize foods from carbon dioxide and water.',
      revised: 'Plants make sugar from light, water and CO2.',
    }))
  })

  it('reads string responses with the prompt and an optional system column', async () => {
    const rows = await readAll(fixture('preference.jsonl'))
    expect(rows[1].row).toEqual(pair({
      system: 'You answer in one word.',
      instruction: 'What colour is the sky on a clear day?',
      original: 'The sky is usually blue on a clear day because of Rayleigh scattering.',
      revised: 'Blue.',
    }))
  })

  it('accepts response-only message lists with a separate prompt', () => {
    const row = normalize('preference', {
      prompt: [{ role: 'user', content: 'Hi' }],
      chosen: [{ role: 'assistant', content: 'Hello!' }],
      rejected: [{ role: 'assistant', content: 'Go away.' }],
    })
    expect(row).toEqual(pair({ instruction: 'Hi', original: 'Go away.', revised: 'Hello!' }))
  })

  it('names the field in type errors', () => {
    expect(normalize('preference', { prompt: 'Hi', chosen: 3, rejected: 'x' })).toBe('chosen: expected a string or a list of {role, content} messages, got number')
    expect(normalize('preference', { prompt: 'Hi', chosen: 'x' })).toBe('rejected is missing')
    expect(normalize('preference', { chosen: 'x', rejected: 'y' })).toBe('prompt is missing')
    expect(normalize('preference', { prompt: 'Hi', chosen: '', rejected: 'y' })).toBe('chosen is empty')
  })

  it('rejects lists that end with the user or continue different conversations', () => {
    const user = { role: 'user', content: 'Hi' }
    expect(normalize('preference', { chosen: [user], rejected: [user, { role: 'assistant', content: 'a' }] }))
      .toBe('chosen: expected the last message to be from the assistant, got a user message')
    expect(normalize('preference', {
      chosen: [user, { role: 'assistant', content: 'a' }],
      rejected: [{ role: 'user', content: 'Hey' }, { role: 'assistant', content: 'b' }],
    })).toMatch(/chosen and rejected continue different conversations/)
  })

  it('keeps a text answer that merely starts with "["', () => {
    expect(normalize('preference', { prompt: 'List', chosen: '[1, 2, 3]', rejected: '[{"not": "a message"}' })).toMatchObject({ revised: '[1, 2, 3]', original: '[{"not": "a message"}' })
  })
})

describe('Anthropic HH', () => {
  it('splits the shared prompt from the responses, even when the responses share a prefix', async () => {
    const rows = await readAll(fixture('hh.jsonl'))
    expect(rows[0].row).toEqual(pair({
      instruction: 'What are some good houseplants for beginners?',
      original: 'Orchids.',
      revised: 'Pothos, snake plants and ZZ plants are hard to kill: they tolerate low light and irregular watering.',
    }))
    expect(rows[1].row).toEqual(pair({
      instruction: 'And for a soft yolk?',
      history: [
        { role: 'user', content: 'How do I boil an egg?' },
        { role: 'assistant', content: 'Put it in boiling water for about nine minutes.' },
      ],
      original: 'About nine minutes.',
      revised: 'About six minutes, then cool it in cold water.',
    }))
    expect(rows[2].problem).toMatchObject({ field: 'chosen', reason: expect.stringMatching(/do not share a "\\n\\nAssistant:" turn/) })
  })

  it('accepts a transcript without the leading blank line', () => {
    expect(normalize('hh', { chosen: 'Human: Hi\n\nAssistant: Hello!', rejected: 'Human: Hi\n\nAssistant: Go.' })).toEqual(pair({ instruction: 'Hi', original: 'Go.', revised: 'Hello!' }))
  })

  it('reports an empty final response', () => {
    expect(normalize('hh', { chosen: '\n\nHuman: Hi\n\nAssistant: Hello', rejected: '\n\nHuman: Hi\n\nAssistant:' })).toBe('rejected: the final assistant response is empty')
  })
})

describe('SFT shapes', () => {
  it('reads Alpaca records', async () => {
    const rows = await readAll(fixture('alpaca.json'))
    expect(rows[1].row).toEqual({
      kind: 'sft', system: null, instruction: 'Classify the sentiment of the review.', input: 'The battery dies within an hour.',
      history: null, original: null, revised: 'Negative', reference: null,
    })
    expect(rows[2].problem).toMatchObject({ field: 'instruction', reason: 'instruction is empty' })
  })

  it('reads ShareGPT conversations: system, history, last user turn and last reply', async () => {
    const rows = await readAll(fixture('sharegpt.json'))
    expect(rows[0].row).toEqual({
      kind: 'sft',
      system: 'You are a helpful assistant.',
      instruction: 'Why not Sydney?',
      input: '',
      history: [
        { role: 'user', content: 'What is the capital of Australia?' },
        { role: 'assistant', content: 'Canberra.' },
      ],
      original: null,
      revised: 'Canberra was chosen as a compromise between rivals Sydney and Melbourne.',
      reference: null,
    })
    expect(rows[2].problem?.reason).toBe('conversations: expected the last message to be from the assistant, got a user message')
  })

  it('reads {role, content} messages and rejects unknown roles', async () => {
    const rows = await readAll(fixture('sharegpt-messages.jsonl'))
    expect(rows[0].row).toMatchObject({ instruction: 'Convert 10 km to miles.', revised: '10 km is about 6.21 miles.' })
    expect(rows[1].problem).toMatchObject({ field: 'messages', reason: 'messages[0].role: unknown role "tool" (expected system, user/human or assistant/gpt)' })
  })
})
