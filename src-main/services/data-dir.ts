import { homedir } from 'node:os'
import { join, resolve } from 'node:path'

export const APP_NAME = 'FIGA Studio'

/**
 * Where the app keeps its database and files: --data-dir, else FIGA_DATA_DIR, else the
 * platform's user-data folder (the same one Electron's app.getPath('userData') gives).
 */
export function resolveDataDir(flag?: string, env: NodeJS.ProcessEnv = process.env): string {
  if (flag) return resolve(flag)
  if (env.FIGA_DATA_DIR) return resolve(env.FIGA_DATA_DIR)
  return defaultUserDataDir(env)
}

function defaultUserDataDir(env: NodeJS.ProcessEnv): string {
  if (process.platform === 'win32') return join(env.APPDATA ?? join(homedir(), 'AppData', 'Roaming'), APP_NAME)
  if (process.platform === 'darwin') return join(homedir(), 'Library', 'Application Support', APP_NAME)
  return join(env.XDG_CONFIG_HOME ?? join(homedir(), '.config'), APP_NAME)
}

/** `--data-dir DIR` or `--data-dir=DIR` from an argv (Electron and the start script parse it by hand). */
export function dataDirFromArgv(argv: string[]): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--data-dir') return argv[i + 1]
    if (argv[i].startsWith('--data-dir=')) return argv[i].slice('--data-dir='.length)
  }
  return undefined
}
