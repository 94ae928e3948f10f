// The Review screen in real Chromium through the web host: compute signals with the byte-level
// tokenizer, walk the pairs with j/k, retune β and see the weighted-token count follow, edit a
// revision with a live diff, save it, and exclude a pair.
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { ImportReport, PairRow, PairSignalSummary } from '../../src-main/api/types'
import { launchChromium, openApp, startTestApp, type TestApp } from '../helpers/app'
import { tempDir, toJsonl } from '../helpers/temp'

let app: TestApp
let browser: Browser
let page: Page
let datasetId: number
const files = tempDir('figa-e2e-review-')
const TOKENIZER = 'builtin:byte'
const ctx = { host: 'cli' as const }
const SCREENSHOTS = process.env.FIGA_SCREENSHOT_DIR // e.g. /tmp: where to leave screenshots of the screen

const records = [
  { instruction: 'Name the capital of France.', input: '', original_output: 'The capital of France is Lyon.', revised_output: 'The capital of France is Paris.' },
  { instruction: 'Add two and two.', input: '2 + 2', original_output: 'The sum is 5, I think.', revised_output: 'The sum is 4.' },
  { instruction: 'Greet the user politely.', input: '', original_output: 'hey what do you want', revised_output: 'Hello! How can I help you today?' },
  { instruction: 'List three primary colours.', input: '', original_output: 'Red and green.', revised_output: 'Red, green and blue.' },
  { instruction: 'Translate "chat" from French.', input: 'chat', original_output: 'It means dog, obviously, in every context.', revised_output: 'It means cat.' },
]

const visibleTokens = (selector = '') => page.locator(`[data-testid="pair-view"] [data-testid="token"]${selector}`)
const openPairId = async () => Number(await page.getByTestId('pair-view').getAttribute('data-pair-id'))
const weightedCount = async () => Number((await page.getByTestId('weighted-count').textContent())!.replace(/[^0-9]/g, ''))
const stored = (pairId: number) => app.services.call('pairs.get', { pairId }, ctx) as Promise<PairRow>

beforeAll(async () => {
  app = await startTestApp()
  const path = join(files.dir, 'rev.jsonl')
  writeFileSync(path, toJsonl(records))
  const report = (await app.services.runJob('datasets.import', { fileId: app.services.files.registerPath(path).fileId, name: 'rev' }, ctx)) as ImportReport
  datasetId = report.datasetId!
  browser = await launchChromium()
  page = await openApp(browser, app)
  await page.setViewportSize({ width: 1440, height: 900 })
})

afterAll(async () => {
  await browser?.close()
  await app?.stop()
  files.cleanup()
})

