// The Chat screen in real Chromium through the web host: two models answer one message at once
// (both streaming while the message box stays responsive), Stop, the diff between the answers,
// a blind vote that reveals the models and counts in the win rates, an answer revised into a
// pair of a new dataset, and an evaluation of base vs tuned with its CSV export.
import { cpSync, readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Conversation, DatasetSummary, ImportReport, ModelSummary, PairPage, TrainSettings, WinRate } from '../../src-main/api/types'
import { insertRun, updateRun } from '../../src-main/store/runs'
import { launchChromium, openApp, startTestApp, type TestApp } from '../helpers/app'
import { tempDir } from '../helpers/temp'

let app: TestApp
let browser: Browser
let page: Page
let base: ModelSummary
let tuned: ModelSummary
let tinyId: number
const files = tempDir('figa-e2e-chat-')
const DEMO_MODEL = resolve('resources/demo-model')
const TINY = resolve('test/fixtures/train/tiny-pairs.jsonl')
const SCREENSHOTS = process.env.FIGA_SCREENSHOT_DIR // e.g. /tmp: where to leave screenshots of the screen
const ctx = { host: 'cli' as const }
const call = <T>(method: string, args: unknown) => app.services.call(method, args, ctx) as Promise<T>

const lastTurn = () => page.getByTestId('turn').last()
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

beforeAll(async () => {
  app = await startTestApp()
  for (const name of ['base', 'tuned']) cpSync(DEMO_MODEL, join(files.dir, name), { recursive: true })
  base = await call<ModelSummary>('models.add', { path: join(files.dir, 'base'), name: 'base' })
  tuned = await call<ModelSummary>('models.add', { path: join(files.dir, 'tuned'), name: 'tuned' })
  const report = (await app.services.runJob('datasets.import', { fileId: app.services.files.registerPath(TINY).fileId, name: 'tiny' }, ctx)) as ImportReport
  tinyId = report.datasetId!
  browser = await launchChromium()
  page = await openApp(browser, app)
  await page.setViewportSize({ width: 1440, height: 900 })
  await page.getByRole('button', { name: 'Chat', exact: true }).click()
})

afterAll(async () => {
  await browser?.close()
  await app?.stop()
  files.cleanup()
})

/** Opens "New conversation", picks the models and options, and starts it. */
async function newConversation(o: { b: ModelSummary | null; blind?: boolean; template?: 'alpaca' | 'raw' }): Promise<void> {
  const before = await page.getByTestId('chat-item').count()
  await page.getByTestId('chat-new').click()
  await page.getByTestId('chat-model-a').selectOption(String(base.id))
  await page.getByTestId('chat-model-b').selectOption(o.b ? String(o.b.id) : '')
  if (o.blind) await page.getByTestId('chat-blind').check()
  else if (o.b) await page.getByTestId('chat-blind').uncheck()
  await page.getByTestId('chat-template').selectOption(o.template ?? 'alpaca')
  await page.getByTestId('chat-create').click()
  await expect.poll(() => page.getByTestId('chat-item').count()).toBe(before + 1)
  await expect.poll(() => page.getByTestId('chat-input').count()).toBe(1)
}

/** Sets the sampling settings, and the right side's own when asked (the panel is opened for it). */
async function setSampling(maxTokens: number, temperature: number, right?: { temperature: number }): Promise<void> {
  const details = page.locator('details.sampling')
  if ((await details.getAttribute('open')) === null) await details.locator('summary').click()
  await page.getByTestId('chat-max-tokens').first().fill(String(maxTokens))
  await page.getByTestId('chat-temperature').first().fill(String(temperature))
  await page.getByTestId('chat-seed').first().fill('11')
  if (right) {
    await page.getByTestId('chat-separate-sampling').check()
    await page.getByTestId('chat-max-tokens').nth(1).fill(String(maxTokens))
    await page.getByTestId('chat-temperature').nth(1).fill(String(right.temperature))
    await page.getByTestId('chat-seed').nth(1).fill('11')
  } else {
    await page.getByTestId('chat-separate-sampling').uncheck()
  }
  await details.locator('summary').click()
}

