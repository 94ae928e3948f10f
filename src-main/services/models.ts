// The model registry and the engine preference: the service side of "Add model".
import { existsSync, readFileSync } from 'node:fs'
import { basename, join, resolve } from 'node:path'
import { ApiError } from '../api/errors'
import type { BackendPreference, ModelInspection, ModelSummary } from '../api/types'
import { getMeta, setMeta, type Db } from '../store/db'
import { findModel, insertModel } from '../store/models'

export async function inspectModel(path: string): Promise<ModelInspection> {
  const dir = resolve(path)
  // Lazily: the model engine loads TF.js, which the main thread otherwise never needs.
  const { inspectModelFolder } = await import('../model/model')
  const info = await inspectModelFolder(dir)
  const problems = [...info.problems]
  if (info.files.length > 0 && !info.files.includes('tokenizer.json')) problems.push('tokenizer.json is missing (the app needs the model\'s tokenizer)')
  return {
    path: dir, ok: problems.length === 0, architecture: info.architecture, modelType: info.modelType, paramCount: info.paramCount,
    dtype: info.dtype, sizeBytes: info.sizeBytes, memoryBytes: info.memoryBytes, files: info.files, problems, warnings: info.warnings,
  }
}

export async function addModel(db: Db, path: string, name?: string): Promise<number> {
  const inspection = await inspectModel(path)
  if (!inspection.ok) throw new ApiError('invalid_argument', `${inspection.path} cannot be added: ${inspection.problems.join('; ')}`, inspection.problems)
  const existing = findModel(db, { path: inspection.path })
  if (existing) throw new ApiError('conflict', `this folder is added already, as "${existing.name}"`)
  const modelName = uniqueName(db, name ?? basename(inspection.path))
  return insertModel(db, {
    name: modelName, path: inspection.path, architecture: inspection.architecture!, modelType: inspection.modelType!,
    paramCount: inspection.paramCount!, dtype: inspection.dtype ?? 'F32', sizeBytes: inspection.sizeBytes,
    hasChatTemplate: hasChatTemplate(inspection.path),
  })
}

function uniqueName(db: Db, wanted: string): string {
  if (!findModel(db, { name: wanted })) return wanted
  for (let i = 2; ; i++) if (!findModel(db, { name: `${wanted} (${i})` })) return `${wanted} (${i})`
}

function hasChatTemplate(dir: string): boolean {
  if (existsSync(join(dir, 'chat_template.jinja')) || existsSync(join(dir, 'chat_template.json'))) return true
  try {
    const config = JSON.parse(readFileSync(join(dir, 'tokenizer_config.json'), 'utf8')) as { chat_template?: unknown }
    return config.chat_template !== undefined && config.chat_template !== null
  } catch {
    return false
  }
}

export function backendPreference(db: Db): BackendPreference {
  return (getMeta(db, 'backend') as BackendPreference | undefined) ?? ((process.env.FIGA_BACKEND as BackendPreference | undefined) ?? 'auto')
}

export function setBackendPreference(db: Db, preference: BackendPreference): void {
  setMeta(db, 'backend', preference)
}

export function requireModel(model: ModelSummary | undefined, id: number): ModelSummary {
  if (!model) throw new ApiError('not_found', `no model with id ${id}`)
  return model
}
