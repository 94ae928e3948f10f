// Versioned schema migrations, applied in order at open. Each runs in its own transaction
// and bumps PRAGMA user_version; never edit a migration that has shipped — add a new one.
export interface Migration {
  version: number
  name: string
  sql: string
}

export const migrations: Migration[] = [
  {
    version: 1,
    name: 'datasets and pairs',
    sql: `
      CREATE TABLE meta (
        key   TEXT PRIMARY KEY,
        value TEXT NOT NULL
      );
      CREATE TABLE datasets (
        id            INTEGER PRIMARY KEY,
        name          TEXT NOT NULL UNIQUE COLLATE NOCASE,
        created_at    TEXT NOT NULL,
        updated_at    TEXT NOT NULL,
        source_name   TEXT,
        source_format TEXT,
        shape         TEXT,
        mapping       TEXT
      );
      CREATE TABLE pairs (
        id              INTEGER PRIMARY KEY,
        dataset_id      INTEGER NOT NULL REFERENCES datasets(id) ON DELETE CASCADE,
        position        INTEGER NOT NULL,
        kind            TEXT NOT NULL CHECK (kind IN ('pair', 'sft')),
        system          TEXT,
        instruction     TEXT NOT NULL,
        input           TEXT NOT NULL DEFAULT '',
        history         TEXT,
        original        TEXT,
        revised         TEXT NOT NULL,
        reference       TEXT,
        content_hash    TEXT NOT NULL,
        source_location TEXT,
        edited_at       TEXT,
        CHECK ((kind = 'pair') = (original IS NOT NULL))
      );
      CREATE UNIQUE INDEX pairs_by_position ON pairs(dataset_id, position);
      CREATE INDEX pairs_by_hash ON pairs(dataset_id, content_hash);
    `,
  },
]
