// The first run of the app on its embedded demo, through the real UI in Chromium: an empty store
// seeded with the demo world (datasets `demo` and `demo-heldout`, model `demo-model`), then every
// screen a new user walks through — the datasets with their pair counts, the token signals of a
// demo pair on Review, the demo model on Models, a short FIGA run started from Train's defaults,
// and a side-by-side chat between the base model and the tuned one on a held-out style question.
// With FIGA_SCREENSHOT_DIR set it also takes the README's screenshots (datasets.png, review.png,
// models.png, train.png, chat.png).
import { join } from 'node:path'
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { DatasetSummary, ModelSummary, RunSummary, TokenizerInfo } from '../../src-main/api/types'
import { launchChromium, openApp, startTestApp, type TestApp } from '../helpers/app'

let app: TestApp
let browser: Browser
let page: Page
let demo: DatasetSummary
let heldout: DatasetSummary
let base: ModelSummary
let runId: number
const SCREENSHOTS = process.env.FIGA_SCREENSHOT_DIR // e.g. docs/screenshots: where to leave the README's screenshots
const ctx = { host: 'cli' as const }
const call = <T>(method: string, args: unknown) => app.services.call(method, args, ctx) as Promise<T>
// Training the demo model on WASM on a busy 2-core machine: ~0.2–1 s a step, plus loading.
// FIGA_DEMO_FULL_RUN=1 trains with the preset's whole budget, as a user's one click does (for the
// README's screenshots: a tuned model that has learned something); otherwise a short run.
const FULL_RUN = Boolean(process.env.FIGA_DEMO_FULL_RUN)
const RUN_TIMEOUT = FULL_RUN ? 900_000 : 240_000
const MAX_STEPS = 6

const appErrors = () => (page as Page & { appErrors: string[] }).appErrors
const nav = (screen: string) => page.getByRole('button', { name: screen, exact: true }).click()
const points = async (chart: string) => Number(await page.getByTestId(chart).getAttribute('data-points'))
const runs = () => call<RunSummary[]>('runs.list', {})

beforeAll(async () => {
  app = await startTestApp({ seedDemo: true })
  const datasets = await call<DatasetSummary[]>('datasets.list', {})
  demo = datasets.find((d) => d.name === 'demo')!
  heldout = datasets.find((d) => d.name === 'demo-heldout')!
  base = (await call<ModelSummary[]>('models.list', {})).find((m) => m.name === 'demo-model')!
  browser = await launchChromium()
  page = await openApp(browser, app)
  await page.setViewportSize({ width: 1440, height: 900 })
})

afterAll(async () => {
  await browser?.close()
  await app?.stop()
})

