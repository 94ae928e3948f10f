// The `figa` command line: the same services as the app, driven from the contract.
import { createWriteStream, existsSync, writeFileSync } from 'node:fs'
import { basename, extname, resolve } from 'node:path'
import { pipeline } from 'node:stream/promises'
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander'
import { contract, methodNames } from '../api/contract'
import { ApiError } from '../api/errors'
import type { DatasetSummary, FileRef, ImportReport, PairPage, PairSignalView, SignalStats } from '../api/types'
import { startHost } from '../host/server'
import { createServices, type Services } from '../services'
import { resolveDataDir } from '../services/data-dir'
import { progressBar, table } from './output'
import { collectMapping, parseNumber, parsePort, parseWhole } from './args'
import { findDataset, findDatasetOrNull, findRun } from './lookup'
import { addTrainCommands, copyModel } from './train-commands'
import { addChatCommands } from './chat-commands'
import { addModelCommands } from './model-commands'
import { formatPairDiff, formatStats } from './signals-view'
import { DEFAULT_FIGA, weightedTokens } from '../signals/weighted-counts'
import { tokenizerKeyForDir } from '../services/tokenizers'

const ctx = { host: 'cli' as const }

/** Exit codes: 0 ok, 1 the work failed (bad data, not found…), 2 usage, 130 interrupted. */
export async function main(argv: string[]): Promise<number> {
  let services: Services | undefined
  const open = async (opts: { dataDir?: string; demo?: boolean }) => {
    services = await createServices({ dataDir: resolveDataDir(opts.dataDir), seedDemo: opts.demo ?? false })
    return services
  }
  const program = buildProgram(open)
  try {
    await program.parseAsync(argv, { from: 'user' })
    return process.exitCode === undefined ? 0 : Number(process.exitCode)
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : 2
    const e = ApiError.from(error)
    process.stderr.write(`figa: ${e.code === 'cancelled' ? 'cancelled' : 'error'}: ${e.message}\n`)
    return e.code === 'cancelled' ? 130 : 1
  } finally {
    if (services && !keepOpen) await services.close()
  }
}

let keepOpen = false

