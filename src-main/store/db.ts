import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { migrations } from './migrations'

export type Db = Database.Database

export const DB_FILE = 'figa.db'

/** Opens (creating if needed) the app database in `dataDir`: WAL, foreign keys, migrations applied. */
export function openDb(dataDir: string, options: { readonly?: boolean } = {}): Db {
  mkdirSync(dataDir, { recursive: true })
  const db = new Database(join(dataDir, DB_FILE), { readonly: options.readonly ?? false })
  db.pragma('journal_mode = WAL')
  db.pragma('foreign_keys = ON')
  // Workers write through their own connections; wait for a lock instead of failing at once.
  db.pragma('busy_timeout = 10000')
  db.pragma('synchronous = NORMAL')
  if (!options.readonly) migrate(db)
  return db
}

export function schemaVersion(db: Db): number {
  return db.pragma('user_version', { simple: true }) as number
}

function migrate(db: Db): void {
  const current = schemaVersion(db)
  const newest = migrations[migrations.length - 1]?.version ?? 0
  if (current > newest) {
    throw new Error(`this database has schema version ${current}, newer than this app knows (${newest}): update FIGA Studio`)
  }
  for (const migration of migrations) {
    if (migration.version <= current) continue
    db.transaction(() => {
      db.exec(migration.sql)
      db.pragma(`user_version = ${migration.version}`)
    }).immediate()
  }
}

export function now(): string {
  return new Date().toISOString()
}

export function getMeta(db: Db, key: string): string | undefined {
  const row = db.prepare('SELECT value FROM meta WHERE key = ?').get(key) as { value: string } | undefined
  return row?.value
}

export function setMeta(db: Db, key: string, value: string): void {
  db.prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value').run(key, value)
}
