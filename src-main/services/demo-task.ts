// The demo study as a job: runs in a worker (it trains several models), reports progress, and
// keeps each report as JSON under <data>/demo-study so that a result is never lost to a closed
// terminal.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { ApiError } from '../api/errors'
import type { BackendPreference, DemoStudyReport } from '../api/types'
import { countParams, initBackend, readConfig } from '../model'
import { presetsFor } from '../train'
import { runDemoStudy, type StudyMethod } from '../demo/study'
import { trainingParallelism } from './spawn-worker'
import type { TaskContext } from './tasks'

export interface DemoStudyTaskArgs {
  dataDir: string
  preference: BackendPreference
  baseModelDir: string
  seeds: number[]
  methods: StudyMethod[]
  maxSteps?: number
  gamma?: number
  answerTokens: number
  limit?: number
}

export async function runDemoStudyTask(args: DemoStudyTaskArgs, ctx: TaskContext): Promise<DemoStudyReport> {
  const parallel = trainingParallelism()
  await initBackend(args.preference, { threads: parallel.threads })
  const settings = await studySettings(args.baseModelDir, args.maxSteps, args.gamma)
  const workDir = join(args.dataDir, 'demo-study', 'work')
  rmSync(workDir, { recursive: true, force: true })
  try {
    const report = await runDemoStudy({
      baseModelDir: args.baseModelDir, workDir, seeds: args.seeds, methods: args.methods, settings, answerTokens: args.answerTokens, limit: args.limit, helpers: parallel.helpers,
      signal: ctx.signal, onProgress: (done, total, message) => ctx.progress(done, total, 'models', message),
    })
    const file = join(args.dataDir, 'demo-study', `${report.createdAt.replace(/[:.]/g, '-')}.json`)
    mkdirSync(join(args.dataDir, 'demo-study'), { recursive: true })
    writeFileSync(file, JSON.stringify(report, null, 2) + '\n')
    return report
  } catch (error) {
    if (ctx.signal.aborted) throw new ApiError('cancelled', 'cancelled')
    throw error
  } finally {
    rmSync(workDir, { recursive: true, force: true })
  }
}

/** The one-click preset of the base model (what the Train button would use), the same for every run. */
async function studySettings(dir: string, maxSteps: number | undefined, gamma: number | undefined) {
  const { config } = await readConfig(dir)
  const { recommended, presets } = presetsFor(countParams(config), 'figa', config.family)
  const preset = presets.find((p) => p.name === recommended)!
  return { ...preset.settings, ...(maxSteps === undefined ? {} : { maxSteps }), ...(gamma === undefined ? {} : { gamma }) }
}
