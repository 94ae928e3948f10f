// figa chat / eval: talk to a model (or two side by side) and compare two models on data.
import { createWriteStream, writeFileSync } from 'node:fs'
import { createInterface } from 'node:readline'
import { extname } from 'node:path'
import { pipeline } from 'node:stream/promises'
import { Command, InvalidArgumentError, Option } from 'commander'
import type { ChatTurn, Conversation, DemoStudyReport, EvalReport, GenerationToken, ModelSummary } from '../api/types'
import { ApiError } from '../api/errors'
import type { Services } from '../services'
import { parseNumber, parseWhole } from './args'
import { ensureModel, findDataset, findSelection } from './lookup'
import { progressBar, table } from './output'
import { formatDemoStudy } from './demo-study-view'

const ctx = { host: 'cli' as const }
type Open = () => Promise<Services>

export function addChatCommands(program: Command, open: Open): void {
  program
    .command('chat')
    .description('chat with a model in the terminal, or with two side by side (--compare); /new starts over, /quit or Ctrl-D leaves, Ctrl-C stops an answer')
    .requiredOption('--model <dir|name>', 'a model folder or the name of an added model')
    .option('--compare <dir|name>', 'a second model answering the same messages')
    .addOption(new Option('--template <t>', 'prompt format').choices(['alpaca', 'chat', 'raw']).default('alpaca'))
    .option('--system <text>', 'a system prompt')
    .option('--max-new <n>', 'tokens per answer at most', parseWhole, 256)
    .option('--temperature <t>', '0 = greedy', parseNumber, 0.7)
    .option('--seed <s>', 'seed for reproducible sampling', parseWhole)
    .action(async (o: { model: string; compare?: string; template: 'alpaca' | 'chat' | 'raw'; system?: string; maxNew: number; temperature: number; seed?: number }) => {
      const services = await open()
      const a = await ensureModel(services, o.model)
      const b = o.compare ? await ensureModel(services, o.compare) : null
      const create = async () => (await services.call('chat.create', { modelAId: a.id, modelBId: b?.id ?? null, template: o.template, system: o.system }, ctx)) as Conversation
      let conversation = await create()
      const rl = createInterface({ input: process.stdin, output: process.stdout, terminal: process.stdin.isTTY })
      let answering: string[] = []
      rl.on('SIGINT', () => {
        if (answering.length) answering.forEach((jobId) => services.jobs.cancel(jobId))
        else rl.close()
      })
      process.stdout.write(`chatting with ${a.name}${b ? ` and ${b.name}` : ''} (${o.template} template)\n`)
      // Lines are read as a stream, so input piped in ahead of the answers is not lost.
      rl.setPrompt('you> ')
      rl.prompt()
      for await (const raw of rl) {
        const line = raw.trim()
        if (line === '/quit' || line === '/exit') break
        if (line === '/new') {
          conversation = await create()
          process.stdout.write('(new conversation)\n')
        } else if (line !== '') {
          const sampling = { maxNewTokens: o.maxNew, temperature: o.temperature, seed: o.seed }
          const sent = (await services.call('chat.send', { conversationId: conversation.id, text: line, sampling }, ctx)) as { turn: ChatTurn; jobs: { left: string; right: string | null } }
          answering = [sent.jobs.left, ...(sent.jobs.right ? [sent.jobs.right] : [])]
          await streamAnswers(services, sent.jobs, a, b)
          answering = []
        }
        rl.prompt()
      }
      rl.close()
    })

  program
    .command('eval')
    .description('score two models on a dataset\'s held-out pairs (log-prob margin per token, perplexities, preference accuracy, answer length); or, with --demo, run the demo study')
    .option('--a <dir|name>', 'model A')
    .option('--b <dir|name>', 'model B')
    .option('--dataset <name>', 'dataset name or id')
    .option('--selection <name>', 'a saved selection of the dataset')
    .addOption(new Option('--split <s>', 'which pairs').choices(['heldout', 'all']).default('heldout'))
    .option('--held-out <fraction>', 'held-out fraction (as in training)', parseNumber, 0.1)
    .option('--seed <n>', 'split seed (as in training)', parseWhole, 0)
    .option('--limit <n>', 'at most this many pairs (held-out prompts with --demo)', parseWhole)
    .option('--answer-tokens <n>', 'also generate greedy answers of up to N tokens (answer length); --demo: 64', parseWhole)
    .option('--out <file>', 'write per-pair scores (.csv or .jsonl); with --demo, the report as JSON')
    .option('--json', 'print the report as JSON')
    .option('--demo', 'the demo study: base model, SFT on revised and FIGA at the same budget, several seeds, defect rate on the demo world\'s held-out prompts')
    .option('--model <dir|name>', '--demo: the base model (default: the embedded demo model)')
    .option('--seeds <list>', '--demo: training seeds, comma-separated', parseSeeds, [1, 2, 3])
    .addOption(new Option('--methods <list>', '--demo: methods, comma-separated').default('sft,figa'))
    .option('--steps <n>', '--demo: optimizer steps per run (default: the preset\'s epochs)', parseWhole)
    .option('--gamma <g>', '--demo: FIGA\'s weight of the unchanged tokens of the revision (default 0)', parseNumber)
    .action(async (o: EvalOptions) => {
      if (o.demo) return demoStudy(await open(), o)
      const missing = (['a', 'b', 'dataset'] as const).filter((k) => !o[k])
      if (missing.length) throw new ApiError('invalid_argument', `eval needs ${missing.map((k) => `--${k}`).join(', ')} (or --demo)`)
      const services = await open()
      const dataset = await findDataset(services, o.dataset!)
      const selection = o.selection ? await findSelection(services, dataset, o.selection) : undefined
      const [a, b] = [await ensureModel(services, o.a!), await ensureModel(services, o.b!)]
      const bar = progressBar('evaluating')
      let report: EvalReport
      try {
        report = (await services.runJob(
          'eval.run',
          { modelAId: a.id, modelBId: b.id, datasetId: dataset.id, selectionId: selection?.id, split: o.split, heldOut: o.heldOut, seed: o.seed, limit: o.limit, answerTokens: o.answerTokens ?? 0 },
          ctx,
          (p) => bar.update(p),
        )) as EvalReport
      } finally {
        bar.stop()
      }
      if (o.out) {
        const plan = await services.download('eval.export', { evalId: report.id, format: extname(o.out) === '.jsonl' ? 'jsonl' : 'csv' }, ctx)
        await pipeline(plan.stream(), createWriteStream(o.out))
      }
      if (o.json) return void process.stdout.write(JSON.stringify(report, null, 2) + '\n')
      const row = (m: EvalReport['a']) => [m.name, m.marginPerToken.toFixed(4), m.pplRevised.toFixed(3), m.pplOriginal.toFixed(3), `${(100 * m.preferenceAccuracy).toFixed(1)}%`, m.answerTokens === null ? '—' : m.answerTokens.toFixed(1)]
      process.stdout.write(`${report.pairs} ${report.split === 'heldout' ? 'held-out' : ''} pairs of ${report.datasetName}\n\n`)
      process.stdout.write(table(['model', 'margin/token', 'ppl(ŷ)', 'ppl(y)', 'prefers ŷ', 'answer tokens'], [row(report.a), row(report.b)]) + '\n')
      if (o.out) process.stderr.write(`per-pair scores written to ${o.out}\n`)
    })
}