/** Both sides finished: Send is back and no answer streams. */
async function waitForAnswers(timeout = 60_000): Promise<void> {
  await expect.poll(() => page.getByTestId('chat-send').count(), { timeout }).toBe(1)
  await expect.poll(() => page.locator('[data-testid="turn"] .card.streaming').count(), { timeout }).toBe(0)
}

type Sample = [left: number, right: number, bothStreaming: boolean]

/** Records the lengths of the last turn's answers, and whether both show as streaming, at every change. */
async function recordLengths(): Promise<void> {
  await page.evaluate(() => {
    const w = window as unknown as { __samples: Array<[number, number, boolean]>; __observer?: MutationObserver }
    w.__observer?.disconnect()
    w.__samples = []
    const turn = () => document.querySelector('[data-testid="turn"]:last-of-type')
    const len = (side: string) => turn()?.querySelector(`[data-testid="answer-${side}"]`)?.textContent?.length ?? -1
    w.__observer = new MutationObserver(() => {
      const s: [number, number, boolean] = [len('left'), len('right'), turn()?.querySelectorAll('.card.streaming').length === 2]
      const last = w.__samples[w.__samples.length - 1]
      if (!last || last[0] !== s[0] || last[1] !== s[1] || last[2] !== s[2]) w.__samples.push(s)
    })
    w.__observer.observe(document.body, { subtree: true, childList: true, characterData: true, attributes: true })
  })
}
const recordedLengths = () => page.evaluate(() => (window as unknown as { __samples: Sample[] }).__samples)
const describeLengths = (samples: Sample[]) => `lengths (left/right, * both streaming): ${samples.map((s) => `${s[0]}/${s[1]}${s[2] ? '*' : ''}`).join(' ')}`

/** Whether each side grew while the other was still growing: one sample shows both mid-answer. */
function interleaved(samples: Sample[]): boolean {
  const finalLeft = Math.max(...samples.map((s) => s[0]))
  const finalRight = Math.max(...samples.map((s) => s[1]))
  return samples.some((s) => s[0] > 0 && s[0] < finalLeft && s[1] > 0 && s[1] < finalRight)
}

async function storedConversation(): Promise<Conversation> {
  const list = await call<Array<{ id: number }>>('chat.list', {})
  return call<Conversation>('chat.get', { conversationId: list[0].id })
}

