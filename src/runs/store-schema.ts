// The run store's tables (DESIGN.md §10). One SQLite file per project directory, in WAL mode so that
// readers (`flowlm runs`, `flowlm ui`) never block writers and many processes append at once.
// `user_version` carries the schema version; a store from a newer flowlm is refused, not altered.
export const STORE_VERSION = 1;

export const STORE_DDL = `
CREATE TABLE IF NOT EXISTS studies (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  direction TEXT NOT NULL CHECK (direction IN ('minimize', 'maximize')),
  metric TEXT NOT NULL,
  spec TEXT NOT NULL,            -- JSON: the command, space, sampler, pruner and seed the study was made with
  created_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS runs (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  command TEXT NOT NULL,
  argv TEXT NOT NULL,            -- JSON array
  study_id TEXT REFERENCES studies(id) ON DELETE CASCADE,
  trial INTEGER,                 -- trial number within the study (a re-run after a crash: the latest counts)
  status TEXT NOT NULL CHECK (status IN ('running', 'finished', 'failed', 'killed', 'pruned')),
  started_at INTEGER NOT NULL,
  ended_at INTEGER,
  heartbeat_at INTEGER NOT NULL,
  pid INTEGER NOT NULL,
  host TEXT NOT NULL,
  git_commit TEXT,
  git_dirty INTEGER,
  config TEXT,                   -- JSON
  config_hash TEXT,
  env TEXT NOT NULL,             -- JSON: node, platform, backend, devices, versions
  run_dir TEXT,
  error TEXT
);
CREATE INDEX IF NOT EXISTS runs_trial ON runs (study_id, trial);
CREATE INDEX IF NOT EXISTS runs_started ON runs (started_at);
CREATE TABLE IF NOT EXISTS params (
  run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  key TEXT NOT NULL,
  value TEXT NOT NULL,           -- JSON
  PRIMARY KEY (run_id, key)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS metrics (
  run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  key TEXT NOT NULL,             -- split/name, e.g. train/loss
  step INTEGER NOT NULL,
  value REAL,                    -- NULL is NaN (SQLite stores NaN as NULL)
  time INTEGER NOT NULL,         -- ms since the epoch
  PRIMARY KEY (run_id, key, step)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS artifacts (
  run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  path TEXT NOT NULL,
  kind TEXT NOT NULL,
  bytes INTEGER,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (run_id, path)
) WITHOUT ROWID;
`;
