#!/usr/bin/env node
// The figa command: runs the TypeScript sources through tsx (no build step needed).
import { register } from 'tsx/esm/api'

register()
const { main } = await import('../src-main/cli/main.ts')
const code = await main(process.argv.slice(2))
// Worker pools (WASM threads) may keep the event loop alive: exit explicitly.
process.exit(code)
