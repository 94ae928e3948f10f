// Side-by-side chat and evaluation at the service level, on two copies of the tiny demo model.
import { cpSync } from 'node:fs'
import { join } from 'node:path'
import * as tf from '@tensorflow/tfjs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { ChatTurn, Conversation, EvalReport, ImportReport, ModelSummary, PairPage, PairRow, WinRate } from '../../src-main/api/types'
import { loadModel } from '../../src-main/model'
import { createServices, type Services } from '../../src-main/services'
import { loadExamples } from '../../src-main/services/examples'
import { loadTokenizer } from '../../src-main/signals/tokenizer'
import { tempDir } from '../helpers/temp'

const root = join(import.meta.dirname, '..', '..')
const ctx = { host: 'cli' as const }
const t = tempDir('figa-chat-')
let services: Services
let base: ModelSummary
let tuned: ModelSummary
let datasetId: number

beforeAll(async () => {
  services = await createServices({ dataDir: join(t.dir, 'data') })
  for (const name of ['base', 'tuned']) cpSync(join(root, 'resources', 'demo-model'), join(t.dir, name), { recursive: true })
  base = (await services.call('models.add', { path: join(t.dir, 'base'), name: 'base' }, ctx)) as ModelSummary
  tuned = (await services.call('models.add', { path: join(t.dir, 'tuned'), name: 'tuned' }, ctx)) as ModelSummary
  const fileId = services.files.registerPath(join(root, 'test', 'fixtures', 'train', 'tiny-pairs.jsonl')).fileId
  datasetId = ((await services.runJob('datasets.import', { fileId, name: 'tiny' }, ctx)) as ImportReport).datasetId!
})
afterAll(async () => {
  await services?.close()
  t.cleanup()
})

const sampling = { maxNewTokens: 8, temperature: 1, seed: 4 }
async function send(conversationId: number, text: string): Promise<ChatTurn> {
  const { turn, jobs } = (await services.call('chat.send', { conversationId, text, sampling }, ctx)) as { turn: ChatTurn; jobs: { left: string; right: string | null } }
  await Promise.allSettled([services.jobs.wait(jobs.left), jobs.right ? services.jobs.wait(jobs.right) : null])
  // The answer is stored when its job's result arrives: wait for both.
  await expect.poll(async () => ((await services.call('chat.get', { conversationId }, ctx)) as Conversation).history.find((x) => x.id === turn.id)!.right?.state).not.toBe('streaming')
  return ((await services.call('chat.get', { conversationId }, ctx)) as Conversation).history.find((x) => x.id === turn.id)!
}

describe('chat', () => {
  it('answers with both models, each with its own history, and persists the conversation', async () => {
    const c = (await services.call('chat.create', { modelAId: base.id, modelBId: tuned.id }, ctx)) as Conversation
    expect(c.title).toBe('base vs tuned')
    const first = await send(c.id, 'Hello there')
    expect(first.left).toMatchObject({ state: 'done', modelName: 'base' })
    expect(first.right).toMatchObject({ state: 'done', modelName: 'tuned' })
    // Same weights, same seed: the same answer on both sides.
    expect(first.left.text).toBe(first.right!.text)
    const second = await send(c.id, 'And again')
    expect(second.position).toBe(1)
    const listed = (await services.call('chat.list', {}, ctx)) as Array<{ id: number; turns: number }>
    expect(listed.find((x) => x.id === c.id)?.turns).toBe(2)
  })

  it('hides the models in blind mode until the vote, and counts the vote', async () => {
    const c = (await services.call('chat.create', { modelAId: base.id, modelBId: tuned.id, blind: true }, ctx)) as Conversation
    const turn = await send(c.id, 'Pick one')
    expect(turn.revealed).toBe(false)
    expect(turn.left.modelName).toBeNull()
    const voted = (await services.call('chat.vote', { turnId: turn.id, choice: 'left' }, ctx)) as ChatTurn
    expect(voted).toMatchObject({ revealed: true, vote: 'left' })
    const winner = voted.left.modelName!
    const rates = (await services.call('chat.winRates', {}, ctx)) as WinRate[]
    const row = rates.find((r) => r.modelX.id === base.id && r.modelY.id === tuned.id)!
    expect(row.votes).toBe(1)
    expect(winner === 'base' ? row.xWins : row.yWins).toBe(1)
    await expect(services.call('chat.vote', { turnId: turn.id, choice: 'sideways' }, ctx)).rejects.toMatchObject({ code: 'invalid_argument' })
  })

  it('turns an answer and its revision into a pair of a new or an existing dataset', async () => {
    const c = (await services.call('chat.create', { modelAId: base.id, modelBId: tuned.id, system: 'Be brief.' }, ctx)) as Conversation
    await send(c.id, 'First question')
    const turn = await send(c.id, 'What is 2+2?')
    const pair = (await services.call('chat.revise', { turnId: turn.id, side: 'right', revised: '4', newDataset: 'from-chat' }, ctx)) as PairRow
    expect(pair).toMatchObject({ kind: 'pair', instruction: 'What is 2+2?', original: turn.right!.text, revised: '4', system: 'Be brief.' })
    expect(pair.history).toEqual([{ role: 'user', content: 'First question' }, { role: 'assistant', content: expect.any(String) }])
    await services.call('chat.revise', { turnId: turn.id, side: 'left', revised: 'Four.', datasetId: pair.datasetId }, ctx)
    expect(((await services.call('pairs.list', { datasetId: pair.datasetId }, ctx)) as PairPage).total).toBe(2)
    await expect(services.call('chat.revise', { turnId: turn.id, side: 'left', revised: 'x' }, ctx)).rejects.toThrow(/either datasetId or newDataset/)
    await expect(services.call('chat.revise', { turnId: turn.id, side: 'left', revised: 'x', newDataset: 'from-chat' }, ctx)).rejects.toThrow(/exists already/)
  })
})

