// Shared helpers for the data-layer tests.

import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { DatasetRow, ReadOptions } from '../../../src-main/data/index'
import { openDataset } from '../../../src-main/data/index'

const here = dirname(fileURLToPath(import.meta.url))

export function fixture(name: string): string {
  return resolve(here, '../../fixtures/data', name)
}

export async function collect<T>(rows: AsyncIterable<T>): Promise<T[]> {
  const items: T[] = []
  for await (const item of rows) items.push(item)
  return items
}

/** Every row of a file, normalised. */
export async function readAll(path: string, opts?: ReadOptions): Promise<DatasetRow[]> {
  const { rows } = await openDataset(path, opts)
  return collect(rows)
}

/** A fresh temp directory, removed by the returned cleanup. */
export function tempDir(): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'figa-data-'))
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) }
}

/** The error a promise rejects with (fails the test when it resolves). */
export async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise
  } catch (error) {
    return error as Error
  }
  throw new Error('expected a rejection')
}