interface EvalOptions {
  a?: string
  b?: string
  dataset?: string
  selection?: string
  split: 'heldout' | 'all'
  heldOut: number
  seed: number
  limit?: number
  answerTokens?: number
  out?: string
  json?: boolean
  demo?: boolean
  model?: string
  seeds: number[]
  methods: string
  steps?: number
  gamma?: number
}

function parseSeeds(value: string): number[] {
  const seeds = value.split(',').map((s) => s.trim())
  if (seeds.some((s) => !/^\d+$/.test(s))) throw new InvalidArgumentError(`"${value}" is not a comma-separated list of whole numbers`)
  return seeds.map(Number)
}

async function demoStudy(services: Services, o: EvalOptions): Promise<void> {
  const methods = o.methods.split(',').map((m) => m.trim())
  const unknown = methods.filter((m) => m !== 'sft' && m !== 'figa')
  if (unknown.length) throw new ApiError('invalid_argument', `--methods: unknown method "${unknown[0]}" (use sft, figa)`)
  const base = o.model ? await ensureModel(services, o.model) : undefined
  const bar = progressBar('demo study')
  let report: DemoStudyReport
  try {
    report = (await services.runJob(
      'eval.demo',
      { modelId: base?.id, seeds: o.seeds, methods, maxSteps: o.steps, gamma: o.gamma, answerTokens: o.answerTokens ?? 64, limit: o.limit },
      ctx,
      (p) => bar.update(p),
    )) as DemoStudyReport
  } finally {
    bar.stop()
  }
  if (o.out) writeFileSync(o.out, JSON.stringify(report, null, 2) + '\n')
  process.stdout.write((o.json ? JSON.stringify(report, null, 2) : formatDemoStudy(report)) + '\n')
}

/** Streams model A's answer live; model B's (if any) is held back until A is done, then streamed on. */
async function streamAnswers(services: Services, jobs: { left: string; right: string | null }, a: ModelSummary, b: ModelSummary | null): Promise<void> {
  let held = ''
  let showingRight = false
  const off = services.events.on('generate.token', (e: GenerationToken) => {
    if (e.jobId === jobs.left) process.stdout.write(e.text)
    else if (e.jobId === jobs.right) {
      if (showingRight) process.stdout.write(e.text)
      else held += e.text
    }
  })
  try {
    process.stdout.write(`${a.name}> `)
    await services.jobs.wait(jobs.left).catch(() => {})
    process.stdout.write('\n')
    if (jobs.right && b) {
      process.stdout.write(`${b.name}> ${held}`)
      showingRight = true
      await services.jobs.wait(jobs.right).catch(() => {})
      process.stdout.write('\n')
    }
  } finally {
    off()
  }
}
