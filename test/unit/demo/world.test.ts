import { describe, expect, it } from 'vitest'
import { BEHAVIOURS, CAPITALS, generateWorld, HELDOUT_PER_BEHAVIOUR, TRAIN_PER_BEHAVIOUR, type DemoPair } from '../../../src-main/demo/world'

const world = generateWorld()
const train = world.filter((p) => p.split === 'train')
const heldout = world.filter((p) => p.split === 'heldout')
const names = BEHAVIOURS.map((b) => b.behaviour)

/** Length of the longest common subsequence of two word lists. */
function sharedWords(a: string[], b: string[]): number {
  const row = new Array<number>(b.length + 1).fill(0)
  for (const wa of a) {
    let diagonal = 0
    for (let j = 1; j <= b.length; j++) {
      const above = row[j]
      row[j] = wa === b[j - 1] ? diagonal + 1 : Math.max(row[j], row[j - 1])
      diagonal = above
    }
  }
  return row[b.length]
}

const wordsOf = (s: string) => s.split(/\s+/).filter(Boolean)

describe('generateWorld', () => {
  it('is a function of its seed', () => {
    expect(generateWorld(1)).toEqual(world)
    expect(generateWorld(7)).toEqual(generateWorld(7))
    expect(generateWorld(2)).not.toEqual(world)
  })

  it('has the expected counts per behaviour and split, train first', () => {
    expect(train.length).toBeGreaterThanOrEqual(600)
    expect(heldout.length).toBeGreaterThanOrEqual(150)
    for (const b of names) {
      expect(train.filter((p) => p.behaviour === b)).toHaveLength(TRAIN_PER_BEHAVIOUR)
      expect(heldout.filter((p) => p.behaviour === b)).toHaveLength(HELDOUT_PER_BEHAVIOUR)
    }
    expect(world.slice(0, train.length).every((p) => p.split === 'train')).toBe(true)
  })

  it('names each pair by behaviour, split and index, and tags its check with the behaviour', () => {
    expect(new Set(world.map((p) => p.id)).size).toBe(world.length)
    expect(world[0].id).toBe('arithmetic-train-000')
    for (const p of world) {
      expect(p.id).toMatch(new RegExp(`^${p.behaviour}-${p.split}-\\d{3}$`))
      expect(p.check.behaviour).toBe(p.behaviour)
    }
  })

  it('never repeats a prompt, and held-out never reuses a train instruction', () => {
    const prompts = world.map((p) => `${p.instruction}\n${p.input}`)
    expect(new Set(prompts).size).toBe(world.length)
    const trainInstructions = new Set(train.map((p) => p.instruction))
    expect(heldout.filter((p) => trainInstructions.has(p.instruction))).toEqual([])
  })

  it('keeps every text short and ASCII, for a byte-level model', () => {
    for (const p of world) {
      for (const text of [p.instruction, p.input, p.original_output, p.revised_output]) expect(text).toMatch(/^[\x20-\x7e]*$/)
      expect(p.instruction.length).toBeLessThanOrEqual(72)
      expect(p.input.length).toBeLessThanOrEqual(60)
      expect(p.original_output.length).toBeLessThanOrEqual(72)
      expect(p.revised_output.length).toBeLessThanOrEqual(72)
    }
  })

  it('revises every original minimally: most words shared (safety: the request is kept)', () => {
    for (const p of world) {
      expect(p.original_output).not.toBe(p.revised_output)
      const [o, r] = [wordsOf(p.original_output), wordsOf(p.revised_output)]
      const shared = sharedWords(o, r) / Math.max(o.length, r.length)
      if (p.behaviour === 'safety') {
        expect(p.revised_output).toContain(`how to ${(p.check as { action: string }).action}`)
        expect(p.original_output).toContain(`how to ${(p.check as { action: string }).action}`)
      } else {
        expect(shared, `${p.original_output} -> ${p.revised_output}`).toBeGreaterThanOrEqual(0.5)
      }
    }
  })
})

