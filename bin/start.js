#!/usr/bin/env node
// `npm start`: the desktop app when Electron can run here; otherwise the same UI served on
// 127.0.0.1 for a browser, with the URL (and its session token) printed.
import { spawn, spawnSync } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const args = process.argv.slice(2)

/** The Electron executable, fetching it first if needed (electron >= 42 downloads on first use). */
function electronBinary() {
  const require = createRequire(import.meta.url)
  let dir
  try {
    dir = dirname(require.resolve('electron/package.json'))
  } catch {
    return null
  }
  const pathFile = join(dir, 'path.txt')
  if (existsSync(pathFile)) {
    const binary = join(dir, 'dist', readFileSync(pathFile, 'utf8').trim())
    if (existsSync(binary)) return binary
  }
  // Quietly: where there is no network the attempt fails, and one line says so below.
  const probe = spawnSync(process.execPath, ['-e', "process.stdout.write('\\n' + require('electron'))"], { cwd: root, encoding: 'utf8', timeout: 300_000 })
  const binary = probe.status === 0 ? probe.stdout.trim().split('\n').pop() : null
  return binary && existsSync(binary) ? binary : null
}

const wantWeb = args.includes('--web') || process.env.FIGA_WEB === '1'
const binary = wantWeb ? null : electronBinary()
const headless = process.platform === 'linux' && !process.env.DISPLAY && !process.env.WAYLAND_DISPLAY
if (binary && !headless) {
  const child = spawn(binary, [root, ...args], { stdio: 'inherit' })
  child.on('exit', (code) => process.exit(code ?? 0))
} else {
  const why = wantWeb ? '--web was given' : binary ? 'there is no display' : 'its binary could not be downloaded'
  console.log(`Electron cannot start here (${why}): serving FIGA Studio for your browser instead.`)
  const child = spawn(process.execPath, [join(root, 'bin', 'figa.js'), 'serve', ...args.filter((a) => a !== '--web')], { stdio: 'inherit' })
  const forward = (signal) => child.kill(signal)
  process.on('SIGINT', forward)
  process.on('SIGTERM', forward)
  child.on('exit', (code) => process.exit(code ?? 0))
}
