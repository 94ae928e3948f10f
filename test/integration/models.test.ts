// Models at the service level: add a Hugging Face folder, validation messages, the backend,
// and generation in a worker with streamed tokens, seeds and cancel.
import { cpSync, mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { EngineInfo, GenerationResult, ModelInspection, ModelSummary, TokenizerInfo } from '../../src-main/api/types'
import { createServices, type Services } from '../../src-main/services'
import { tempDir } from '../helpers/temp'

const ctx = { host: 'cli' as const }
const demoModel = join(import.meta.dirname, '..', '..', 'resources', 'demo-model')
const t = tempDir('figa-models-')
let services: Services
let model: ModelSummary

beforeAll(async () => {
  services = await createServices({ dataDir: join(t.dir, 'data') })
})
afterAll(async () => {
  await services?.close()
  t.cleanup()
})

describe('models', () => {
  it('inspects a folder and explains what is missing', async () => {
    const ok = (await services.call('models.inspect', { path: demoModel }, ctx)) as ModelInspection
    expect(ok).toMatchObject({ ok: true, architecture: 'LlamaForCausalLM', modelType: 'llama', paramCount: 1_840_128, dtype: 'F32', problems: [] })

    const broken = join(t.dir, 'broken')
    mkdirSync(broken)
    writeFileSync(join(broken, 'config.json'), JSON.stringify({ model_type: 'mamba' }))
    const bad = (await services.call('models.inspect', { path: broken }, ctx)) as ModelInspection
    expect(bad.ok).toBe(false)
    expect(bad.problems.join('\n')).toMatch(/mamba/)
    expect(bad.problems.join('\n')).toMatch(/tokenizer\.json is missing/)
    await expect(services.call('models.add', { path: broken }, ctx)).rejects.toMatchObject({ code: 'invalid_argument' })
    await expect(services.call('models.inspect', { path: 'relative/dir' }, ctx)).rejects.toThrow(/absolute/)
  })

  it('adds a model once and offers its tokenizer', async () => {
    const folder = join(t.dir, 'demo')
    cpSync(demoModel, folder, { recursive: true })
    model = (await services.call('models.add', { path: folder }, ctx)) as ModelSummary
    expect(model).toMatchObject({ name: 'demo', architecture: 'LlamaForCausalLM', hasChatTemplate: true })
    await expect(services.call('models.add', { path: folder }, ctx)).rejects.toThrow(/added already/)
    const tokenizers = (await services.call('tokenizers.list', {}, ctx)) as TokenizerInfo[]
    expect(tokenizers.map((k) => k.key)).toContain(`dir:${folder}`)
  })

  it('reports the backend models run on', async () => {
    const info = (await services.call('engine.info', {}, ctx)) as EngineInfo
    expect(info.preference).toBe('auto')
    expect(['wasm', 'tensorflow', 'cpu']).toContain(info.backend)
    expect(info.detail.length).toBeGreaterThan(5)
  })

  it('generates in a worker, streams tokens, and repeats itself for a seed', async () => {
    const tokens: string[] = []
    const off = services.events.on('generate.token', (e) => tokens.push(e.text))
    const args = { modelId: model.id, prompt: 'Say hello.', maxNewTokens: 12, seed: 7, temperature: 1 }
    const first = (await services.runJob('generate.start', args, ctx)) as GenerationResult
    off()
    expect(first.tokens).toBeGreaterThan(0)
    expect(first.promptTokens).toBeGreaterThan(25) // the Alpaca template around the prompt (BPE tokens)
    expect(tokens.join('')).toBe(first.text)
    const again = (await services.runJob('generate.start', args, ctx)) as GenerationResult
    expect(again.text).toBe(first.text)
    const chat = (await services.runJob('generate.start', { ...args, template: 'chat' }, ctx)) as GenerationResult
    expect(chat.promptTokens).toBeLessThan(first.promptTokens)
  })

  it('stops a generation when cancelled', async () => {
    let cancelled = false
    const off = services.events.on('generate.token', (e) => {
      if (e.index === 3 && !cancelled) {
        cancelled = true
        services.jobs.cancel(e.jobId)
      }
    })
    const result = (await services.runJob('generate.start', { modelId: model.id, prompt: 'Go on.', maxNewTokens: 400, temperature: 1, seed: 1 }, ctx).catch((e) => e)) as GenerationResult | Error
    off()
    expect(cancelled).toBe(true)
    if (result instanceof Error) expect(result).toMatchObject({ code: 'cancelled' })
    else expect(result.finishReason).toBe('aborted')
  })
})