describe('evaluation', () => {
  it('scores both models on held-out pairs and equals a direct computation', async () => {
    const report = (await services.runJob('eval.run', { modelAId: base.id, modelBId: tuned.id, datasetId, split: 'all', limit: 3, answerTokens: 4 }, ctx)) as EvalReport
    expect(report).toMatchObject({ pairs: 3, split: 'all', datasetName: 'tiny' })
    expect(report.a.marginPerToken).toBeCloseTo(report.b.marginPerToken, 6) // identical weights
    expect(report.a.answerTokens).toBeGreaterThan(0)

    // Direct computation: full logits, log-softmax by hand in float64.
    const model = await loadModel(base.path)
    const tokenizer = await loadTokenizer(base.path)
    const examples = loadExamples(services.db, datasetId, null, 'figa').slice(0, 3)
    const logp = (prompt: string, response: string) => {
      const promptIds = tokenizer.encode(prompt, { addSpecialTokens: true })
      const ids = [...tokenizer.encode(prompt + ' ' + response, { addSpecialTokens: true }), tokenizer.eosId!]
      const logits = tf.tidy(() => model.forward([ids]).squeeze([0])).arraySync() as number[][]
      let sum = 0
      for (let t = promptIds.length; t < ids.length; t++) {
        const row = logits[t - 1]
        const max = Math.max(...row)
        const lse = max + Math.log(row.reduce((s, v) => s + Math.exp(v - max), 0))
        sum += row[ids[t]] - lse
      }
      return { sum, n: ids.length - promptIds.length }
    }
    let margin = 0
    let preferred = 0
    for (const ex of examples) {
      const r = logp(ex.prompt, ex.revised)
      const o = logp(ex.prompt, ex.original!)
      margin += r.sum / r.n - o.sum / o.n
      if (r.sum / r.n > o.sum / o.n) preferred++
    }
    model.dispose()
    expect(report.a.marginPerToken).toBeCloseTo(margin / 3, 4)
    expect(report.a.preferenceAccuracy).toBeCloseTo(preferred / 3, 10)

    const csv = await services.download('eval.export', { evalId: report.id, format: 'csv' }, ctx)
    const text = await new Promise<string>((resolve) => {
      let s = ''
      csv.stream().on('data', (d: Buffer) => (s += d)).on('end', () => resolve(s))
    })
    const lines = text.trim().split('\n')
    expect(lines[0]).toMatch(/^pair_id,row,instruction,a_logp_revised/)
    expect(lines).toHaveLength(4)
    expect(((await services.call('eval.list', {}, ctx)) as EvalReport[])[0].id).toBe(report.id)
  })
})