function buildProgram(open: (o: { dataDir?: string; demo?: boolean }) => Promise<Services>): Command {
  const program = new Command('figa')
    .description('FIGA Studio: align language models with fine-grained quality signals (FIGA, Guo et al., ICLR 2024)')
    .addOption(new Option('--data-dir <dir>', 'where the database lives (default: $FIGA_DATA_DIR or the app\'s user-data folder)'))
    .exitOverride((err) => {
      throw err
    })
    .configureOutput({ outputError: (str, write) => write(`figa: ${str.replace(/^error: /, '')}`) })
    .showHelpAfterError('(run figa --help for usage)')
  const dataDir = () => program.opts<{ dataDir?: string }>().dataDir

  program
    .command('import')
    .description('import a JSONL, JSON, CSV/TSV or Parquet file as a dataset (SPA, preference, HH, Alpaca or ShareGPT shape)')
    .argument('<file>', 'the data file')
    .option('--dataset <name>', 'dataset name (default: the file name)')
    .addOption(new Option('--format <format>', 'override format detection').choices(['jsonl', 'json', 'csv', 'tsv', 'parquet']))
    .option('--map <field=column...>', 'read a field from another column, e.g. --map revised_output=good', collectMapping, {})
    .option('--skip-bad', 'import the good rows even if some rows are bad (they are reported)')
    .option('--dedupe', 'drop rows whose content is already in the dataset or earlier in the file (they are reported either way)')
    .option('--append', 'add to an existing dataset of that name')
    .option('--report <file>', 'write the full import report as JSON')
    .option('--json', 'print the report as JSON')
    .action(async (file: string, o: ImportOptions) => {
      const services = await open({ dataDir: dataDir() })
      const ref = services.files.registerPath(file)
      const name = o.dataset ?? basename(file, extname(file))
      const bar = progressBar(`importing ${basename(file)}`)
      const job = services.runJob(
        'datasets.import',
        { fileId: ref.fileId, name, format: o.format, mapping: Object.keys(o.map).length ? o.map : undefined, skipBad: !!o.skipBad, dedupe: !!o.dedupe, append: !!o.append },
        ctx,
        (p) => bar.update(p),
      )
      const onInterrupt = () => services.jobs.list().forEach((j) => j.state === 'running' && services.jobs.cancel(j.jobId))
      process.once('SIGINT', onInterrupt)
      let report: ImportReport
      try {
        report = (await job) as ImportReport
      } finally {
        bar.stop()
        process.off('SIGINT', onInterrupt)
      }
      if (o.report) writeFileSync(o.report, JSON.stringify(report, null, 2) + '\n')
      if (o.json) process.stdout.write(JSON.stringify(report, null, 2) + '\n')
      else printImportReport(report, ref, o.report)
      if (report.rolledBack) process.exitCode = 1
    })

  program
    .command('datasets')
    .description('list datasets')
    .option('--json', 'print JSON')
    .action(async (o: { json?: boolean }) => {
      const services = await open({ dataDir: dataDir() })
      const list = (await services.call('datasets.list', {}, ctx)) as DatasetSummary[]
      if (o.json) return void process.stdout.write(JSON.stringify(list, null, 2) + '\n')
      if (list.length === 0) return void process.stdout.write('no datasets yet: figa import FILE\n')
      process.stdout.write(
        table(['id', 'name', 'pairs', 'sft', 'shape', 'source', 'updated'], list.map((d) => [d.id, d.name, d.pairCount, d.sftCount, d.shape ?? '', d.sourceName ?? '', d.updatedAt.slice(0, 16).replace('T', ' ')])) + '\n',
      )
    })

  program
    .command('pairs')
    .description('print a page of a dataset\'s rows')
    .argument('<dataset>', 'dataset name or id')
    .option('--search <text>', 'only rows containing this text')
    .option('--offset <n>', 'skip this many rows', parseWhole, 0)
    .option('--limit <n>', 'rows to print', parseWhole, 20)
    .option('--json', 'print JSON')
    .action(async (name: string, o: { search?: string; offset: number; limit: number; json?: boolean }) => {
      const services = await open({ dataDir: dataDir() })
      const dataset = await findDataset(services, name)
      const page = (await services.call('pairs.list', { datasetId: dataset.id, offset: o.offset, limit: o.limit, search: o.search }, ctx)) as PairPage
      if (o.json) return void process.stdout.write(JSON.stringify(page, null, 2) + '\n')
      const clip = (s: string | null) => (s ?? '—').replace(/\s+/g, ' ').slice(0, 48)
      process.stdout.write(table(['#', 'kind', 'instruction', 'original', 'revised'], page.rows.map((r) => [r.position + 1, r.kind, clip(r.instruction), clip(r.original), clip(r.revised)])) + '\n')
      process.stdout.write(`${page.rows.length} of ${page.total} rows\n`)
    })

  program
    .command('export')
    .description('export a dataset as JSONL in SPA shape (re-imports identically), or a run\'s model as a Hugging Face folder')
    .argument('<dataset|run>', 'a dataset name or id; or a run as run:ID or its name')
    .requiredOption('--out <path>', 'the JSONL file (- for standard output), or the model folder to write')
    .action(async (name: string, o: { out: string }) => {
      const services = await open({ dataDir: dataDir() })
      const dataset = name.startsWith('run:') ? undefined : await findDatasetOrNull(services, name)
      if (!dataset) {
        const run = await findRun(services, name)
        if (!run) throw new ApiError('not_found', `no dataset or run "${name}" (figa datasets and figa runs list them)`)
        const dir = run.finalDir ?? run.lastCheckpoint
        if (!dir) throw new ApiError('conflict', `run ${run.id} has no checkpoint yet`)
        if (!run.finalDir) process.stderr.write(`run ${run.id} has not finished: exporting its checkpoint at step ${run.step}\n`)
        copyModel(dir, o.out)
        return
      }
      const plan = await services.download('datasets.export', { datasetId: dataset.id }, ctx)
      await pipeline(plan.stream(), o.out === '-' ? process.stdout : createWriteStream(o.out))
      if (o.out !== '-') process.stderr.write(`exported ${dataset.pairCount + dataset.sftCount} rows of ${dataset.name} to ${o.out}\n`)
    })

  program
    .command('signals')
    .description('compute the fine-grained signal of a dataset with a tokenizer and print its statistics (or one pair as a diff)')
    .argument('<dataset>', 'dataset name or id')
    .requiredOption('--tokenizer <dir|name>', 'a model folder with tokenizer.json, or a built-in tokenizer name (byte, …)')
    .option('--alpha <x>', 'weight of added/substituted ŷ tokens', parseNumber, DEFAULT_FIGA.alpha)
    .option('--beta <x>', 'weight of deleted/substituted y tokens', parseNumber, DEFAULT_FIGA.beta)
    .option('--gamma <x>', 'weight of unchanged ŷ tokens', parseNumber, DEFAULT_FIGA.gamma)
    .option('--show <n>', 'print pair N (its row number) as a coloured diff instead', parseWhole)
    .option('--json', 'print JSON')
    .action(async (name: string, o: { tokenizer: string; alpha: number; beta: number; gamma: number; show?: number; json?: boolean }) => {
      const services = await open({ dataDir: dataDir() })
      const dataset = await findDataset(services, name)
      const tokenizer = tokenizerKey(o.tokenizer)
      const params = { alpha: o.alpha, beta: o.beta, gamma: o.gamma }
      if (o.show !== undefined) {
        const page = (await services.call('pairs.list', { datasetId: dataset.id, offset: o.show - 1, limit: 1 }, ctx)) as PairPage
        const pair = page.rows[0]
        if (!pair || o.show < 1) throw new ApiError('not_found', `${dataset.name} has no row ${o.show} (it has ${page.total})`)
        const view = (await services.call('signals.pair', { pairId: pair.id, tokenizer }, ctx)) as PairSignalView
        if (o.json) return void process.stdout.write(JSON.stringify(view, null, 2) + '\n')
        process.stdout.write(`row ${o.show}: ${pair.instruction.replace(/\s+/g, ' ').slice(0, 100)}\n\n${formatPairDiff(view, useColor())}\n`)
        return
      }
      const bar = progressBar('aligning')
      try {
        await services.runJob('signals.compute', { datasetId: dataset.id, tokenizer }, ctx, (p) => bar.update(p))
      } finally {
        bar.stop()
      }
      const stats = (await services.call('signals.stats', { datasetId: dataset.id, tokenizer }, ctx)) as SignalStats
      if (o.json) return void process.stdout.write(JSON.stringify({ ...stats, weightedTokens: weightedTokens(stats.keptTotals, stats.kept, params) }, null, 2) + '\n')
      process.stdout.write(formatStats(stats, params) + '\n')
    })

  addModelCommands(program, () => open({ dataDir: dataDir() }))
  addTrainCommands(program, () => open({ dataDir: dataDir() }))
  addChatCommands(program, () => open({ dataDir: dataDir() }))

  program
    .command('serve')
    .description('serve the app on http://127.0.0.1 with a per-session token (headless or remote use: tunnel the port over ssh)')
    .option('--port <n>', 'port (default: a free one)', parsePort, 0)
    .option('--no-demo', 'do not import the demo dataset into an empty store')
    .action(async (o: { port: number; demo: boolean }) => {
      const services = await open({ dataDir: dataDir(), demo: o.demo })
      const host = await startHost({ services, port: o.port })
      keepOpen = true
      process.stdout.write(`FIGA Studio is serving ${services.dataDir}\nOpen ${host.openUrl}\n`)
      await waitForSignal()
      await host.close()
      await services.close()
    })

  program
    .command('methods')
    .description('list every method of the app\'s contract (for figa call)')
    .action(() => {
      process.stdout.write(table(['method', 'kind', 'summary'], methodNames.map((m) => [m, contract[m].kind, contract[m].summary])) + '\n')
    })

  program
    .command('call')
    .description('call any contract method with JSON arguments and print the JSON result (jobs are waited for)')
    .argument('<method>', 'a method name from figa methods')
    .argument('[json]', 'arguments as a JSON object', '{}')
    .action(async (method: string, json: string) => {
      let args: unknown
      try {
        args = JSON.parse(json)
      } catch {
        throw new InvalidArgumentError(`arguments are not valid JSON: ${json}`)
      }
      const services = await open({ dataDir: dataDir() })
      const kind = contract[method as keyof typeof contract]?.kind
      if (kind === 'download') {
        const plan = await services.download(method, args, ctx)
        await pipeline(plan.stream(), process.stdout)
        return
      }
      const result = kind === 'job' ? await services.runJob(method, args, ctx) : await services.call(method, args, ctx)
      process.stdout.write(JSON.stringify(result, null, 2) + '\n')
    })

  return program
}

