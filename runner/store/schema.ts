/** The SQLite schema. Times are milliseconds since the epoch; cursors and args are JSON text. */
export const SCHEMA_VERSION = 3;

export const SCHEMA = `
CREATE TABLE baton_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);

CREATE TABLE jobs (
  no INTEGER PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  name TEXT NOT NULL,
  processor TEXT NOT NULL,
  bundle TEXT,
  args TEXT NOT NULL,
  state TEXT NOT NULL,
  paused INTEGER NOT NULL DEFAULT 0,
  max_parallel INTEGER NOT NULL,
  rampup TEXT,
  rate_items REAL,
  rate_pages REAL,
  threads INTEGER,
  retry TEXT NOT NULL,
  page_timeout_ms INTEGER NOT NULL,
  estimate_total REAL,
  durability TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  started_at INTEGER NOT NULL,
  ended_at INTEGER,
  owner TEXT,
  owner_pid INTEGER,
  owner_host TEXT,
  heartbeat_at INTEGER,
  control_version INTEGER NOT NULL DEFAULT 0,
  cancel_requested INTEGER NOT NULL DEFAULT 0,
  retry_requested INTEGER NOT NULL DEFAULT 0,
  last_error TEXT,
  next_page INTEGER NOT NULL DEFAULT 1,
  pages_total INTEGER NOT NULL DEFAULT 0,
  pages_queued INTEGER NOT NULL DEFAULT 0,
  pages_running INTEGER NOT NULL DEFAULT 0,
  pages_succeeded INTEGER NOT NULL DEFAULT 0,
  pages_failed INTEGER NOT NULL DEFAULT 0,
  items REAL NOT NULL DEFAULT 0,
  attempts INTEGER NOT NULL DEFAULT 0,
  max_in_flight INTEGER NOT NULL DEFAULT 0
);

-- parent/ordinal make enqueueNextPage idempotent per (page, call ordinal); the unique index on
-- the cursor makes a repeated cursor a no-op, so a paginator that repeats itself ends.
CREATE TABLE pages (
  job INTEGER NOT NULL,
  no INTEGER NOT NULL,
  parent INTEGER NOT NULL,
  ordinal INTEGER NOT NULL,
  cursor TEXT NOT NULL,
  size INTEGER,
  state TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  retry_base INTEGER NOT NULL DEFAULT 0,
  children INTEGER NOT NULL DEFAULT 0,
  run_after INTEGER,
  items REAL,
  started_at INTEGER,
  ended_at INTEGER,
  -- Set only for a page whose one and only attempt succeeded: that attempt is this row (its
  -- slot, started_at, ended_at, items) and has no row in attempts, a write fewer per page.
  slot INTEGER,
  PRIMARY KEY (job, no)
) WITHOUT ROWID;
CREATE UNIQUE INDEX pages_cursor ON pages (job, cursor, ifnull(size, -1));
CREATE INDEX pages_failed ON pages (job, no) WHERE state = 'failed';

CREATE TABLE attempts (
  job INTEGER NOT NULL,
  page INTEGER NOT NULL,
  attempt INTEGER NOT NULL,
  slot INTEGER NOT NULL,
  outcome TEXT NOT NULL,
  started_at INTEGER NOT NULL,
  ended_at INTEGER,
  items REAL,
  error_name TEXT,
  error_message TEXT,
  error_stack TEXT,
  PRIMARY KEY (job, page, attempt)
) WITHOUT ROWID;

-- One row per running job, rewritten about four times a second by its owner: the live view
-- (snapshot, running attempts, attempts ended since the last write) other processes read.
CREATE TABLE job_live (
  job INTEGER PRIMARY KEY,
  seq INTEGER NOT NULL,
  at INTEGER NOT NULL,
  activity TEXT NOT NULL
);

CREATE TABLE logs (
  job INTEGER NOT NULL,
  page INTEGER NOT NULL,
  attempt INTEGER NOT NULL,
  at INTEGER NOT NULL,
  level TEXT NOT NULL,
  message TEXT NOT NULL
);
CREATE INDEX logs_attempt ON logs (job, page, attempt);
`;

/** Statements that bring a database of version N - 1 to version N, by N. */
export const MIGRATIONS: Record<number, string> = {
  2: `
-- One row per running job, rewritten about four times a second by its owner: the live view
-- (snapshot, running attempts, attempts ended since the last write) other processes read.
CREATE TABLE IF NOT EXISTS job_live (
  job INTEGER PRIMARY KEY,
  seq INTEGER NOT NULL,
  at INTEGER NOT NULL,
  activity TEXT NOT NULL
);

`,
  3: `
-- A page whose one and only attempt succeeded keeps that attempt in its own row.
ALTER TABLE pages ADD COLUMN slot INTEGER;
`,
};
