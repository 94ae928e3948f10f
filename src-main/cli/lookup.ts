// Finding datasets, selections, models and runs by what a shell user types: a name or an id.
import { existsSync, statSync } from 'node:fs'
import { resolve } from 'node:path'
import { ApiError } from '../api/errors'
import type { DatasetSummary, ModelInspection, ModelSummary, RunSummary, Selection } from '../api/types'
import type { Services } from '../services'

const ctx = { host: 'cli' as const }

function byNameOrId<T extends { id: number; name: string }>(list: T[], value: string): T | undefined {
  return list.find((x) => x.name.toLowerCase() === value.toLowerCase()) ?? (/^\d+$/.test(value) ? list.find((x) => x.id === Number(value)) : undefined)
}

export async function findDataset(services: Services, value: string): Promise<DatasetSummary> {
  const found = byNameOrId((await services.call('datasets.list', {}, ctx)) as DatasetSummary[], value)
  if (!found) throw new ApiError('not_found', `no dataset "${value}" (figa datasets lists them)`)
  return found
}

export async function findDatasetOrNull(services: Services, value: string): Promise<DatasetSummary | undefined> {
  return byNameOrId((await services.call('datasets.list', {}, ctx)) as DatasetSummary[], value)
}

export async function findSelection(services: Services, dataset: DatasetSummary, name: string): Promise<Selection> {
  const list = (await services.call('selections.list', { datasetId: dataset.id }, ctx)) as Selection[]
  const found = list.find((s) => s.name.toLowerCase() === name.toLowerCase())
  if (!found) throw new ApiError('not_found', `dataset "${dataset.name}" has no selection "${name}"${list.length ? ` (have: ${list.map((s) => s.name).join(', ')})` : ''}`)
  return found
}

export async function findModel(services: Services, value: string): Promise<ModelSummary> {
  const found = byNameOrId((await services.call('models.list', {}, ctx)) as ModelSummary[], value)
  if (!found) throw new ApiError('not_found', `no model "${value}" (figa models lists them)`)
  return found
}

/** An added model (by name or folder), or a folder that was never added. */
export async function modelOrFolder(services: Services, value: string): Promise<ModelSummary | { path: string }> {
  const list = (await services.call('models.list', {}, ctx)) as ModelSummary[]
  const path = resolve(value)
  const added = list.find((m) => m.path === path || m.name.toLowerCase() === value.toLowerCase())
  if (added) return added
  if (existsSync(path) && statSync(path).isDirectory()) return { path }
  throw new ApiError('not_found', `"${value}" is neither a model folder nor the name of an added model`)
}

/** A run as `run:ID`, an id, or its name. */
export async function findRun(services: Services, value: string): Promise<RunSummary | undefined> {
  const list = (await services.call('runs.list', {}, ctx)) as RunSummary[]
  const id = /^run:(\d+)$/.exec(value)?.[1]
  return id !== undefined ? list.find((r) => r.id === Number(id)) : byNameOrId(list, value)
}

/** An added model by name, or a folder (added on the way, as the app would). */
export async function ensureModel(services: Services, value: string): Promise<ModelSummary> {
  const list = (await services.call('models.list', {}, ctx)) as ModelSummary[]
  const path = resolve(value)
  const found = list.find((m) => m.path === path || m.name.toLowerCase() === value.toLowerCase())
  if (found) return found
  if (!existsSync(path)) throw new ApiError('not_found', `"${value}" is neither a model folder nor the name of an added model`)
  const inspection = (await services.call('models.inspect', { path }, ctx)) as ModelInspection
  if (!inspection.ok) throw new ApiError('invalid_argument', `${path} cannot be used: ${inspection.problems.join('; ')}`)
  return (await services.call('models.add', { path }, ctx)) as ModelSummary
}
