import { existsSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

/** The repository/app root: the nearest folder above this module holding package.json and resources/. */
export function appRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url))
  for (;;) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'resources'))) return dir
    const parent = dirname(dir)
    if (parent === dir) throw new Error('cannot find the FIGA Studio root (package.json + resources/)')
    dir = parent
  }
}

export function resourcesDir(): string {
  return join(appRoot(), 'resources')
}

/** The built renderer (electron-vite output) that the web host serves. */
export function rendererDir(): string {
  return resolve(appRoot(), 'out', 'renderer')
}
