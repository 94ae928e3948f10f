// The Datasets screen in real Chromium through the web host: import through the UI, see the
// rows, search, edit a revision, export, and the bad-row flow.
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { launchChromium, openApp, startTestApp, type TestApp } from '../helpers/app'
import { spaRecords, tempDir, toJsonl } from '../helpers/temp'

let app: TestApp
let browser: Browser
let page: Page
const files = tempDir('figa-e2e-files-')

beforeAll(async () => {
  app = await startTestApp()
  browser = await launchChromium()
  page = await openApp(browser, app)
})

afterAll(async () => {
  await browser?.close()
  await app?.stop()
  files.cleanup()
})

describe('Datasets screen', () => {
  it('imports a file through the UI and shows its rows', async () => {
    const records = spaRecords(120)
    records[5].revised_output = 'Naïve café — “quoted” × 2'
    const path = join(files.dir, 'support-chats.jsonl')
    writeFileSync(path, toJsonl(records))

    await page.getByRole('button', { name: 'Import…' }).click()
    await page.getByTestId('import-file').setInputFiles(path)
    await expect.poll(() => page.getByTestId('detected-shape').textContent()).toContain('SPA pairs')
    expect(await page.getByLabel('Dataset name').inputValue()).toBe('support-chats')
    await page.getByRole('button', { name: 'Import', exact: true }).click()
    await expect.poll(() => page.getByTestId('import-report').textContent()).toContain('Imported 120 rows')
    await page.getByRole('button', { name: 'Done' }).click()

    await expect.poll(() => page.getByTestId('dataset-title').textContent()).toBe('support-chats')
    await expect.poll(() => page.getByTestId('page-info').textContent()).toContain('1–50 of 120')
    expect(await page.getByTestId('pair-row').count()).toBe(50)
    await expect.poll(() => page.getByTestId('pair-row').nth(5).textContent()).toContain('Naïve café — “quoted” × 2')

    await page.getByRole('button', { name: 'Next ›' }).click()
    await expect.poll(() => page.getByTestId('page-info').textContent()).toContain('51–100 of 120')
  })

  it('searches, edits a revision and exports what it shows', async () => {
    await page.getByLabel('Search pairs').fill('Question 17:')
    await expect.poll(() => page.getByTestId('pair-row').count()).toBe(1)
    await page.getByTestId('pair-row').first().click()
    await page.getByLabel('Revised response').fill('An edited, better answer.')
    await page.getByRole('button', { name: 'Save' }).click()
    await expect.poll(() => page.getByTestId('pair-row').first().textContent()).toContain('An edited, better answer.')

    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Export JSONL' }).click()])
    const saved = join(files.dir, 'exported.jsonl')
    await download.saveAs(saved)
    const lines = readFileSync(saved, 'utf8').trim().split('\n').map((l) => JSON.parse(l))
    expect(lines).toHaveLength(120)
    expect(lines[17]).toMatchObject({ instruction: expect.stringContaining('Question 17:'), revised_output: 'An edited, better answer.' })
    expect(lines[5].revised_output).toBe('Naïve café — “quoted” × 2')
  })

  it('reports bad rows with their line and imports nothing until asked to skip them', async () => {
    const good = spaRecords(6, 200, 7)
    const text = toJsonl(good.slice(0, 2)) + '{"instruction": "broken", \n' + toJsonl(good.slice(2, 4)) + JSON.stringify({ instruction: 'no revision', input: '', original_output: 'x' }) + '\n' + toJsonl(good.slice(4))
    const path = join(files.dir, 'broken.jsonl')
    writeFileSync(path, text)

    await page.getByRole('button', { name: 'Import…' }).click()
    await page.getByTestId('import-file').setInputFiles(path)
    await page.getByRole('button', { name: 'Import', exact: true }).click()
    await expect.poll(() => page.getByTestId('import-report').textContent()).toContain('Nothing was imported')
    const bad = await page.getByTestId('bad-row').allTextContents()
    expect(bad).toHaveLength(2)
    expect(bad[0]).toContain('line 3')
    expect(bad[1]).toMatch(/line 6.*revised_output/)
    expect(app.services.db.prepare("SELECT count(*) FROM datasets WHERE name = 'broken'").pluck().get()).toBe(0)

    await page.getByRole('button', { name: /Import the 6 good rows/ }).click()
    await expect.poll(() => page.getByTestId('import-report').textContent()).toContain('Imported 6 rows')
    await page.getByRole('button', { name: 'Done' }).click()
    await expect.poll(() => page.getByTestId('dataset-title').textContent()).toBe('broken')
    expect((page as Page & { appErrors: string[] }).appErrors).toEqual([])
  })
})
