// The service functions behind the contract, one per method.
import { join } from 'node:path'
import { ApiError } from '../api/errors'
import type { ImportTaskArgs } from './import-task'
import { contentHash, previewDataset } from '../data'
import type { Db } from '../store/db'
import { deleteDataset, findDatasetByName, getDataset, listDatasets, renameDataset } from '../store/datasets'
import { getPair, listPairs, toNormalizedRow, updatePair } from '../store/pairs'
import type { EventBus } from './events'
import { exportJsonl } from './export-dataset'
import { namingFile } from './file-errors'
import type { FileRegistry } from './files'
import type { Implementation } from './implementation'
import { pairSignals, pairView } from '../signals/pair-view'
import { deleteSelection, fingerprintsWithSignals, getSelection, listSelections, saveSelection, setExcluded, signalPairs, signalStats, signalWriter } from '../store/signals'
import type { SignalsTaskArgs } from './signals-task'
import { keyOfFingerprint, listTokenizers, resolveTokenizer } from './tokenizers'
import { signalRecord } from './signals-task'
import type { BackendPreference, EngineInfo } from '../api/types'
import type { BackendInfo } from '../model'
import { deleteModel, getModel, listModels } from '../store/models'
import type { GenerateTaskArgs } from './engine-task'
import { addModel, backendPreference, inspectModel, requireModel, setBackendPreference } from './models'
import type { Training } from './training'
import type { Chat } from './chat'
import type { EvalTaskArgs } from './eval-task'
import type { DemoStudyTaskArgs } from './demo-task'
import { resourcesDir } from './paths'
import { evalRows, getEval, listEvals } from '../store/evals'
import { exportEvalRows } from './export-eval'
import { getRun, runMetrics, updateRun } from '../store/runs'
import type { JobManager } from './jobs'

export interface ServiceDeps {
  db: Db
  dataDir: string
  version: string
  events: EventBus
  files: FileRegistry
  jobs: JobManager
  training: Training
  chat: Chat
}