describe('Review screen', () => {
  it('computes signals with the byte tokenizer and lists the pairs', async () => {
    await page.getByRole('button', { name: 'Review', exact: true }).click()
    await expect.poll(() => page.getByTestId('review-dataset').inputValue()).toBe(String(datasetId))
    await page.getByTestId('review-tokenizer').selectOption(TOKENIZER)
    await page.getByTestId('compute-signals').click()
    // Computing runs in a worker: wait for its end, then every pair is listed with its signal.
    await expect.poll(() => page.getByTestId('signals-ready').count(), { timeout: 30_000 }).toBe(1)
    await expect.poll(() => page.getByTestId('pair-list-item').count()).toBe(records.length)
    await expect.poll(() => page.locator('[data-testid="pair-list-item"][data-kept="true"]').count()).toBe(records.length)
    await expect.poll(() => weightedCount()).toBeGreaterThan(0)
    // The first pair opens by itself, with its prompt above the diff.
    await expect.poll(() => page.getByTestId('pair-list-item').first().getAttribute('aria-selected')).toBe('true')
    await expect.poll(() => page.getByTestId('pair-instruction').textContent()).toBe(records[0].instruction)
    expect(await visibleTokens('[data-cls="substituted"]').count()).toBeGreaterThan(0)
    expect(await page.locator('[data-testid="histogram"] canvas').count()).toBe(1)
    // The tokenizer choice is remembered.
    expect(await page.evaluate(() => localStorage.getItem('figa.review.tokenizer'))).toBe(TOKENIZER)
  })

  it('moves through the pairs with j and k', async () => {
    await page.getByTestId('pair-list-item').first().click()
    const first = await openPairId()
    await page.keyboard.press('j')
    await expect.poll(() => page.getByTestId('pair-list-item').nth(1).getAttribute('aria-selected')).toBe('true')
    expect(await page.getByTestId('pair-list-item').first().getAttribute('aria-selected')).toBe('false')
    await expect.poll(() => page.getByTestId('pair-instruction').textContent()).toBe(records[1].instruction)
    await expect.poll(() => page.getByTestId('pair-input').textContent()).toBe(records[1].input)
    expect(await openPairId()).not.toBe(first)
    await page.keyboard.press('j')
    await expect.poll(() => page.getByTestId('pair-instruction').textContent()).toBe(records[2].instruction)
    await page.keyboard.press('k')
    await page.keyboard.press('k')
    await expect.poll(() => page.getByTestId('pair-list-item').first().getAttribute('aria-selected')).toBe('true')
    await expect.poll(() => openPairId()).toBe(first)
  })

  it('recounts weighted tokens and recolours the pair as β moves', async () => {
    const before = await weightedCount()
    expect(before).toBeGreaterThan(0)
    const penalised = visibleTokens('[data-side="o"][data-cls="substituted"]').first()
    expect(Number(await penalised.getAttribute('data-weight'))).toBe(0.5)

    await page.getByTestId('slider-beta').fill('0')
    await expect.poll(() => weightedCount()).toBeLessThan(before)
    expect(Number(await penalised.getAttribute('data-weight'))).toBe(0)
    // α still rewards the revision.
    expect(Number(await visibleTokens('[data-side="r"][data-cls="substituted"]').first().getAttribute('data-weight'))).toBe(1)

    await page.getByTestId('slider-beta').fill('0.5')
    await expect.poll(() => weightedCount()).toBe(before)
    expect(Number(await penalised.getAttribute('data-weight'))).toBe(0.5)

    // γ > 0 weights unchanged ŷ tokens too.
    await page.getByTestId('slider-gamma').fill('0.2')
    await expect.poll(() => weightedCount()).toBeGreaterThan(before)
    expect(Number(await visibleTokens('[data-side="r"][data-cls="same"]').first().getAttribute('data-weight'))).toBe(0.2)
    await page.getByTestId('slider-gamma').fill('0')
    await expect.poll(() => weightedCount()).toBe(before)
  })

  it('inspects a token on hover and shows the pair inline', async () => {
    await visibleTokens('[data-side="r"][data-cls="substituted"]').first().hover()
    await expect.poll(() => page.getByTestId('token-inspector').textContent()).toMatch(/weight\s*1\.00/)
    await page.getByTestId('mode-inline').click()
    await expect.poll(() => page.locator('[data-testid="pair-view"] .subst').count()).toBeGreaterThan(0)
    await page.getByTestId('mode-side').click()
    await page.mouse.move(5, 5)
  })

  it('edits a revision with a live diff and saves it', async () => {
    const pairId = await openPairId()
    const addedBefore = await visibleTokens('[data-side="r"][data-cls="added"]').count()
    await page.keyboard.press('e')
    const editor = page.getByTestId('edit-revision')
    await expect.poll(() => editor.inputValue()).toBe(records[0].revised_output) // the 'e' did not land in it
    const revised = 'The capital of France is Paris, a city of two million people.'
    await editor.fill(revised)
    await expect.poll(() => visibleTokens('[data-side="r"][data-cls="added"]').count()).toBeGreaterThan(addedBefore + 10)
    expect((await stored(pairId)).revised).toBe(records[0].revised_output) // nothing saved yet
    if (SCREENSHOTS) await page.screenshot({ path: join(SCREENSHOTS, 'review-editing.png') })

    await page.getByTestId('save-revision').click()
    await expect.poll(async () => (await stored(pairId)).revised).toBe(revised)
    await expect.poll(() => page.getByTestId('edit-revision').count()).toBe(0)
    // The stored signals follow the edit.
    await expect.poll(() => visibleTokens('[data-side="r"][data-cls="added"]').count(), { timeout: 30_000 }).toBeGreaterThan(addedBefore + 10)
    await expect.poll(() => page.getByTestId('signals-ready').count(), { timeout: 30_000 }).toBe(1)
  })

  it('cancels an edit with Esc', async () => {
    const pairId = await openPairId()
    const before = (await stored(pairId)).revised
    await page.keyboard.press('e')
    await page.getByTestId('edit-revision').fill('Something else entirely.')
    await page.keyboard.press('Escape')
    await expect.poll(() => page.getByTestId('edit-revision').count()).toBe(0)
    expect((await stored(pairId)).revised).toBe(before)
  })

  it('excludes the open pair with x and includes it again', async () => {
    const pairId = await openPairId()
    const keptBefore = await weightedCount()
    await page.keyboard.press('x')
    await expect.poll(() => page.getByTestId('exclude-state').textContent()).toContain('Excluded')
    const summary = async () => {
      const r = (await app.services.call('signals.pairs', { datasetId, tokenizer: TOKENIZER, show: 'all' }, ctx)) as { rows: PairSignalSummary[] }
      return r.rows.find((x) => x.pairId === pairId)!
    }
    await expect.poll(async () => (await summary()).excluded).toBe(true)
    expect((await summary()).kept).toBe(false)
    // Training would no longer see its tokens.
    await expect.poll(() => weightedCount()).toBeLessThan(keptBefore)
    await expect.poll(() => page.locator(`[data-testid="pair-list-item"][data-pair-id="${pairId}"]`).getAttribute('data-excluded')).toBe('true')

    await page.keyboard.press('x')
    await expect.poll(() => page.getByTestId('exclude-state').textContent()).toContain('Kept')
    await expect.poll(async () => (await summary()).excluded).toBe(false)
    await expect.poll(() => weightedCount()).toBe(keptBefore)
    if (SCREENSHOTS) await page.screenshot({ path: join(SCREENSHOTS, 'review.png') })
    expect((page as Page & { appErrors: string[] }).appErrors).toEqual([])
  })
})