describe('behaviours', () => {
  const of = (b: DemoPair['behaviour'], split?: DemoPair['split']) => world.filter((p) => p.behaviour === b && (!split || p.split === split))

  it('arithmetic: train covers all 81 sums; the original is always one too many', () => {
    const seen = new Set(of('arithmetic', 'train').map((p) => (p.check.behaviour === 'arithmetic' ? `${p.check.a}+${p.check.b}` : '')))
    expect(seen.size).toBe(81)
    for (const p of of('arithmetic')) {
      if (p.check.behaviour !== 'arithmetic') throw new Error('wrong check')
      const { a, b, correct, wrong } = p.check
      expect([correct, wrong]).toEqual([a + b, a + b + 1])
      expect(p.original_output).toBe(`${a} + ${b} = ${wrong}.`)
      expect(p.revised_output).toBe(`${a} + ${b} = ${correct}.`)
    }
  })

  it('fact: every country asked in both splits; the original names the largest city', () => {
    for (const split of ['train', 'heldout'] as const) {
      expect(new Set(of('fact', split).map((p) => (p.check.behaviour === 'fact' ? p.check.country : ''))).size).toBe(CAPITALS.length)
    }
    for (const p of of('fact')) {
      if (p.check.behaviour !== 'fact') throw new Error('wrong check')
      expect(p.original_output).toBe(`The capital of ${p.check.country} is ${p.check.wrong}.`)
      expect(p.revised_output).toBe(`The capital of ${p.check.country} is ${p.check.capital}.`)
    }
  })

  it('unit: the original is the revision without its unit; held-out values are disjoint from train', () => {
    const values = (split: 'train' | 'heldout') => new Set(of('unit', split).map((p) => (p.check.behaviour === 'unit' ? p.check.value : -1)))
    const trainValues = values('train')
    expect([...values('heldout')].filter((v) => trainValues.has(v))).toEqual([])
    for (const p of of('unit')) {
      if (p.check.behaviour !== 'unit') throw new Error('wrong check')
      expect(p.input).toContain(`${p.check.value} ${p.check.unit}`)
      expect(p.revised_output.replace(` ${p.check.unit}`, '')).toBe(p.original_output)
    }
  })

  it('unit, polite: held-out inputs use none of the train entities', () => {
    for (const b of ['unit', 'polite'] as const) {
      // Capitalised place names and the nouns right after "The"/"a" in the inputs.
      const entities = (p: DemoPair) => p.input.match(/\b(?:[A-Z][a-z]+|(?<=(?:The|a) )[a-z]+)\b/g)?.filter((w) => !['The', 'At'].includes(w)) ?? []
      const trainEntities = new Set(of(b, 'train').flatMap(entities))
      const weekdays = /day$/
      const reused = of(b, 'heldout').flatMap(entities).filter((e) => trainEntities.has(e) && !weekdays.test(e) && e !== 'cafe')
      expect(reused, b).toEqual([])
    }
  })

  it('polite: the content is shared and only the opener and closer change', () => {
    for (const p of of('polite')) {
      if (p.check.behaviour !== 'polite') throw new Error('wrong check')
      const content = (s: string) => s.replace(/^[A-Za-z ]+, /, '').replace(/ [A-Z][^.]*\.$/, '')
      expect(content(p.original_output)).toBe(content(p.revised_output))
      expect(p.revised_output).toContain(p.check.answer)
      expect(p.input).toContain(p.check.answer)
    }
  })

  it('safety: the original complies, the revision refuses; objects differ between splits', () => {
    for (const p of of('safety')) {
      expect(p.original_output).toMatch(/^Sure, here is how to /)
      expect(p.revised_output).toMatch(/^Sorry, I can't help with how to /)
    }
    const actions = (split: 'train' | 'heldout') => new Set(of('safety', split).map((p) => (p.check.behaviour === 'safety' ? p.check.action : '')))
    const trainActions = actions('train')
    expect([...actions('heldout')].filter((a) => trainActions.has(a))).toEqual([])
  })
})
