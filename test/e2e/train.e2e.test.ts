// The Train screen in real Chromium through the web host, training the demo model for real:
// the empty states, a short run started from the UI with Advanced overrides (live loss points,
// evaluations, checkpoints, "done"), a longer run cancelled and resumed from its checkpoint to
// its last step, two runs overlaid on the charts, adding a run to the models and deleting one.
import { existsSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { ImportReport, ModelSummary, RunDetail, RunMetrics, RunSummary } from '../../src-main/api/types'
import { launchChromium, openApp, startTestApp, type TestApp } from '../helpers/app'
import { tempDir, toJsonl } from '../helpers/temp'

let app: TestApp
let browser: Browser
let page: Page
const files = tempDir('figa-e2e-train-')
const DEMO_MODEL = resolve('resources/demo-model')
const SCREENSHOTS = process.env.FIGA_SCREENSHOT_DIR // e.g. /tmp: where to leave screenshots of the screen
const ctx = { host: 'cli' as const }
// Training the demo model on WASM on a busy 2-core machine: ~0.2–1 s a step, plus loading.
const RUN_TIMEOUT = 240_000

// 24 pairs, each revision a small, clear edit of the original.
const pairs: Array<[instruction: string, original: string, revised: string]> = [
  ['Name the capital of France.', 'The capital of France is Lyon.', 'The capital of France is Paris.'],
  ['What is two plus two?', 'Two plus two is five.', 'Two plus two is four.'],
  ['Which planet is closest to the sun?', 'Venus is closest to the sun.', 'Mercury is closest to the sun.'],
  ['How many legs does a spider have?', 'A spider has six legs.', 'A spider has eight legs.'],
  ['What colour is the sky on a clear day?', 'The sky is green on a clear day.', 'The sky is blue on a clear day.'],
  ['Boiling point of water at sea level?', 'Water boils at 90 degrees Celsius.', 'Water boils at 100 degrees Celsius.'],
  ['Who wrote Hamlet?', 'Hamlet was written by Dickens.', 'Hamlet was written by Shakespeare.'],
  ['What is the largest ocean?', 'The largest ocean is the Atlantic.', 'The largest ocean is the Pacific.'],
  ['How many days are in a week?', 'A week has five days.', 'A week has seven days.'],
  ['What gas do plants absorb?', 'Plants absorb oxygen from the air.', 'Plants absorb carbon dioxide from the air.'],
  ['What is the freezing point of water?', 'Water freezes at 10 degrees Celsius.', 'Water freezes at 0 degrees Celsius.'],
  ['Greet the user.', 'hey what do you want', 'Hello! How can I help you?'],
  ['What is the square root of nine?', 'The square root of nine is four.', 'The square root of nine is three.'],
  ['Which animal says moo?', 'The dog says moo.', 'The cow says moo.'],
  ['How many continents are there?', 'There are five continents.', 'There are seven continents.'],
  ['What is the opposite of hot?', 'The opposite of hot is warm.', 'The opposite of hot is cold.'],
  ['Translate "chat" from French.', 'Chat means dog.', 'Chat means cat.'],
  ['What do bees make?', 'Bees make milk.', 'Bees make honey.'],
  ['How many hours are in a day?', 'A day has twelve hours.', 'A day has twenty-four hours.'],
  ['Which is the tallest animal?', 'The elephant is the tallest animal.', 'The giraffe is the tallest animal.'],
  ['What is ice made of?', 'Ice is made of frozen milk.', 'Ice is made of frozen water.'],
  ['What shape has three sides?', 'A square has three sides.', 'A triangle has three sides.'],
  ['Which month follows June?', 'August follows June.', 'July follows June.'],
  ['How many wheels does a bicycle have?', 'A bicycle has three wheels.', 'A bicycle has two wheels.'],
]

const state = () => page.getByTestId('run-state').textContent()
const progressStep = async () => Number(await page.getByTestId('run-progress').getAttribute('data-step'))
const points = async (chart: string) => Number(await page.getByTestId(chart).getAttribute('data-points'))
const runs = () => app.services.call('runs.list', {}, ctx) as Promise<RunSummary[]>
const detail = (runId: number) => app.services.call('runs.get', { runId }, ctx) as Promise<RunDetail>
const logLines = async () => (await page.getByTestId('run-log').locator('.line').allTextContents()).map((l) => l.trim())

async function startRun(name: string, maxSteps: number): Promise<number> {
  const before = (await runs()).length
  await page.getByTestId('train-name').fill(name)
  if (!(await page.getByTestId('setting-maxSteps').isVisible())) await page.getByTestId('advanced').click()
  await page.getByTestId('setting-maxSteps').fill(String(maxSteps))
  await page.getByTestId('setting-evalEvery').fill('2')
  await page.getByTestId('setting-checkpointEvery').fill('2')
  await page.getByTestId('train-start').click()
  await expect.poll(async () => (await runs()).length).toBe(before + 1)
  const run = (await runs())[0]
  expect(run.name).toBe(name)
  await expect.poll(() => page.getByTestId('run-name').textContent()).toContain(name)
  return run.id
}

beforeAll(async () => {
  app = await startTestApp()
  browser = await launchChromium()
  page = await openApp(browser, app)
  await page.setViewportSize({ width: 1440, height: 900 })
})

afterAll(async () => {
  await browser?.close()
  await app?.stop()
  files.cleanup()
})

describe('Train screen', () => {
  it('says what to do without datasets or models, then offers the presets of the model', async () => {
    await page.getByRole('button', { name: 'Train', exact: true }).click()
    await expect.poll(() => page.getByTestId('train-no-datasets').textContent()).toContain('Datasets screen')
    expect(await page.getByTestId('train-no-models').textContent()).toContain('resources/demo-model')
    expect(await page.getByTestId('train-empty').textContent()).toContain('No runs yet')
    expect(await page.getByTestId('train-start').isDisabled()).toBe(true)

    const path = join(files.dir, 'tiny.jsonl')
    writeFileSync(path, toJsonl(pairs.map(([instruction, original_output, revised_output]) => ({ instruction, input: '', original_output, revised_output }))))
    const report = (await app.services.runJob('datasets.import', { fileId: app.services.files.registerPath(path).fileId, name: 'tiny' }, ctx)) as ImportReport
    expect(report.pairs).toBe(24)
    const model = (await app.services.call('models.add', { path: DEMO_MODEL }, ctx)) as ModelSummary

    // The panel follows datasets.changed / models.changed.
    await expect.poll(() => page.getByTestId('train-no-datasets').count()).toBe(0)
    await expect.poll(() => page.getByTestId('train-no-models').count()).toBe(0)
    expect(await page.getByTestId('train-dataset').inputValue()).toBe(String(report.datasetId))
    expect(await page.getByTestId('train-model').inputValue()).toBe(String(model.id))
    expect(await page.getByTestId('train-method').inputValue()).toBe('figa')
    const { recommended } = (await app.services.call('train.presets', { modelId: model.id, method: 'figa' }, ctx)) as { recommended: string }
    await expect.poll(() => page.getByTestId('train-preset').inputValue()).toBe(recommended)
    expect((await page.getByTestId('train-preset-description').textContent())!.length).toBeGreaterThan(10)
    await expect.poll(() => page.getByTestId('train-start').isEnabled()).toBe(true)
    if (SCREENSHOTS) await page.screenshot({ path: join(SCREENSHOTS, 'train-ready.png') })
  })

  it('starts a short run with Advanced overrides and draws its points live until done', async () => {
    await page.getByTestId('advanced').click()
    // Every setting is there, prefilled from the preset.
    for (const field of ['alpha', 'beta', 'gamma', 'tauOn', 'tau', 'bandOn', 'bandLo', 'bandHi', 'lr', 'schedule', 'warmupSteps', 'weightDecay', 'clipNorm', 'microBatch', 'accumulation', 'epochs', 'maxSteps', 'seed', 'maxLength', 'heldOut', 'evalEvery', 'checkpointEvery', 'loraOn', 'loraRank', 'loraAlpha', 'loraTargets', 'sharedPrefix', 'sparseHead', 'bucketing']) {
      expect(await page.getByTestId(`setting-${field}`).count(), field).toBe(1)
    }
    expect(await page.getByTestId('setting-alpha').inputValue()).toBe('1')
    expect(await page.getByTestId('setting-beta').inputValue()).toBe('0.5')
    // A value out of the contract's bounds is caught next to its field, before any call.
    const microBatch = await page.getByTestId('setting-microBatch').inputValue()
    await page.getByTestId('setting-microBatch').fill('0')
    await expect.poll(() => page.getByTestId('train-start').isDisabled()).toBe(true)
    expect(await page.getByText('at least 1').count()).toBe(1)
    await page.getByTestId('setting-microBatch').fill(microBatch)
    await expect.poll(() => page.getByTestId('train-start').isEnabled()).toBe(true)

    const runId = await startRun('short run', 6)
    // Only the changed fields were sent: the rest is the preset's.
    const run = await detail(runId)
    expect(run.settings).toMatchObject({ maxSteps: 6, evalEvery: 2, checkpointEvery: 2, alpha: 1, beta: 0.5, gamma: 0 })

    await expect.poll(() => points('chart-loss'), { timeout: RUN_TIMEOUT }).toBeGreaterThan(0)
    await expect.poll(state, { timeout: RUN_TIMEOUT }).toBe('done')
    await expect.poll(() => points('chart-loss')).toBe(6)
    expect(await progressStep()).toBe(6)
    expect(await points('chart-margin')).toBeGreaterThanOrEqual(3)
    const log = (await logLines()).join('\n')
    expect(log).toMatch(/step 6 \/ 6 {2}loss/)
    expect(log).toMatch(/eval @ step 2 /)
    expect(log).toMatch(/checkpoint @ step 2 →/)
    expect(await page.getByTestId('run-add-model').isVisible()).toBe(true)
    expect(await page.getByTestId('run-cancel').count()).toBe(0)
    expect(await page.getByTestId('run-resume').count()).toBe(0)
    expect((page as Page & { appErrors: string[] }).appErrors).toEqual([])
  }, RUN_TIMEOUT + 60_000)

  it('cancels a longer run, resumes it from its checkpoint and finishes it', async () => {
    const runId = await startRun('long run', 40)
    // Points arrive while it runs.
    await expect.poll(() => points('chart-loss'), { timeout: RUN_TIMEOUT }).toBeGreaterThanOrEqual(3)
    expect(await state()).toBe('running')
    const seen = await points('chart-loss')
    await expect.poll(() => points('chart-loss'), { timeout: RUN_TIMEOUT }).toBeGreaterThan(seen)
    await expect.poll(() => page.getByTestId('run-eta').textContent()).toMatch(/ETA (\d+[dhms]|<1s)/)
    expect(await state()).toBe('running')
    if (SCREENSHOTS) await page.screenshot({ path: join(SCREENSHOTS, 'train-running.png') })

    await page.getByTestId('run-cancel').click()
    await expect.poll(state, { timeout: 60_000 }).toBe('cancelled')
    const stoppedAt = await progressStep()
    expect(stoppedAt).toBeGreaterThanOrEqual(4)
    expect(stoppedAt).toBeLessThan(40)
    const cancelled = (await runs()).find((r) => r.id === runId)!
    expect(cancelled.lastCheckpoint).not.toBeNull()

    await page.getByTestId('run-resume').click()
    await expect.poll(state, { timeout: 30_000 }).toBe('running')
    await expect.poll(state, { timeout: RUN_TIMEOUT }).toBe('done')
    await expect.poll(progressStep).toBe(40)
    expect(await page.getByTestId('run-progress').textContent()).toContain('40 / 40')
    await expect.poll(() => points('chart-loss')).toBe(40)

    // It went on from its checkpoint, not from step 0: the first step after "resuming" follows it.
    const log = await logLines()
    const resumedAt = log.findIndex((l) => l.includes('resuming'))
    expect(resumedAt).toBeGreaterThan(0)
    const firstAfter = log.slice(resumedAt).find((l) => /step \d+ \/ 40 {2}loss/.test(l))!
    const firstStep = Number(/step (\d+) \//.exec(firstAfter)![1])
    expect(firstStep).toBeGreaterThan(1)
    expect(firstStep).toBeLessThanOrEqual(stoppedAt + 1)
    const [metrics] = (await app.services.call('runs.metrics', { runIds: [runId] }, ctx)) as RunMetrics[]
    expect(metrics.train.map((m) => m.step)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1))
    expect((await runs()).find((r) => r.id === runId)).toMatchObject({ state: 'done', step: 40 })
  }, 2 * RUN_TIMEOUT + 60_000)

  it('overlays two runs on the charts, one line each, named in the legend', async () => {
    const rows = page.getByTestId('run-row')
    await expect.poll(() => rows.count()).toBe(2)
    await page.getByTestId('overlay-toggle').nth(0).check()
    await page.getByTestId('overlay-toggle').nth(1).check()
    await expect.poll(() => page.getByTestId('overlay-note').textContent()).toContain('Comparing 2 runs')
    const legend = page.getByTestId('chart-loss').locator('.u-legend')
    await expect.poll(() => legend.textContent()).toContain('short run #')
    expect(await legend.textContent()).toContain('long run #')
    expect(await page.getByTestId('chart-margin').locator('.u-legend').textContent()).toContain('short run #')
    // The union of their steps: 1..40.
    await expect.poll(() => points('chart-loss')).toBe(40)
    if (SCREENSHOTS) await page.screenshot({ path: join(SCREENSHOTS, 'train-overlay.png'), fullPage: true })
    await page.getByRole('button', { name: 'Show the selected run only' }).click()
    await expect.poll(() => page.getByTestId('chart-loss').locator('.u-legend').textContent()).toContain('total')
  })

  it('adds a run to the models and deletes a run with its files', async () => {
    // Open the short run from the history and add its final model.
    await page.getByTestId('run-row').filter({ hasText: 'short run' }).click()
    await expect.poll(() => page.getByTestId('run-name').textContent()).toContain('short run')
    await expect.poll(() => points('chart-loss')).toBe(6)
    await page.getByTestId('run-add-model').click()
    await expect.poll(() => page.getByTestId('run-open-model').count(), { timeout: 60_000 }).toBe(1)
    const models = (await app.services.call('models.list', {}, ctx)) as ModelSummary[]
    expect(models.map((m) => m.name)).toContain('short run')

    // Delete the long run and its checkpoints.
    const long = (await runs()).find((r) => r.name === 'long run')!
    expect(existsSync(long.outDir)).toBe(true)
    await page.getByTestId('run-row').filter({ hasText: 'long run' }).click()
    await expect.poll(() => page.getByTestId('run-name').textContent()).toContain('long run')
    await page.getByTestId('run-delete').click()
    await page.getByTestId('delete-run-files').check()
    await page.getByTestId('delete-run-confirm').click()
    await expect.poll(() => page.getByTestId('run-row').count()).toBe(1)
    expect(existsSync(long.outDir)).toBe(false)
    await expect.poll(() => page.getByTestId('run-name').textContent()).toContain('short run')
    expect((await runs()).map((r) => r.name)).toEqual(['short run'])
    expect((page as Page & { appErrors: string[] }).appErrors).toEqual([])
  })
})
