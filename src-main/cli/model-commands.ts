// figa models / generate / logits / engine: the model engine from the command line.
import { existsSync, statSync } from 'node:fs'
import { resolve } from 'node:path'
import { Command, Option } from 'commander'
import { ApiError } from '../api/errors'
import type { BackendPreference, EngineInfo, GenerationResult, GenerationToken, ModelInspection, ModelSummary } from '../api/types'
import type { Services } from '../services'
import { backendPreference } from '../services/models'
import { table } from './output'
import { parseIds, parseInteger, parseNumber } from './args'
import { findModel, modelOrFolder } from './lookup'

const ctx = { host: 'cli' as const }
type Open = () => Promise<Services>

export function addModelCommands(program: Command, open: Open): void {
  const models = program.command('models').description('add, list and remove models (Hugging Face folders: GPT-2 and Llama families)')

  models
    .command('list', { isDefault: true })
    .description('list the models added to the app')
    .option('--json', 'print JSON')
    .action(async (o: { json?: boolean }) => {
      const services = await open()
      const list = (await services.call('models.list', {}, ctx)) as ModelSummary[]
      if (o.json) return void process.stdout.write(JSON.stringify(list, null, 2) + '\n')
      if (list.length === 0) return void process.stdout.write('no models yet: figa models add DIR\n')
      process.stdout.write(
        table(['id', 'name', 'architecture', 'params', 'dtype', 'size', 'path'], list.map((m) => [m.id, m.name, m.architecture, formatParams(m.paramCount), m.dtype, formatBytes(m.sizeBytes), m.path])) + '\n',
      )
    })

  models
    .command('add')
    .description('add a model folder (config.json, model.safetensors or shards + index, tokenizer.json)')
    .argument('<dir>', 'the model folder')
    .option('--name <name>', 'a name for it (default: the folder name)')
    .action(async (dir: string, o: { name?: string }) => {
      const services = await open()
      const inspection = (await services.call('models.inspect', { path: resolve(dir) }, ctx)) as ModelInspection
      for (const w of inspection.warnings) process.stderr.write(`warning: ${w}\n`)
      if (!inspection.ok) {
        process.stderr.write(`${inspection.path} cannot be added:\n${inspection.problems.map((p) => `  - ${p}`).join('\n')}\n`)
        process.exitCode = 1
        return
      }
      const m = (await services.call('models.add', { path: inspection.path, name: o.name }, ctx)) as ModelSummary
      process.stdout.write(`added "${m.name}": ${m.architecture}, ${formatParams(m.paramCount)} parameters, ${m.dtype}, ${formatBytes(m.sizeBytes)}\n`)
    })

  models
    .command('remove')
    .description('forget a model (its folder is not touched)')
    .argument('<model>', 'model name or id')
    .action(async (name: string) => {
      const services = await open()
      const m = await findModel(services, name)
      await services.call('models.remove', { modelId: m.id }, ctx)
      process.stdout.write(`removed "${m.name}"\n`)
    })

  program
    .command('engine')
    .description('show the TF.js backend models run on, or choose it')
    .addOption(new Option('--set <backend>', 'auto: tfjs-node-gpu, tfjs-node, WASM, then CPU').choices(['auto', 'tensorflow', 'wasm', 'cpu']))
    .action(async (o: { set?: BackendPreference }) => {
      const services = await open()
      const info = (o.set ? await services.call('engine.setBackend', { preference: o.set }, ctx) : await services.call('engine.info', {}, ctx)) as EngineInfo
      process.stdout.write(`backend ${info.backend} (preference ${info.preference}, ${info.threads} thread${info.threads === 1 ? '' : 's'}${info.simd ? ', SIMD' : ''})\n${info.detail}\n`)
    })

  program
    .command('generate')
    .description('generate a response, streamed to the terminal')
    .requiredOption('--model <dir|name>', 'a model folder, or the name of an added model')
    .argument('<prompt>', 'the instruction')
    .option('--input <text>', "Alpaca's input (context) for the instruction", '')
    .addOption(new Option('--template <t>', 'prompt format').choices(['alpaca', 'chat', 'raw']).default('alpaca'))
    .option('--max-new <n>', 'tokens to generate at most', parseInteger, 128)
    .option('--temperature <t>', '0 = greedy', parseNumber, 0.7)
    .option('--top-k <k>', '0 = off', parseInteger, 0)
    .option('--top-p <p>', '1 = off', parseNumber, 0.95)
    .option('--repetition-penalty <r>', '1 = off', parseNumber, 1)
    .option('--seed <s>', 'seed for reproducible sampling', parseInteger)
    .option('--stop <text...>', 'stop when one of these is generated')
    .action(async (prompt: string, o: GenerateOptions) => {
      const services = await open()
      const model = await modelOrFolder(services, o.model)
      const request = {
        prompt, input: o.input, template: o.template, maxNewTokens: o.maxNew, temperature: o.temperature, topK: o.topK, topP: o.topP,
        repetitionPenalty: o.repetitionPenalty, seed: o.seed, stop: o.stop ?? [],
      }
      // Tokens stream as events: listen before the job starts, keep only this job's.
      let jobId: string | null = null
      const early: GenerationToken[] = []
      const off = services.events.on('generate.token', (e) => {
        if (jobId === null) early.push(e)
        else if (e.jobId === jobId) process.stdout.write(e.text)
      })
      const onInterrupt = () => jobId && services.jobs.cancel(jobId)
      process.once('SIGINT', onInterrupt)
      try {
        if ('id' in model) {
          jobId = ((await services.call('generate.start', { modelId: model.id, ...request }, ctx)) as { jobId: string }).jobId
        } else {
          // A folder that is not added: the same task, started directly.
          jobId = services.jobs.start('generate.start', `Generate with ${model.path}`, 'generate', { preference: backendPreference(services.db), modelDir: model.path, ...request }).jobId
        }
        for (const e of early.splice(0)) if (e.jobId === jobId) process.stdout.write(e.text)
        const r = (await services.jobs.wait(jobId)) as GenerationResult
        process.stdout.write('\n')
        process.stderr.write(`[${r.finishReason} · ${r.tokens} tokens · prompt ${r.promptTokens} tokens · prefill ${r.prefillMs.toFixed(0)} ms · ${r.tokensPerSecond.toFixed(1)} tokens/s · ${r.backend}]\n`)
      } finally {
        off()
        process.off('SIGINT', onInterrupt)
      }
    })

  program
    .command('logits')
    .description('print the logits of every position (and optionally greedy continuation ids) as JSON, for checks against other implementations')
    .requiredOption('--model <dir>', 'a model folder')
    .requiredOption('--ids <ids>', 'comma-separated token ids, e.g. 5,17,300', parseIds)
    .option('--greedy <n>', 'also print the next N greedy token ids (KV cache, not stopping at EOS)', parseInteger)
    .addOption(new Option('--backend <b>', 'backend').choices(['auto', 'tensorflow', 'wasm', 'cpu']).default('auto'))
    .action(async (o: { model: string; ids: number[]; greedy?: number; backend: BackendPreference }) => {
      const dir = resolve(o.model)
      if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new ApiError('not_found', `${dir} is not a folder`)
      // The engine (and TF.js) loads only for this command.
      const [tf, { generate, initBackend, loadModel }] = await Promise.all([import('@tensorflow/tfjs'), import('../model')])
      const backend = await initBackend(o.backend)
      const model = await loadModel(dir)
      try {
        const vocab = model.config.vocabSize
        const bad = o.ids.find((id) => id >= vocab)
        if (bad !== undefined) throw new ApiError('invalid_argument', `token id ${bad} is outside the vocabulary (size ${vocab})`)
        const logits = tf.tidy(() => model.forward([o.ids]).squeeze([0]))
        const rows = (await logits.array()) as number[][]
        logits.dispose()
        const out: Record<string, unknown> = { model: dir, backend: backend.name, ids: o.ids, logits: rows }
        if (o.greedy !== undefined) out.greedy = (await generate(model, o.ids, { greedy: true, maxNewTokens: o.greedy, eosTokenIds: [] })).tokens
        process.stdout.write(JSON.stringify(out) + '\n')
      } finally {
        model.dispose()
      }
    })
}

interface GenerateOptions {
  model: string
  input: string
  template: 'alpaca' | 'chat' | 'raw'
  maxNew: number
  temperature: number
  topK: number
  topP: number
  repetitionPenalty: number
  seed?: number
  stop?: string[]
}






export function formatParams(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)}B`
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)}M`
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)}K`
  return String(n)
}

export function formatBytes(n: number): string {
  if (n >= 1024 ** 3) return `${(n / 1024 ** 3).toFixed(2)} GiB`
  if (n >= 1024 ** 2) return `${(n / 1024 ** 2).toFixed(1)} MiB`
  if (n >= 1024) return `${(n / 1024).toFixed(0)} KiB`
  return `${n} B`
}