interface ImportOptions {
  dataset?: string
  format?: 'jsonl' | 'json' | 'csv' | 'tsv' | 'parquet'
  map: Record<string, string>
  skipBad?: boolean
  dedupe?: boolean
  append?: boolean
  report?: string
  json?: boolean
}

function printImportReport(r: ImportReport, file: FileRef, reportFile?: string): void {
  const out = process.stdout
  const listed = 20
  if (r.badCount > 0) {
    process.stderr.write(`${r.badCount} bad row${r.badCount === 1 ? '' : 's'} in ${file.name}:\n`)
    for (const p of r.bad.slice(0, listed)) process.stderr.write(`  ${p.location}${p.field ? ` (${p.field})` : ''}: ${p.reason}\n`)
    if (r.badCount > listed) process.stderr.write(`  … and ${r.badCount - listed} more${reportFile ? '' : ' (--report FILE saves them all)'}\n`)
  }
  if (r.duplicateCount > 0) {
    process.stderr.write(`${r.duplicateCount} duplicate row${r.duplicateCount === 1 ? '' : 's'}${r.duplicatesSkipped ? ' (dropped)' : ' (imported; --dedupe drops them)'}:\n`)
    for (const d of r.duplicates.slice(0, listed)) process.stderr.write(`  ${d.location} repeats ${d.firstSeen}\n`)
    if (r.duplicateCount > listed) process.stderr.write(`  … and ${r.duplicateCount - listed} more\n`)
  }
  if (r.rolledBack) {
    process.stderr.write(`nothing imported: fix the rows above, or use --skip-bad to import the ${r.rowsRead - r.badCount} good rows\n`)
    return
  }
  out.write(`imported ${r.imported} rows (${r.pairs} pairs, ${r.sft} SFT) into "${r.datasetName}" from ${file.name} [${r.format}, ${r.shape}] in ${(r.durationMs / 1000).toFixed(1)} s\n`)
  if (r.badCount > 0) out.write(`skipped ${r.badCount} bad rows\n`)
}

/** A model folder (any path) or a built-in tokenizer name. */
function tokenizerKey(value: string): string {
  if (/^[\w-]+$/.test(value) && !existsSync(value)) return `builtin:${value}`
  return tokenizerKeyForDir(resolve(value))
}

function useColor(): boolean {
  if (process.env.NO_COLOR) return false
  return !!process.stdout.isTTY || !!process.env.FORCE_COLOR
}

function waitForSignal(): Promise<void> {
  return new Promise((resolve) => {
    process.once('SIGINT', () => resolve())
    process.once('SIGTERM', () => resolve())
  })
}