export function implementMethods({ db, dataDir, version, events, files, jobs, training, chat }: ServiceDeps): Implementation {
  // The backend is decided inside workers (where models run); ask one once per preference.
  const engines = new Map<BackendPreference, Promise<EngineInfo>>()
  const engineInfo = (preference: BackendPreference): Promise<EngineInfo> => {
    let info = engines.get(preference)
    if (!info) {
      info = (jobs.start('engine.info', 'Engine check', 'engine', { preference }).finished as Promise<BackendInfo>).then((b) => ({ preference, backend: b.name, threads: b.threads, simd: b.simd, detail: b.detail }))
      info.catch(() => engines.delete(preference))
      engines.set(preference, info)
    }
    return info
  }

  const dataset = (id: number) => {
    const d = getDataset(db, id)
    if (!d) throw new ApiError('not_found', `no dataset with id ${id}`)
    return d
  }

  /** An edited pair keeps its signals up to date for every tokenizer that had them (one pair: milliseconds). */
  const recomputeSignals = async (oldHash: string, newHash: string, row: { original: string | null; revised: string }) => {
    if (row.original === null) return
    for (const fingerprint of fingerprintsWithSignals(db, oldHash)) {
      const t = await resolveTokenizer(keyOfFingerprint(fingerprint)).catch(() => null)
      if (t?.fingerprint !== fingerprint) continue // the tokenizer files changed: a new compute will redo it
      signalWriter(db, fingerprint)([signalRecord(pairSignals(t.adapter, row.original, row.revised), newHash)])
    }
  }

  return {
    'app.info': (_args, ctx) => ({ name: 'FIGA Studio', version, dataDir, host: ctx.host, node: process.versions.node }),

    'datasets.list': () => listDatasets(db),
    'datasets.get': ({ datasetId }) => dataset(datasetId),
    'datasets.preview': async ({ fileId, format, mapping, limit }) => {
      const file = files.resolve(fileId)
      const preview = await namingFile(file.path, file.name, () => previewDataset(file.path, { format, mapping, limit }))
      return { file: { fileId, name: file.name, size: file.size }, ...preview.info, rows: preview.rows }
    },
    'datasets.import': ({ fileId, name, format, mapping, skipBad, dedupe, append }) => {
      const file = files.resolve(fileId)
      const existing = findDatasetByName(db, name)
      if (existing && !append) throw new ApiError('conflict', `a dataset named "${existing.name}" exists already: choose another name or append to it`)
      if (!existing && append) throw new ApiError('not_found', `no dataset named "${name}" to append to`)
      const args: ImportTaskArgs = { dataDir, path: file.path, fileName: file.name, name, format, mapping, skipBad, dedupe, append }
      return { label: `Import ${file.name} → ${name}`, task: 'import', args, onDone: () => events.emit('datasets.changed', { datasetId: null }) }
    },
    'datasets.rename': ({ datasetId, name }) => {
      dataset(datasetId)
      const clash = findDatasetByName(db, name)
      if (clash && clash.id !== datasetId) throw new ApiError('conflict', `a dataset named "${clash.name}" exists already`)
      renameDataset(db, datasetId, name)
      events.emit('datasets.changed', { datasetId })
      return dataset(datasetId)
    },
    'datasets.delete': ({ datasetId, confirmName }) => {
      const d = dataset(datasetId)
      if (confirmName !== d.name) throw new ApiError('invalid_argument', `confirmName must be the dataset's name ("${d.name}")`)
      const deleted = deleteDataset(db, datasetId)
      events.emit('datasets.changed', { datasetId: null })
      return { deleted }
    },
    'datasets.export': ({ datasetId }) => {
      const d = dataset(datasetId)
      return { fileName: `${d.name.replace(/[^\w.\-]+/g, '_')}.jsonl`, contentType: 'application/x-ndjson', stream: () => exportJsonl(db, datasetId) }
    },

    'pairs.list': (q) => {
      dataset(q.datasetId)
      return listPairs(db, q)
    },
    'pairs.get': ({ pairId }) => {
      const pair = getPair(db, pairId)
      if (!pair) throw new ApiError('not_found', `no pair with id ${pairId}`)
      return pair
    },
    'pairs.update': async ({ pairId, ...changes }) => {
      const pair = getPair(db, pairId)
      if (!pair) throw new ApiError('not_found', `no pair with id ${pairId}`)
      if (changes.original !== undefined && pair.kind === 'sft') {
        throw new ApiError('invalid_argument', 'this row is SFT data (no original response): only instruction, input and revised can be edited')
      }
      const row = { ...toNormalizedRow(pair), ...changes }
      const hash = contentHash(row)
      updatePair(db, pairId, row, hash)
      await recomputeSignals(pair.contentHash, hash, row)
      events.emit('datasets.changed', { datasetId: pair.datasetId })
      events.emit('signals.changed', { datasetId: pair.datasetId })
      return getPair(db, pairId)!
    },

    'tokenizers.list': () => listTokenizers(listModels(db).map((m) => ({ label: `${m.name} (${m.architecture})`, dir: m.path }))),
    'signals.compute': async ({ datasetId, tokenizer }) => {
      const d = dataset(datasetId)
      const t = await resolveTokenizer(tokenizer)
      const args: SignalsTaskArgs = { dataDir, datasetId, tokenizer: t.key }
      return { label: `Signals of ${d.name} (${t.adapter.name})`, task: 'signals', args, onDone: () => events.emit('signals.changed', { datasetId }) }
    },
    'signals.stats': async ({ datasetId, tokenizer, filters }) => {
      dataset(datasetId)
      const t = await resolveTokenizer(tokenizer)
      return signalStats(db, datasetId, t.key, t.fingerprint, filters)
    },
    'signals.pairs': async ({ datasetId, tokenizer, ...q }) => {
      dataset(datasetId)
      const t = await resolveTokenizer(tokenizer)
      return signalPairs(db, { datasetId, fingerprint: t.fingerprint, ...q })
    },
    'signals.pair': async ({ pairId, tokenizer }) => {
      const pair = getPair(db, pairId)
      if (!pair) throw new ApiError('not_found', `no pair with id ${pairId}`)
      if (pair.original === null) throw new ApiError('invalid_argument', `row ${pair.position + 1} is SFT data: it has no original response to align`)
      const t = await resolveTokenizer(tokenizer)
      return pairView(t.adapter, t.key, pair.original, pair.revised)
    },
    'signals.preview': async ({ tokenizer, original, revised }) => {
      const t = await resolveTokenizer(tokenizer)
      return pairView(t.adapter, t.key, original, revised)
    },
    'review.exclude': ({ pairId, excluded }) => {
      const pair = getPair(db, pairId)
      if (!pair) throw new ApiError('not_found', `no pair with id ${pairId}`)
      setExcluded(db, pairId, excluded)
      events.emit('signals.changed', { datasetId: pair.datasetId })
      return { pairId, excluded }
    },
    'selections.save': async ({ datasetId, name, tokenizer, filters }) => {
      dataset(datasetId)
      const t = await resolveTokenizer(tokenizer)
      if (listSelections(db, datasetId).some((s) => s.name.toLowerCase() === name.toLowerCase())) {
        throw new ApiError('conflict', `this dataset has a selection named "${name}" already`)
      }
      const id = saveSelection(db, { datasetId, name, tokenizer: t.key, fingerprint: t.fingerprint, filters })
      return getSelection(db, id)!
    },
    'selections.list': ({ datasetId }) => {
      dataset(datasetId)
      return listSelections(db, datasetId)
    },
    'selections.delete': ({ selectionId }) => ({ deleted: deleteSelection(db, selectionId) }),

    'engine.info': () => engineInfo(backendPreference(db)),
    'engine.setBackend': ({ preference }) => {
      setBackendPreference(db, preference)
      return engineInfo(preference)
    },
    'models.list': () => listModels(db),
    'models.inspect': ({ path }) => inspectModel(path),
    'models.add': async ({ path, name }) => {
      const id = await addModel(db, path, name)
      events.emit('models.changed', {})
      return getModel(db, id)!
    },
    'models.remove': ({ modelId }) => {
      const removed = deleteModel(db, modelId)
      if (removed) events.emit('models.changed', {})
      return { removed }
    },
    'generate.start': ({ modelId, ...request }) => {
      const model = requireModel(getModel(db, modelId), modelId)
      const args: GenerateTaskArgs = { preference: backendPreference(db), modelDir: model.path, ...request }
      return { label: `Generate with ${model.name}`, task: 'generate', args }
    },

    'train.presets': ({ modelId, method }) => training.presets(modelId, method),
    'runs.start': (request) => training.start(request),
    'runs.list': () => training.list(),
    'runs.get': ({ runId }) => {
      const run = getRun(db, runId)
      if (!run) throw new ApiError('not_found', `no run with id ${runId}`)
      return run
    },
    'runs.metrics': ({ runIds }) => runIds.map((id) => (training.summary(id), runMetrics(db, id))),
    'runs.cancel': ({ runId }) => training.cancel(runId),
    'runs.resume': ({ runId }) => training.resume(runId),
    'runs.delete': ({ runId, deleteFiles }) => ({ deleted: training.remove(runId, deleteFiles) }),
    'runs.addModel': async ({ runId }) => {
      const run = training.summary(runId)
      const dir = run.finalDir ?? run.lastCheckpoint
      if (!dir) throw new ApiError('conflict', `run ${runId} has no checkpoint yet`)
      if (run.resultModelId !== null && getModel(db, run.resultModelId)) return getModel(db, run.resultModelId)!
      const id = await addModel(db, dir, `${run.name}${run.finalDir ? '' : ` (step ${run.step})`}`.slice(0, 120))
      updateRun(db, runId, { resultModelId: id })
      events.emit('models.changed', {})
      events.emit('runs.changed', {})
      return getModel(db, id)!
    },

    'chat.list': () => chat.list(),
    'chat.get': ({ conversationId }) => chat.get(conversationId),
    'chat.create': (r) => chat.create(r),
    'chat.delete': ({ conversationId }) => ({ deleted: chat.remove(conversationId) }),
    'chat.send': ({ conversationId, text, sampling, samplingRight }) => chat.send(conversationId, text, sampling, samplingRight),
    'chat.vote': ({ turnId, choice }) => chat.vote(turnId, choice),
    'chat.winRates': () => chat.winRates(),
    'chat.revise': (r) => chat.revise(r),
    'eval.run': ({ modelAId, modelBId, datasetId, selectionId, ...options }) => {
      const d = dataset(datasetId)
      const a = requireModel(getModel(db, modelAId), modelAId)
      const b = requireModel(getModel(db, modelBId), modelBId)
      const args: EvalTaskArgs = {
        dataDir, preference: backendPreference(db), datasetId, selectionId: selectionId ?? null, ...options,
        models: { a: { id: a.id, name: a.name, path: a.path }, b: { id: b.id, name: b.name, path: b.path } },
      }
      return { label: `Evaluate ${a.name} vs ${b.name} on ${d.name}`, task: 'eval', args, onDone: () => events.emit('evals.changed', {}) }
    },
    'eval.demo': ({ modelId, seeds, methods, maxSteps, gamma, answerTokens, limit }) => {
      const base = modelId === undefined ? null : requireModel(getModel(db, modelId), modelId)
      const path = base?.path ?? join(resourcesDir(), 'demo-model')
      const args: DemoStudyTaskArgs = { dataDir, preference: backendPreference(db), baseModelDir: path, seeds, methods, maxSteps, gamma, answerTokens, limit }
      return { label: `Demo study: ${methods.map((m) => m.toUpperCase()).join(' vs ')} from ${base?.name ?? 'demo-model'}, ${seeds.length} seeds`, task: 'demoStudy', args }
    },
    'eval.list': () => listEvals(db),
    'eval.export': ({ evalId, format }) => {
      if (!getEval(db, evalId)) throw new ApiError('not_found', `no evaluation with id ${evalId}`)
      return { fileName: `eval-${evalId}.${format}`, contentType: format === 'csv' ? 'text/csv' : 'application/x-ndjson', stream: () => exportEvalRows(evalRows(db, evalId), format) }
    },

    'jobs.list': () => jobs.list(),
    'jobs.cancel': ({ jobId }) => ({ cancelled: jobs.cancel(jobId) }),
  }
}