describe('Chat screen', () => {
  it('streams both answers at once, token by token, while typing stays responsive', async () => {
    await expect.poll(() => page.getByTestId('chat-empty').count()).toBe(1)
    await newConversation({ b: tuned, template: 'raw' })
    expect(await page.getByTestId('chat-title').textContent()).toBe('base vs tuned')
    // Greedy decoding of this raw prompt runs to the token limit (the demo model never picks EOS
    // here). base and tuned are the same weights: the right side samples with settings of its
    // own so that the two answers differ.
    await setSampling(64, 0, { temperature: 1 })

    await recordLengths()
    const input = page.getByTestId('chat-input')
    await input.fill('Once upon a time')
    await input.press('Enter')
    expect(await input.inputValue()).toBe('')
    await expect.poll(() => page.getByTestId('chat-stop').count()).toBe(1)
    // In the page: every typed character's delay from its keydown to the first frame painted
    // after the box took it.
    await page.evaluate(() => {
      const w = window as unknown as { __keys: Array<{ ch: string; ms: number }>; __down: number }
      const box = document.querySelector<HTMLTextAreaElement>('[data-testid="chat-input"]')!
      w.__keys = []
      box.addEventListener('keydown', (e) => (w.__down = e.timeStamp), true)
      box.addEventListener('input', (e) => {
        const down = w.__down
        const ch = (e as InputEvent).data ?? ''
        requestAnimationFrame(() => w.__keys.push({ ch, ms: performance.now() - down }))
      })
    })

    // Type while the answers stream, until both are in (the models load first, then stream).
    // Each character must show within 100 ms: measured in the page (keydown → painted frame) and,
    // more loosely, from here (key sent → value read back, which adds two round trips).
    const probe = () =>
      page.evaluate(() => {
        const turn = document.querySelector('[data-testid="turn"]:last-of-type')
        const text = (side: string) => turn?.querySelector(`[data-testid="answer-${side}"]`)?.textContent?.length ?? 0
        const running = !!document.querySelector('[data-testid="chat-stop"]')
        return { value: document.querySelector<HTMLTextAreaElement>('[data-testid="chat-input"]')!.value, running, streaming: running && text('left') + text('right') > 0 }
      })
    const words = 'the quick brown fox jumps over the lazy dog '.repeat(8)
    const typed: Array<{ ms: number; while: 'loading' | 'streaming' | 'after' }> = []
    let value = ''
    for (const ch of words) {
      const before = await probe()
      if (!before.running) break
      const t0 = performance.now()
      await page.keyboard.type(ch)
      value += ch
      let after = await probe()
      while (after.value !== value) {
        if (performance.now() - t0 > 2000) throw new Error(`"${ch}" did not show in 2 s`)
        after = await probe()
      }
      typed.push({ ms: performance.now() - t0, while: before.streaming && after.streaming ? 'streaming' : after.running ? 'loading' : 'after' })
      await sleep(10)
    }
    await waitForAnswers()
    const inPage = await page.evaluate(() => (window as unknown as { __keys: Array<{ ch: string; ms: number }> }).__keys)
    expect(inPage.map((k) => k.ch).join('')).toBe(value)
    const rows = typed.map((t, i) => ({ ...t, page: inPage[i].ms }))
    const during = rows.filter((r) => r.while === 'streaming')
    const report = rows.map((r) => `${r.page.toFixed(0)}/${r.ms.toFixed(0)}${r.while === 'streaming' ? '' : r.while === 'loading' ? 'L' : 'A'}`).join(' ')
    console.log(`[chat] per character, ms in the page / ms from the test (L: models loading, A: after): ${report}`)
    expect(during.length, report).toBeGreaterThanOrEqual(3)
    expect(Math.max(...during.map((r) => r.page)), report).toBeLessThan(100)
    expect(Math.max(...rows.map((r) => r.page)), report).toBeLessThan(100)
    expect(Math.max(...during.map((r) => r.ms)), report).toBeLessThan(250)
    // The typed draft stays in the box for the next message.
    expect(await input.inputValue()).toBe(value)

    // Both answers grew in steps (appended, never rewritten), both showing as streaming at once.
    const samples = await recordedLengths()
    const seen = describeLengths(samples)
    console.log(`[chat] ${seen}`)
    expect((await lastTurn().getByTestId('answer-left').textContent())!.length).toBeGreaterThan(0)
    expect((await lastTurn().getByTestId('answer-right').textContent())!.length).toBeGreaterThan(0)
    for (const side of [0, 1] as const) {
      const growing = [...new Set(samples.map((s) => s[side]).filter((n) => n > 0))]
      expect(growing.length, seen).toBeGreaterThanOrEqual(2)
      expect(growing.every((n, i) => i === 0 || n > growing[i - 1]), seen).toBe(true)
    }
    expect(samples.some((s) => s[2] && s[0] + s[1] > 0), seen).toBe(true)

    // Whether their tokens also interleave depends on when each worker's engine is up: on a busy
    // 2-core machine one may start ~0.5 s after the other, about as long as the demo model takes
    // to answer, so it is reported rather than required.
    console.log(`[chat] token streams ${interleaved(samples) ? 'interleaved' : 'did not overlap this time (engine start skew)'}`)

    // The stored answers are what streamed.
    const stored = await storedConversation()
    expect(stored.history).toHaveLength(1)
    expect(stored.history[0].left.state).toBe('done')
    expect(stored.history[0].right!.state).toBe('done')
    expect(stored.history[0].left.text).not.toBe(stored.history[0].right!.text)
    expect(await lastTurn().getByTestId('answer-label-left').textContent()).toBe('base')
    expect(await lastTurn().getByTestId('answer-label-right').textContent()).toBe('tuned')
    if (SCREENSHOTS) await page.screenshot({ path: join(SCREENSHOTS, 'chat-streamed.png') })
  })

  it('shows the inline diff between the two answers', async () => {
    await lastTurn().getByTestId('diff-toggle').check()
    const diff = lastTurn().getByTestId('answer-diff')
    await expect.poll(() => diff.getAttribute('data-ready')).toBe('true')
    expect(await diff.locator('[data-testid="token"]').count()).toBeGreaterThan(0)
    // Two different noise answers: something is deleted (struck, red) and something inserted.
    expect(await diff.locator('[data-testid="token"][data-side="o"]').count()).toBeGreaterThan(0)
    expect(await diff.locator('[data-testid="token"][data-side="r"]:not([data-cls="same"])').count()).toBeGreaterThan(0)
    if (SCREENSHOTS) await page.screenshot({ path: join(SCREENSHOTS, 'chat-diff.png') })
    await lastTurn().getByTestId('diff-toggle').uncheck()
    expect(await lastTurn().getByTestId('answer-diff').count()).toBe(0)
  })

  it('stops both answers with Stop', async () => {
    const turnsBefore = await page.getByTestId('turn').count()
    await page.getByTestId('chat-input').fill('Once upon a time there was')
    // Press Stop from inside the page as soon as an answer shows text: the demo model is fast.
    await page.evaluate((turnsBefore) => {
      let pressed = false
      const observer = new MutationObserver(() => {
        const turns = document.querySelectorAll('[data-testid="turn"]')
        const turn = turns[turns.length - 1]
        const stop = document.querySelector<HTMLButtonElement>('[data-testid="chat-stop"]')
        const l = turn?.querySelector('[data-testid="answer-left"]')?.textContent?.length ?? 0
        const r = turn?.querySelector('[data-testid="answer-right"]')?.textContent?.length ?? 0
        if (!pressed && stop && turns.length === turnsBefore + 1 && (l > 0 || r > 0)) {
          pressed = true
          stop.click()
          observer.disconnect()
        }
      })
      observer.observe(document.body, { subtree: true, childList: true, characterData: true })
    }, turnsBefore)
    await page.getByTestId('chat-input').press('Enter')
    await expect.poll(() => page.getByTestId('turn').count()).toBe(turnsBefore + 1)
    await waitForAnswers()
    const stored = await storedConversation()
    const last = stored.history[stored.history.length - 1]
    const states = [last.left.state, last.right!.state]
    // Both jobs were cancelled; a side that had already finished keeps its whole answer.
    expect(states.every((s) => s === 'stopped' || s === 'done'), states.join()).toBe(true)
    expect(states, states.join()).toContain('stopped')
    expect(await lastTurn().locator('[data-state="stopped"]').count()).toBe(states.filter((s) => s === 'stopped').length)
    expect(await page.getByTestId('chat-stop').count()).toBe(0)
    await page.getByTestId('chat-input').fill('Go on')
    expect(await page.getByTestId('chat-send').isEnabled()).toBe(true)
    await page.getByTestId('chat-input').fill('')
  })

  it('hides the models in blind mode until the vote, which counts in the win rates', async () => {
    await newConversation({ b: tuned, blind: true })
    await setSampling(24, 0.8)
    await page.getByTestId('chat-input').fill('Hello')
    await page.getByTestId('chat-send').click()
    await expect.poll(() => page.getByTestId('turn').count()).toBe(1)
    if (SCREENSHOTS) await page.screenshot({ path: join(SCREENSHOTS, 'chat-answering.png') })
    await waitForAnswers()
    expect(await lastTurn().getByTestId('answer-label-left').textContent()).toBe('Answer 1')
    expect(await lastTurn().getByTestId('answer-label-right').textContent()).toBe('Answer 2')
    expect(await page.getByTestId('chat-title').textContent()).toBe('base vs tuned')
    if (SCREENSHOTS) await page.screenshot({ path: join(SCREENSHOTS, 'chat-blind.png') })

    await lastTurn().getByTestId('vote-left').click()
    await expect.poll(() => lastTurn().getByTestId('vote-result').count()).toBe(1)
    const leftName = (await lastTurn().getByTestId('answer-label-left').textContent())!
    const rightName = (await lastTurn().getByTestId('answer-label-right').textContent())!
    expect([leftName, rightName].sort()).toEqual(['base', 'tuned'])
    expect(await lastTurn().getByTestId('vote-result').textContent()).toContain(`${leftName} is better`)
    expect(await lastTurn().getByTestId('vote-left').count()).toBe(0)

    await page.getByTestId('chat-tab-winrates').click()
    await expect.poll(() => page.getByTestId('winrate-row').count()).toBe(1)
    const row = page.getByTestId('winrate-row')
    expect(await row.textContent()).toContain('base')
    expect(await row.textContent()).toContain('tuned')
    expect(await row.getByTestId('winrate-votes').textContent()).toBe('1')
    // X is base (the smaller id): one vote, won or lost, with its Wilson interval.
    expect(await row.getByTestId('winrate-rate').textContent()).toBe(leftName === 'base' ? '100% [21–100%]' : '0% [0–79%]')
    const rates = await call<WinRate[]>('chat.winRates', {})
    expect(rates).toHaveLength(1)
    expect(rates[0].votes).toBe(1)
    if (SCREENSHOTS) await page.screenshot({ path: join(SCREENSHOTS, 'chat-winrates.png') })
    await page.getByTestId('chat-tab-chat').click()
  })

  it('revises the left answer into a pair of a new dataset', async () => {
    const stored = await storedConversation()
    const turn = stored.history[0]
    expect(turn.user).toBe('Hello')
    const original = turn.left.text
    expect(original.length).toBeGreaterThan(0)

    await lastTurn().getByTestId('revise-left').click()
    const text = page.getByTestId('revise-text')
    // A textarea normalises line ends; the pair keeps the stored answer as it is.
    expect(await text.inputValue()).toBe(original.replace(/\r\n?/g, '\n'))
    const revised = 'Hello! How can I help you today?'
    await text.fill(revised)
    await expect.poll(() => page.getByTestId('revise-diff').getAttribute('data-ready')).toBe('true')
    expect(await page.locator('[data-testid="revise-diff"] [data-testid="token"][data-side="r"]').count()).toBeGreaterThan(0)
    await page.getByTestId('revise-dataset').selectOption('new')
    await page.getByTestId('revise-new-dataset').fill('from-chat')
    if (SCREENSHOTS) await page.screenshot({ path: join(SCREENSHOTS, 'chat-revise.png') })
    await page.getByTestId('revise-save').click()
    await expect.poll(() => page.getByTestId('revise-done').textContent()).toContain('from-chat')
    expect(await page.getByTestId('revise-text').count()).toBe(0)

    const datasets = await call<DatasetSummary[]>('datasets.list', {})
    const fromChat = datasets.find((d) => d.name === 'from-chat')!
    expect(fromChat).toBeDefined()
    const pairs = await call<PairPage>('pairs.list', { datasetId: fromChat.id })
    expect(pairs.total).toBe(1)
    expect(pairs.rows[0]).toMatchObject({ instruction: 'Hello', original, revised })
    // The conversation keeps the model's answer.
    expect((await storedConversation()).history[0].left.text).toBe(original)
  })

  it('evaluates base vs tuned on a dataset and exports the scores', async () => {
    await page.getByTestId('chat-tab-eval').click()
    await page.getByTestId('eval-model-a').selectOption(String(base.id))
    await page.getByTestId('eval-model-b').selectOption(String(tuned.id))
    await page.getByTestId('eval-dataset').selectOption(String(tinyId))
    await page.getByTestId('eval-split-all').check()
    await page.getByTestId('eval-run').click()
    await expect.poll(() => page.getByTestId('eval-result').count(), { timeout: 180_000 }).toBe(1)
    const rows = page.getByTestId('eval-result').getByTestId('eval-row')
    expect(await rows.count()).toBe(2)
    expect(await rows.nth(0).textContent()).toContain('base')
    expect(await rows.nth(1).textContent()).toContain('tuned')
    for (const i of [0, 1]) {
      expect(await rows.nth(i).getByTestId('eval-marginPerToken').textContent()).toMatch(/^[+−]?\d+\.\d{3}$|e/)
      expect(await rows.nth(i).getByTestId('eval-pplRevised').textContent()).toMatch(/^\d/)
      expect(await rows.nth(i).getByTestId('eval-pplOriginal').textContent()).toMatch(/^\d/)
      expect(await rows.nth(i).getByTestId('eval-preferenceAccuracy').textContent()).toMatch(/^\d+%$/)
    }
    expect(await page.getByTestId('eval-result').textContent()).toContain('24 pairs')
    await expect.poll(() => page.getByTestId('eval-past-row').count()).toBe(1)
    if (SCREENSHOTS) await page.screenshot({ path: join(SCREENSHOTS, 'chat-eval.png') })

    const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('eval-export-csv').click()])
    const saved = join(files.dir, 'eval.csv')
    await download.saveAs(saved)
    const lines = readFileSync(saved, 'utf8').trim().split('\n')
    expect(lines[0]).toMatch(/pair_id.*a_logp_revised.*b_logp_revised/)
    expect(lines.length - 1).toBe(24) // one row per pair, with both models' scores
  })

  it('compares a finished run: its base model as A, its tuned model (added on the way) as B', async () => {
    // A finished run of base whose final model folder is a copy of the demo model.
    const finalDir = join(files.dir, 'run-final')
    cpSync(DEMO_MODEL, finalDir, { recursive: true })
    const { presets } = await call<{ presets: Array<{ settings: TrainSettings }> }>('train.presets', { modelId: base.id })
    const runId = insertRun(app.services.db, {
      name: 'figa-run', datasetId: tinyId, selectionId: null, modelId: base.id, baseModel: base.path, method: 'figa', preset: null,
      settings: presets[0].settings, outDir: () => join(files.dir, 'run-out'),
    })
    updateRun(app.services.db, runId, { state: 'done', step: 4, totalSteps: 4, finalDir })

    await page.getByTestId('chat-tab-chat').click()
    await page.getByTestId('chat-new').click()
    await page.getByTestId('chat-compare-run').selectOption(String(runId))
    await expect.poll(() => page.getByTestId('chat-compare-note').textContent()).toContain('Added')
    const models = await call<ModelSummary[]>('models.list', {})
    const added = models.find((m) => m.path === finalDir)!
    expect(added).toBeDefined()
    await expect.poll(() => page.getByTestId('chat-model-b').inputValue()).toBe(String(added.id))
    expect(await page.getByTestId('chat-model-a').inputValue()).toBe(String(base.id))
    if (SCREENSHOTS) await page.screenshot({ path: join(SCREENSHOTS, 'chat-new.png') })
    await page.getByTestId('chat-blind').uncheck()
    await page.getByTestId('chat-create').click()
    await expect.poll(() => page.getByTestId('chat-title').textContent()).toBe(`base vs ${added.name}`)
    const runs = await call<Array<{ id: number; resultModelId: number | null }>>('runs.list', {})
    expect(runs.find((r) => r.id === runId)!.resultModelId).toBe(added.id)
  })

  it('deletes a conversation after confirming', async () => {
    const before = await page.getByTestId('chat-item').count()
    const first = page.locator('li').filter({ has: page.getByTestId('chat-item') }).first()
    await first.hover()
    await first.getByTestId('chat-delete').click()
    await page.getByTestId('chat-delete-yes').click()
    await expect.poll(() => page.getByTestId('chat-item').count()).toBe(before - 1)
    expect(await call<unknown[]>('chat.list', {})).toHaveLength(before - 1)
    expect((page as Page & { appErrors: string[] }).appErrors).toEqual([])
  })
})
