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
  {
    version: 2,
    name: 'fine-grained signals, exclusions and selections',
    sql: `
      -- Per-pair alignment statistics, keyed by the pair's content and the tokenizer's
      -- fingerprint: an edited pair gets a new content hash, so its old entry no longer applies.
      CREATE TABLE pair_signals (
        tokenizer       TEXT NOT NULL,
        content_hash    TEXT NOT NULL,
        original_tokens INTEGER NOT NULL,
        revised_tokens  INTEGER NOT NULL,
        added           INTEGER NOT NULL,
        deleted         INTEGER NOT NULL,
        substituted     INTEGER NOT NULL,
        same            INTEGER NOT NULL,
        distance        INTEGER NOT NULL,
        edit_ratio      REAL NOT NULL,
        PRIMARY KEY (tokenizer, content_hash)
      ) WITHOUT ROWID;
      CREATE INDEX pairs_by_content ON pairs(content_hash);
      -- Pairs left out of training by hand; the pair itself is unchanged.
      CREATE TABLE pair_exclusions (
        pair_id     INTEGER PRIMARY KEY REFERENCES pairs(id) ON DELETE CASCADE,
        excluded_at TEXT NOT NULL
      );
      -- A named, frozen list of pairs (what the filters kept when it was saved).
      CREATE TABLE selections (
        id         INTEGER PRIMARY KEY,
        dataset_id INTEGER NOT NULL REFERENCES datasets(id) ON DELETE CASCADE,
        name       TEXT NOT NULL COLLATE NOCASE,
        tokenizer  TEXT NOT NULL,
        filters    TEXT NOT NULL,
        created_at TEXT NOT NULL,
        UNIQUE (dataset_id, name)
      );
      CREATE TABLE selection_pairs (
        selection_id INTEGER NOT NULL REFERENCES selections(id) ON DELETE CASCADE,
        pair_id      INTEGER NOT NULL REFERENCES pairs(id) ON DELETE CASCADE,
        PRIMARY KEY (selection_id, pair_id)
      ) WITHOUT ROWID;
      -- Deleting a pair checks its selection memberships: index them by pair.
      CREATE INDEX selection_pairs_by_pair ON selection_pairs(pair_id);
    `,
  },
  {
    version: 3,
    name: 'models',
    sql: `
      CREATE TABLE models (
        id            INTEGER PRIMARY KEY,
        name          TEXT NOT NULL UNIQUE COLLATE NOCASE,
        path          TEXT NOT NULL UNIQUE,
        architecture  TEXT NOT NULL,
        model_type    TEXT NOT NULL,
        param_count   INTEGER NOT NULL,
        dtype         TEXT NOT NULL,
        size_bytes    INTEGER NOT NULL,
        chat_template INTEGER NOT NULL,
        added_at      TEXT NOT NULL
      );
    `,
  },
  {
    version: 4,
    name: 'training runs and their metrics',
    sql: `
      CREATE TABLE runs (
        id              INTEGER PRIMARY KEY,
        name            TEXT NOT NULL,
        dataset_id      INTEGER REFERENCES datasets(id) ON DELETE SET NULL,
        selection_id    INTEGER REFERENCES selections(id) ON DELETE SET NULL,
        model_id        INTEGER REFERENCES models(id) ON DELETE SET NULL,
        base_model      TEXT NOT NULL,
        method          TEXT NOT NULL CHECK (method IN ('figa', 'sft')),
        preset          TEXT,
        settings        TEXT NOT NULL,
        state           TEXT NOT NULL CHECK (state IN ('running', 'done', 'failed', 'cancelled', 'interrupted')),
        out_dir         TEXT NOT NULL,
        step            INTEGER NOT NULL DEFAULT 0,
        total_steps     INTEGER,
        last_checkpoint TEXT,
        final_dir       TEXT,
        error           TEXT,
        result_model_id INTEGER REFERENCES models(id) ON DELETE SET NULL,
        -- The process training it while 'running': a run whose process is gone was interrupted.
        owner_pid       INTEGER,
        created_at      TEXT NOT NULL,
        updated_at      TEXT NOT NULL
      );
      CREATE TABLE run_metrics (
        run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        kind   TEXT NOT NULL CHECK (kind IN ('train', 'eval')),
        step   INTEGER NOT NULL,
        data   TEXT NOT NULL,
        PRIMARY KEY (run_id, kind, step)
      ) WITHOUT ROWID;
    `,
  },
  {
    version: 5,
    name: 'side-by-side chat, votes and evaluations',
    sql: `
      CREATE TABLE conversations (
        id         INTEGER PRIMARY KEY,
        title      TEXT NOT NULL,
        model_a    INTEGER NOT NULL REFERENCES models(id) ON DELETE CASCADE,
        model_b    INTEGER REFERENCES models(id) ON DELETE CASCADE,
        blind      INTEGER NOT NULL,
        template   TEXT NOT NULL,
        system     TEXT,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
      );
      -- One user message and the two answers. In blind mode 'swapped' says that model B is shown
      -- on the left; the UI learns it only with the vote.
      CREATE TABLE turns (
        id              INTEGER PRIMARY KEY,
        conversation_id INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
        position        INTEGER NOT NULL,
        user_text       TEXT NOT NULL,
        answer_a        TEXT NOT NULL DEFAULT '',
        answer_b        TEXT,
        state_a         TEXT NOT NULL DEFAULT 'streaming',
        state_b         TEXT,
        swapped         INTEGER NOT NULL DEFAULT 0,
        vote            TEXT CHECK (vote IN ('a', 'b', 'tie')),
        voted_at        TEXT,
        created_at      TEXT NOT NULL,
        UNIQUE (conversation_id, position)
      );
      CREATE TABLE evals (
        id          INTEGER PRIMARY KEY,
        model_a     INTEGER REFERENCES models(id) ON DELETE SET NULL,
        model_b     INTEGER REFERENCES models(id) ON DELETE SET NULL,
        name_a      TEXT NOT NULL,
        name_b      TEXT NOT NULL,
        dataset_id  INTEGER REFERENCES datasets(id) ON DELETE SET NULL,
        settings    TEXT NOT NULL,
        summary     TEXT NOT NULL,
        created_at  TEXT NOT NULL
      );
      CREATE TABLE eval_rows (
        eval_id        INTEGER NOT NULL REFERENCES evals(id) ON DELETE CASCADE,
        pair_id        INTEGER NOT NULL,
        side           TEXT NOT NULL CHECK (side IN ('a', 'b')),
        logp_revised   REAL NOT NULL,
        tokens_revised INTEGER NOT NULL,
        logp_original  REAL NOT NULL,
        tokens_original INTEGER NOT NULL,
        answer_tokens  INTEGER,
        answer         TEXT,
        PRIMARY KEY (eval_id, pair_id, side)
      ) WITHOUT ROWID;
    `,
  },
]
