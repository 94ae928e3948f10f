#!/usr/bin/env node
// `npm start`: the desktop app when Electron can run here; otherwise the same UI served on
// 127.0.0.1 for a browser, with the URL (and its session token) printed.
import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const args = process.argv.slice(2)

function electronBinary() {
  try {
    const path = createRequire(import.meta.url)('electron')
    return typeof path === 'string' && existsSync(path) ? path : null
  } catch {
    return null
  }
}

const binary = electronBinary()
const headless = process.platform === 'linux' && !process.env.DISPLAY && !process.env.WAYLAND_DISPLAY
if (binary && !headless) {
  const child = spawn(binary, [root, ...args], { stdio: 'inherit' })
  child.on('exit', (code) => process.exit(code ?? 0))
} else {
  const why = binary ? 'there is no display' : 'its binary is not installed (npm could not download it)'
  console.log(`Electron cannot start here (${why}): serving FIGA Studio for your browser instead.`)
  const child = spawn(process.execPath, [join(root, 'bin', 'figa.js'), 'serve', ...args], { stdio: 'inherit' })
  const forward = (signal) => child.kill(signal)
  process.on('SIGINT', forward)
  process.on('SIGTERM', forward)
  child.on('exit', (code) => process.exit(code ?? 0))
}
