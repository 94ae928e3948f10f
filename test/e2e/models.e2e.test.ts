// The Models screen in real Chromium through the web host: the engine panel, adding the demo
// model through the UI (and refusing a folder with problems), generating with streamed tokens,
// the same text again with the same seed, stopping a long generation, and removing the model.
import { copyFileSync, cpSync, mkdirSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { launchChromium, openApp, startTestApp, type TestApp } from '../helpers/app'
import { tempDir } from '../helpers/temp'

let app: TestApp
let browser: Browser
let page: Page
const files = tempDir('figa-e2e-models-')
const DEMO_MODEL = resolve('resources/demo-model')
const SCREENSHOTS = process.env.FIGA_SCREENSHOT_DIR // e.g. /tmp: where to leave screenshots of the screen
const ctx = { host: 'cli' as const }

const output = () => page.getByTestId('generate-output').textContent()
const stats = () => page.getByTestId('generate-stats')

/** Records every distinct length the output takes from now on (a MutationObserver in the page). */
async function recordOutputLengths(): Promise<void> {
  await page.evaluate(() => {
    const w = window as unknown as { __lengths: number[]; __observer?: MutationObserver }
    w.__observer?.disconnect()
    w.__lengths = []
    const sample = () => {
      const el = document.querySelector('[data-testid="generate-output"]')
      const n = el?.textContent?.length ?? -1
      if (w.__lengths[w.__lengths.length - 1] !== n) w.__lengths.push(n)
    }
    w.__observer = new MutationObserver(sample)
    w.__observer.observe(document.body, { subtree: true, childList: true, characterData: true })
  })
}
const recordedLengths = () => page.evaluate(() => (window as unknown as { __lengths: number[] }).__lengths.filter((n) => n >= 0))

/** Starts a run with `start` and waits for it to finish: the output is emptied, then the stats line appears. */
async function runGeneration(start: () => Promise<void>, timeout = 60_000): Promise<string> {
  await recordOutputLengths()
  await start()
  await expect.poll(async () => (await recordedLengths()).includes(0)).toBe(true)
  return waitForStats(timeout)
}

async function waitForStats(timeout = 60_000): Promise<string> {
  await expect.poll(() => stats().count(), { timeout }).toBe(1)
  return (await stats().textContent())!
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

describe('Models screen', () => {
  it('shows the engine and explains how to add a model', async () => {
    await page.getByRole('button', { name: 'Models', exact: true }).click()
    await expect.poll(() => page.getByTestId('models-empty').textContent()).toContain('Hugging Face model folder')
    expect(await page.getByTestId('models-empty').textContent()).toContain('TinyLlama')
    await expect.poll(() => page.getByTestId('engine-current').textContent(), { timeout: 30_000 }).toMatch(/\w+/)
    expect(await page.getByTestId('engine-backend').inputValue()).toBe('auto')
    const autoBackend = (await page.getByTestId('engine-current').textContent())!
    // Choosing a backend switches the engine; auto goes back to the best available one.
    await page.getByTestId('engine-backend').selectOption('cpu')
    await expect.poll(() => page.getByTestId('engine-current').textContent(), { timeout: 30_000 }).toBe('cpu')
    await page.getByTestId('engine-backend').selectOption('auto')
    await expect.poll(() => page.getByTestId('engine-current').textContent(), { timeout: 30_000 }).toBe(autoBackend)
    if (SCREENSHOTS) await page.screenshot({ path: join(SCREENSHOTS, 'models-empty.png') })
  })

  it('refuses a folder with problems: they are listed and Add stays disabled', async () => {
    const bad = join(files.dir, 'only-config')
    mkdirSync(bad)
    copyFileSync(join(DEMO_MODEL, 'config.json'), join(bad, 'config.json'))

    await page.getByTestId('add-model').click()
    await page.getByTestId('model-path').fill(bad)
    await page.getByTestId('inspect-model').click()
    await expect.poll(() => page.getByTestId('model-problems').count()).toBe(1)
    const problems = await page.getByTestId('model-problems').locator('li').allTextContents()
    expect(problems.length).toBeGreaterThan(0)
    expect(problems.join(' ')).toMatch(/safetensors|tokenizer/)
    expect(await page.getByTestId('confirm-add-model').isDisabled()).toBe(true)

    // A relative path is refused before asking the app.
    await page.getByTestId('model-path').fill('models/demo')
    await page.getByTestId('inspect-model').click()
    await expect.poll(() => page.getByTestId('inspect-error').textContent()).toContain('absolute path')
    expect(await page.getByTestId('confirm-add-model').isDisabled()).toBe(true)
    await page.getByRole('button', { name: 'Cancel' }).click()
    expect(await page.getByTestId('model-path').count()).toBe(0)
  })

  it('adds the demo model through the dialog', async () => {
    await page.getByTestId('add-model').click()
    await page.getByTestId('model-path').fill(DEMO_MODEL)
    await page.getByTestId('model-path').press('Enter')
    await expect.poll(() => page.getByTestId('inspect-architecture').textContent()).toContain('LlamaForCausalLM')
    expect(await page.getByTestId('model-problems').count()).toBe(0)
    expect(await page.getByTestId('model-ok').count()).toBe(1)
    expect(await page.getByTestId('model-inspection').textContent()).toContain('config.json')
    if (SCREENSHOTS) await page.screenshot({ path: join(SCREENSHOTS, 'models-add.png') })

    // Editing the path asks for a new check before Add.
    await page.getByTestId('model-path').fill(DEMO_MODEL + '/')
    expect(await page.getByTestId('confirm-add-model').isDisabled()).toBe(true)
    await page.getByTestId('model-path').fill(DEMO_MODEL)
    await page.getByTestId('inspect-model').click()
    await expect.poll(() => page.getByTestId('confirm-add-model').isEnabled()).toBe(true)
    await page.getByTestId('confirm-add-model').click()

    await expect.poll(() => page.getByTestId('model-item').count()).toBe(1)
    expect(await page.getByTestId('model-item').textContent()).toContain('demo-model')
    await expect.poll(() => page.getByTestId('model-title').textContent()).toBe('demo-model')
    expect(await page.getByTestId('models-empty').count()).toBe(0)
  })

  it('shows an error from models.add inline (the folder is added already)', async () => {
    await page.getByTestId('add-model').click()
    await page.getByTestId('model-path').fill(DEMO_MODEL)
    await page.getByTestId('inspect-model').click()
    await expect.poll(() => page.getByTestId('confirm-add-model').isEnabled()).toBe(true)
    await page.getByTestId('confirm-add-model').click()
    await expect.poll(() => page.getByTestId('add-model-error').textContent()).toContain('added already')
    await page.getByRole('button', { name: 'Cancel' }).click()
    expect(await page.getByTestId('model-item').count()).toBe(1)
  })

  it('streams a generation token by token and shows its stats', async () => {
    await page.getByTestId('model-item').first().click()
    await page.getByTestId('generate-prompt').fill('Say hello to the world.')
    await page.getByTestId('seed').fill('7')
    await page.getByTestId('max-new-tokens').fill('24')
    const line = await runGeneration(() => page.getByTestId('generate-button').click())

    const lengths = await recordedLengths()
    const text = (await output())!
    expect(text.length).toBeGreaterThan(0)
    // The output grew in steps as tokens arrived (appended, never rewritten), not all at the end.
    // The UI repaints at most once a frame, so a very fast backend shows fewer, larger steps: on a
    // busy 2-core machine this run shows about ten.
    const growing = lengths.filter((n) => n > 0)
    const seen = `output lengths seen: ${lengths.join(', ')}`
    expect(growing.length, seen).toBeGreaterThanOrEqual(2)
    expect(growing.every((n, i) => i === 0 || n > growing[i - 1]), seen).toBe(true)
    expect(growing[growing.length - 1]).toBe(text.length)
    expect(line).toMatch(/(eos|length|stop)/)
    expect(line).toMatch(/\d+ tokens/)
    expect(line).toMatch(/prompt \d+ tokens/)
    expect(line).toMatch(/prefill \d+/)
    expect(line).toMatch(/tokens\/s/)
    expect(line).toContain('seed 7')
    if (SCREENSHOTS) await page.screenshot({ path: join(SCREENSHOTS, 'models-generate.png') })
    // The only failed request so far is the refused duplicate add (409), which the dialog showed.
    expect((page as Page & { appErrors: string[] }).appErrors.filter((e) => !e.includes('409'))).toEqual([])
  })

  it('gives the same text with the same seed (Ctrl+Enter generates)', async () => {
    const first = (await output())!
    await page.getByTestId('generate-prompt').focus()
    await runGeneration(() => page.keyboard.press('Control+Enter'))
    expect(await output()).toBe(first)
  })

  it('stops a long generation: the finish reason is "aborted"', async () => {
    // Greedy decoding of this prompt runs to the 400-token limit (the demo model never picks EOS here).
    await page.getByTestId('generate-template').selectOption('raw')
    await page.getByTestId('temperature').fill('0')
    await page.getByTestId('max-new-tokens').fill('400')
    await page.getByTestId('generate-prompt').fill('Once upon a time')
    // Press Stop from inside the page as soon as the first text shows: a fast backend finishes
    // 400 tokens in well under a second, quicker than a round trip from the test could react.
    await page.evaluate(() => {
      let pressed = false
      const observer = new MutationObserver(() => {
        const stop = document.querySelector<HTMLButtonElement>('[data-testid="stop-button"]')
        const text = document.querySelector('[data-testid="generate-output"]')?.textContent ?? ''
        if (!pressed && stop && text.length > 0) {
          pressed = true
          stop.click()
          observer.disconnect()
        }
      })
      observer.observe(document.body, { subtree: true, childList: true, characterData: true })
    })
    const line = await runGeneration(() => page.getByTestId('generate-button').click())
    expect(await page.getByTestId('finish-reason').textContent()).toBe('aborted')
    const tokens = Number(/(\d+) tokens/.exec(line)![1])
    expect(tokens).toBeGreaterThan(0)
    expect(tokens).toBeLessThan(400)
    expect((await output())!.length).toBeGreaterThan(0)
    expect(await page.getByTestId('generate-button').isEnabled()).toBe(true)
    if (SCREENSHOTS) await page.screenshot({ path: join(SCREENSHOTS, 'models-stopped.png') })
  })

  it('follows models added elsewhere, and removes a model after confirming', async () => {
    const copy = join(files.dir, 'second-model')
    cpSync(DEMO_MODEL, copy, { recursive: true })
    writeFileSync(join(copy, 'README.md'), 'a copy of the demo model\n')
    await app.services.call('models.add', { path: copy, name: 'second' }, ctx)
    await expect.poll(() => page.getByTestId('model-item').count()).toBe(2)

    await page.getByTestId('model-item').filter({ hasText: 'second' }).click()
    await expect.poll(() => page.getByTestId('model-title').textContent()).toBe('second')
    await page.getByTestId('remove-model').click()
    await page.getByTestId('confirm-remove-model').click()
    await expect.poll(() => page.getByTestId('model-item').count()).toBe(1)
    await expect.poll(() => page.getByTestId('model-title').textContent()).toBe('demo-model')
  })
})
