// figa train / runs: training from the command line, recorded in the same store as the app.
import { cpSync, existsSync, readdirSync, renameSync, rmSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { Command, Option } from 'commander'
import { ApiError } from '../api/errors'
import type { RunProgress, RunSummary, TrainSettings } from '../api/types'
import type { Services } from '../services'
import { progressBar, table } from './output'
import { parseJsonObject, parseNumber, parseWhole } from './args'
import { ensureModel, findDataset, findSelection } from './lookup'

const ctx = { host: 'cli' as const }
type Open = () => Promise<Services>

export function addTrainCommands(program: Command, open: Open): void {
  program
    .command('train')
    .description('train a model with FIGA (or SFT) on a dataset, in the background of this command, with a progress bar')
    .requiredOption('--dataset <name>', 'dataset name or id')
    .option('--selection <name>', 'a saved selection of the dataset (from the Review screen)')
    .requiredOption('--model <dir|name>', 'a model folder or the name of an added model')
    .addOption(new Option('--method <m>', 'objective').choices(['figa', 'sft']).default('figa'))
    .option('--preset <name>', 'settings preset (default: the one fitted to the model size)')
    .option('--alpha <x>', 'weight of added/substituted revised tokens', parseNumber)
    .option('--beta <x>', 'weight of deleted/substituted original tokens', parseNumber)
    .option('--gamma <x>', 'weight of unchanged revised tokens', parseNumber)
    .option('--tau <x>', 'penalise an original token only while its CE ≤ τ', parseNumber)
    .option('--lr <x>', 'learning rate', parseNumber)
    .option('--epochs <n>', 'epochs', parseNumber)
    .option('--max-steps <n>', 'optimizer steps at most', parseWhole)
    .option('--lora-rank <r>', 'train LoRA adapters of this rank instead of all weights', parseWhole)
    .option('--seed <n>', 'seed (data order, initialisation)', parseWhole)
    .option('--settings <json>', 'any other training settings as JSON, e.g. \'{"microBatch":2,"evalEvery":50}\' (flags win)', parseJsonObject)
    .option('--name <name>', 'a name for the run')
    .option('--out <dir>', 'also copy the final model folder here')
    .action(async (o: TrainOptions) => {
      const services = await open()
      const dataset = await findDataset(services, o.dataset)
      const selection = o.selection ? await findSelection(services, dataset, o.selection) : undefined
      const model = await ensureModel(services, o.model)
      const settings: Partial<TrainSettings> = { ...(o.settings ?? {}) }
      if (o.alpha !== undefined) settings.alpha = o.alpha
      if (o.beta !== undefined) settings.beta = o.beta
      if (o.gamma !== undefined) settings.gamma = o.gamma
      if (o.tau !== undefined) settings.tau = o.tau
      if (o.lr !== undefined) settings.lr = o.lr
      if (o.epochs !== undefined) settings.epochs = o.epochs
      if (o.maxSteps !== undefined) settings.maxSteps = o.maxSteps
      if (o.seed !== undefined) settings.seed = o.seed
      if (o.loraRank !== undefined) settings.lora = { rank: o.loraRank, alpha: 2 * o.loraRank, targets: model.modelType === 'gpt2' ? ['c_attn'] : ['q_proj', 'v_proj'] }
      const run = (await services.call(
        'runs.start',
        { datasetId: dataset.id, selectionId: selection?.id, modelId: model.id, method: o.method, preset: o.preset, settings, name: o.name },
        ctx,
      )) as RunSummary
      process.stderr.write(`run ${run.id}: ${run.name} (preset ${run.preset}) → ${run.outDir}\n`)
      const finished = await follow(services, run.id)
      if (finished.state === 'done' && o.out && finished.finalDir) copyModel(finished.finalDir, o.out)
      process.exitCode = finished.state === 'done' ? 0 : finished.state === 'cancelled' ? 130 : 1
    })

  const runs = program.command('runs').description('list, resume and cancel training runs')
  runs
    .command('list', { isDefault: true })
    .description('list training runs')
    .option('--json', 'print JSON')
    .action(async (o: { json?: boolean }) => {
      const services = await open()
      const list = (await services.call('runs.list', {}, ctx)) as RunSummary[]
      if (o.json) return void process.stdout.write(JSON.stringify(list, null, 2) + '\n')
      if (list.length === 0) return void process.stdout.write('no runs yet: figa train --dataset D --model M\n')
      process.stdout.write(
        table(['id', 'name', 'method', 'state', 'step', 'dataset', 'updated'], list.map((r) => [r.id, r.name, r.method, r.state, `${r.step}/${r.totalSteps ?? '?'}`, r.datasetName ?? '—', r.updatedAt.slice(0, 16).replace('T', ' ')])) + '\n',
      )
    })
  runs
    .command('resume')
    .description('continue a cancelled or interrupted run from its last checkpoint')
    .argument('<run>', 'run id')
    .action(async (id: string) => {
      const services = await open()
      const run = (await services.call('runs.resume', { runId: parseWhole(id) }, ctx)) as RunSummary
      process.stderr.write(`resuming run ${run.id} from ${run.lastCheckpoint ?? 'the start'}\n`)
      const finished = await follow(services, run.id)
      process.exitCode = finished.state === 'done' ? 0 : finished.state === 'cancelled' ? 130 : 1
    })
}

/** Shows a run's progress until it ends; Ctrl-C cancels it (it keeps its checkpoint). */
async function follow(services: Services, runId: number): Promise<RunSummary> {
  const bar = progressBar('training')
  let lastLoss = ''
  const off = services.events.on('run.progress', (p: RunProgress) => {
    if (p.runId !== runId) return
    if (p.train) lastLoss = `loss ${p.train.loss.toFixed(4)}`
    if (p.totalSteps) bar.update({ jobId: '', done: p.step, total: p.totalSteps, unit: 'steps', message: lastLoss })
    if (!process.stderr.isTTY && p.train) process.stderr.write(`step ${p.train.step}/${p.train.totalSteps} loss ${p.train.loss.toFixed(4)} (+${p.train.lossPositive.toFixed(4)} −${p.train.lossNegative.toFixed(4)}) lr ${p.train.lr.toExponential(2)} ${p.train.tokensPerSec.toFixed(0)} tok/s\n`)
    if (!process.stderr.isTTY && p.eval) process.stderr.write(`eval @${p.eval.step}: margin/token ${p.eval.marginPerToken.toFixed(4)} ppl(ŷ) ${p.eval.pplRevised.toFixed(2)} ppl(y) ${p.eval.pplOriginal.toFixed(2)}\n`)
  })
  const onInterrupt = () => void services.call('runs.cancel', { runId }, ctx).catch(() => {})
  process.once('SIGINT', onInterrupt)
  try {
    await services.training.wait(runId).catch(() => {})
  } finally {
    bar.stop()
    off()
    process.off('SIGINT', onInterrupt)
  }
  const run = (await services.call('runs.get', { runId }, ctx)) as RunSummary
  if (run.state === 'done') process.stdout.write(`run ${run.id} finished at step ${run.step}: ${run.finalDir}\n`)
  else if (run.state === 'cancelled') process.stderr.write(`run ${run.id} stopped at step ${run.step}; figa runs resume ${run.id} continues it\n`)
  else process.stderr.write(`run ${run.id} ${run.state}: ${run.error ?? ''}\n`)
  return run
}

/** Copies a model folder to `out` atomically (a temporary sibling, then a rename). */
export function copyModel(from: string, out: string): void {
  const target = resolve(out)
  if (existsSync(target) && readdirSync(target).length > 0) throw new ApiError('conflict', `${target} exists and is not empty`)
  const temp = join(dirname(target), `.${Date.now()}-partial`)
  cpSync(from, temp, { recursive: true })
  rmSync(target, { recursive: true, force: true })
  renameSync(temp, target)
  process.stdout.write(`model written to ${target}\n`)
}

interface TrainOptions {
  settings?: Partial<TrainSettings>
  dataset: string
  selection?: string
  model: string
  method: 'figa' | 'sft'
  preset?: string
  alpha?: number
  beta?: number
  gamma?: number
  tau?: number
  lr?: number
  epochs?: number
  maxSteps?: number
  loraRank?: number
  seed?: number
  name?: string
  out?: string
}