describe('First run on the embedded demo', () => {
  it('lists the demo datasets with their pair counts', async () => {
    expect(demo).toBeDefined()
    expect(heldout).toBeDefined()
    expect(demo.pairCount).toBeGreaterThan(0)
    expect(heldout.pairCount).toBeGreaterThan(0)

    await nav('Datasets')
    const items = page.getByTestId('dataset-item')
    await expect.poll(() => items.count()).toBe(2)
    for (const d of [demo, heldout]) {
      const item = items.filter({ has: page.locator('.name', { hasText: new RegExp(`^${d.name}$`) }) })
      await expect.poll(() => item.locator('.counts').textContent()).toBe(`${d.pairCount.toLocaleString('en-US')} pairs`)
    }
    // `demo` comes first and opens by itself, with its rows.
    await expect.poll(() => page.getByTestId('dataset-title').textContent()).toBe('demo')
    await expect.poll(() => page.getByTestId('page-info').textContent()).toContain(`of ${demo.pairCount.toLocaleString('en-US')}`)
    await expect.poll(() => page.getByTestId('pair-row').count()).toBeGreaterThan(0)
    if (SCREENSHOTS) await page.screenshot({ path: join(SCREENSHOTS, 'datasets.png') })
    expect(appErrors()).toEqual([])
  })

  it('reviews the token signals of a demo pair with the demo model tokenizer', async () => {
    const tokenizers = await call<TokenizerInfo[]>('tokenizers.list', {})
    const tokenizer = tokenizers.find((t) => t.label.startsWith('demo-model'))!
    expect(tokenizer).toBeDefined()

    await nav('Review')
    await expect.poll(() => page.getByTestId('review-dataset').inputValue()).toBe(String(demo.id))
    await page.getByTestId('review-tokenizer').selectOption(tokenizer.key)
    await page.getByTestId('compute-signals').click()
    await expect.poll(() => page.getByTestId('signals-ready').count(), { timeout: 120_000 }).toBe(1)
    await expect.poll(() => page.getByTestId('pair-list-item').count()).toBeGreaterThan(0)
    // The first pair opens by itself: its prompt above the token diff of its two responses.
    await expect.poll(() => page.getByTestId('pair-list-item').first().getAttribute('aria-selected')).toBe('true')
    await expect.poll(async () => (await page.getByTestId('pair-instruction').textContent())!.length).toBeGreaterThan(0)
    const tokens = (side: 'o' | 'r') => page.locator(`[data-testid="pair-view"] [data-testid="token"][data-side="${side}"]`)
    await expect.poll(() => tokens('r').count()).toBeGreaterThan(0)
    expect(await tokens('o').count()).toBeGreaterThan(0)
    expect(await page.locator('[data-testid="pair-view"] [data-testid="token"]:not([data-cls="same"])').count()).toBeGreaterThan(0)
    await expect.poll(() => page.locator('[data-testid="histogram"] canvas').count()).toBe(1)
    if (SCREENSHOTS) await page.screenshot({ path: join(SCREENSHOTS, 'review.png') })
    expect(appErrors()).toEqual([])
  }, 180_000)

  it('shows the demo model, registered on first start', async () => {
    expect(base).toBeDefined()
    await nav('Models')
    await expect.poll(() => page.getByTestId('model-item').count()).toBe(1)
    expect(await page.getByTestId('model-item').textContent()).toContain('demo-model')
    await expect.poll(() => page.getByTestId('model-title').textContent()).toBe('demo-model')
    expect(await page.getByTestId('models-empty').count()).toBe(0)
    expect(await page.locator('.facts').textContent()).toContain('LlamaForCausalLM')
    await expect.poll(() => page.getByTestId('engine-current').textContent(), { timeout: 30_000 }).toMatch(/\w+/)
    if (SCREENSHOTS) await page.screenshot({ path: join(SCREENSHOTS, 'models.png') })
    expect(appErrors()).toEqual([])
  })

  it('trains the demo model with FIGA from the defaults until done', async () => {
    await nav('Train')
    // Nothing to choose: the demo dataset, the demo model, FIGA and its recommended preset.
    await expect.poll(() => page.getByTestId('train-dataset').inputValue()).toBe(String(demo.id))
    await expect.poll(() => page.getByTestId('train-model').inputValue()).toBe(String(base.id))
    expect(await page.getByTestId('train-method').inputValue()).toBe('figa')
    const { recommended } = await call<{ recommended: string }>('train.presets', { modelId: base.id, method: 'figa' })
    await expect.poll(() => page.getByTestId('train-preset').inputValue()).toBe(recommended)
    await expect.poll(() => page.getByTestId('train-start').isEnabled()).toBe(true)

    // A short run: a few steps, evaluated and checkpointed along the way.
    await page.getByTestId('advanced').click()
    if (!FULL_RUN) {
      await page.getByTestId('setting-maxSteps').fill(String(MAX_STEPS))
      await page.getByTestId('setting-evalEvery').fill('2')
      await page.getByTestId('setting-checkpointEvery').fill('2')
    }
    await page.getByTestId('train-start').click()
    await expect.poll(async () => (await runs()).length).toBe(1)
    const run = (await runs())[0]
    runId = run.id
    expect(run).toMatchObject({ datasetId: demo.id, modelId: base.id, method: 'figa' })
    expect(run.name).toBe('FIGA demo-model on demo')

    await expect.poll(() => page.getByTestId('run-state').textContent(), { timeout: RUN_TIMEOUT }).toBe('done')
    await expect.poll(() => points('chart-loss')).toBe(FULL_RUN ? (await runs())[0].totalSteps : MAX_STEPS)
    expect(await points('chart-margin')).toBeGreaterThanOrEqual(1)
    // Close Advanced so that the charts show whole.
    await page.getByTestId('advanced').click()
    await expect.poll(() => page.getByTestId('setting-maxSteps').isVisible()).toBe(false)
    if (SCREENSHOTS) await page.screenshot({ path: join(SCREENSHOTS, 'train.png') })
    expect(appErrors()).toEqual([])
  }, RUN_TIMEOUT + 60_000)

  it('chats with the base and the tuned model side by side', async () => {
    await nav('Chat')
    await expect.poll(() => page.getByTestId('chat-empty').count()).toBe(1)
    await page.getByTestId('chat-new').click()
    // "Compare a run" adds the run's tuned model and puts it next to its base model.
    await page.getByTestId('chat-compare-run').selectOption(String(runId))
    await expect.poll(async () => (await runs())[0].resultModelId, { timeout: 60_000 }).not.toBeNull()
    const tuned = (await runs())[0].resultModelId!
    await expect.poll(() => page.getByTestId('chat-model-a').inputValue()).toBe(String(base.id))
    await expect.poll(() => page.getByTestId('chat-model-b').inputValue()).toBe(String(tuned))
    await page.getByTestId('chat-blind').uncheck()
    await page.getByTestId('chat-create').click()
    await expect.poll(() => page.getByTestId('chat-input').count()).toBe(1)
    const tunedName = (await call<ModelSummary[]>('models.list', {})).find((m) => m.id === tuned)!.name
    expect(await page.getByTestId('chat-title').textContent()).toBe(`demo-model vs ${tunedName}`)

    // Greedy answers, so that the screenshot is the same every time.
    const details = page.locator('details.sampling')
    await details.locator('summary').click()
    await page.getByTestId('chat-temperature').first().fill('0')
    await details.locator('summary').click()

    await page.getByTestId('chat-input').fill('What is the capital of Canada?')
    await page.getByTestId('chat-input').press('Enter')
    await expect.poll(() => page.getByTestId('turn').count()).toBe(1)
    // Both finished: Send is back and no answer streams.
    await expect.poll(() => page.getByTestId('chat-send').count(), { timeout: 120_000 }).toBe(1)
    await expect.poll(() => page.locator('[data-testid="turn"] .card.streaming').count(), { timeout: 120_000 }).toBe(0)
    const turn = page.getByTestId('turn').last()
    expect(await turn.getByTestId('answer-label-left').textContent()).toBe('demo-model')
    expect(await turn.getByTestId('answer-label-right').textContent()).toBe(tunedName)
    expect((await turn.getByTestId('answer-left').textContent())!.trim().length).toBeGreaterThan(0)
    expect((await turn.getByTestId('answer-right').textContent())!.trim().length).toBeGreaterThan(0)
    if (SCREENSHOTS) await page.screenshot({ path: join(SCREENSHOTS, 'chat.png') })
    expect(appErrors()).toEqual([])
  }, 180_000)
})
