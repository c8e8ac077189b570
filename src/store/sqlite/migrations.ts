/**
 * Forward-only schema migrations for the SQLite store. Append new entries with the next
 * version number; never edit or reorder an applied one. `SqliteStore.migrate()` applies each
 * pending entry in its own `BEGIN IMMEDIATE` transaction that first records the version in
 * `schema_migrations`, so concurrent migrators serialize on the write lock and skip what
 * another process already applied.
 */

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

/**
 * Created before any migration runs (the bookkeeping row is inserted before the migration's
 * own SQL). Migration 1 repeats it with IF NOT EXISTS so the schema reads complete.
 */
export const SCHEMA_MIGRATIONS_DDL = `
CREATE TABLE IF NOT EXISTS schema_migrations (
  version    INTEGER PRIMARY KEY,
  name       TEXT NOT NULL,
  applied_at TEXT NOT NULL
);`;

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: "initial_schema",
    sql: `
${SCHEMA_MIGRATIONS_DDL}

CREATE TABLE pipelines (
  name            TEXT PRIMARY KEY,
  current_version INTEGER NOT NULL,
  source_path     TEXT,
  schedule        TEXT,
  metadata        TEXT NOT NULL DEFAULT '{}',
  created_at      TEXT NOT NULL,
  updated_at      TEXT NOT NULL
);

CREATE TABLE pipeline_versions (
  pipeline   TEXT NOT NULL REFERENCES pipelines(name) ON DELETE CASCADE,
  version    INTEGER NOT NULL,
  hash       TEXT NOT NULL,
  filename   TEXT NOT NULL,
  code       TEXT NOT NULL,
  metadata   TEXT NOT NULL DEFAULT '{}',
  created_at TEXT NOT NULL,
  PRIMARY KEY (pipeline, version)
);

CREATE TABLE runs (
  run_id       TEXT PRIMARY KEY,
  pipeline     TEXT NOT NULL REFERENCES pipelines(name) ON DELETE CASCADE,
  version      INTEGER NOT NULL,
  status       TEXT NOT NULL,
  trigger      TEXT NOT NULL,
  params       TEXT NOT NULL DEFAULT '{}',
  attempt      INTEGER NOT NULL DEFAULT 0,
  max_attempts INTEGER NOT NULL DEFAULT 1,
  created_at   TEXT NOT NULL,
  started_at   TEXT,
  finished_at  TEXT,
  duration_ms  INTEGER,
  result       TEXT,
  error        TEXT,
  permissions  TEXT,
  attempts     TEXT NOT NULL DEFAULT '[]',
  pid          INTEGER
);
CREATE INDEX runs_pipeline_created ON runs (pipeline, created_at);
CREATE INDEX runs_status ON runs (status);

CREATE TABLE steps (
  run_id      TEXT NOT NULL REFERENCES runs(run_id) ON DELETE CASCADE,
  attempt     INTEGER NOT NULL,
  seq         INTEGER NOT NULL,
  name        TEXT NOT NULL,
  status      TEXT NOT NULL,
  started_at  TEXT NOT NULL,
  finished_at TEXT,
  duration_ms INTEGER,
  rows_in     INTEGER,
  rows_out    INTEGER,
  metadata    TEXT NOT NULL DEFAULT '{}',
  error       TEXT,
  PRIMARY KEY (run_id, attempt, seq)
);

CREATE TABLE logs (
  run_id  TEXT NOT NULL REFERENCES runs(run_id) ON DELETE CASCADE,
  attempt INTEGER NOT NULL,
  seq     INTEGER NOT NULL,
  ts      TEXT NOT NULL,
  level   TEXT NOT NULL,
  step    TEXT,
  message TEXT NOT NULL,
  PRIMARY KEY (run_id, seq)
);
`,
  },
  {
    version: 2,
    name: "scheduler_and_dags",
    sql: `
ALTER TABLE runs ADD COLUMN scheduled_at TEXT;
ALTER TABLE runs ADD COLUMN logical_run TEXT;
ALTER TABLE runs ADD COLUMN downstream INTEGER NOT NULL DEFAULT 0;
ALTER TABLE runs ADD COLUMN exclusive INTEGER NOT NULL DEFAULT 0;
CREATE INDEX runs_logical ON runs (logical_run, pipeline);
-- A dependency trigger happens once per pipeline and logical run, whoever evaluates it.
CREATE UNIQUE INDEX runs_dependency_once ON runs (logical_run, pipeline)
  WHERE trigger = 'dependency';

CREATE TABLE schedules (
  pipeline   TEXT PRIMARY KEY REFERENCES pipelines(name) ON DELETE CASCADE,
  cron       TEXT,
  every_s    INTEGER,
  timezone   TEXT,
  enabled    INTEGER NOT NULL DEFAULT 1,
  anchor     TEXT NOT NULL,
  last_tick  TEXT NOT NULL,
  missed     INTEGER NOT NULL DEFAULT 0,
  updated_at TEXT NOT NULL
);

-- One row per scheduled instant that was handled: the primary key is what makes a tick fire
-- at most once, across restarts, redeploys and clock jumps.
CREATE TABLE ticks (
  pipeline     TEXT NOT NULL REFERENCES pipelines(name) ON DELETE CASCADE,
  scheduled_at TEXT NOT NULL,
  outcome      TEXT NOT NULL,
  run_id       TEXT,
  detail       TEXT,
  recorded_at  TEXT NOT NULL,
  PRIMARY KEY (pipeline, scheduled_at)
);

CREATE TABLE dependencies (
  pipeline TEXT NOT NULL REFERENCES pipelines(name) ON DELETE CASCADE,
  upstream TEXT NOT NULL REFERENCES pipelines(name) ON DELETE CASCADE,
  PRIMARY KEY (pipeline, upstream)
);
CREATE INDEX dependencies_upstream ON dependencies (upstream);

-- Pipelines deployed before schedules had a table of their own keep theirs.
INSERT INTO schedules (pipeline, cron, every_s, timezone, enabled, anchor, last_tick, missed,
  updated_at)
SELECT name, json_extract(metadata, '$.schedule'), json_extract(metadata, '$.every'), NULL, 1,
  strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), 0,
  strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
FROM pipelines
WHERE json_extract(metadata, '$.schedule') IS NOT NULL
   OR json_extract(metadata, '$.every') IS NOT NULL;
INSERT OR IGNORE INTO dependencies (pipeline, upstream)
SELECT p.name, d.value FROM pipelines p, json_each(p.metadata, '$.depends_on') d
WHERE d.value IN (SELECT name FROM pipelines);
`,
  },
  {
    version: 3,
    name: "sandbox_and_api_keys",
    sql: `
-- The layers and limits a run actually had, and what it accessed (Deno's permission audit).
ALTER TABLE runs ADD COLUMN sandbox TEXT;
ALTER TABLE runs ADD COLUMN access TEXT;

-- API keys are stored as SHA-256 digests only; the key itself is shown once, at creation.
CREATE TABLE api_keys (
  id           TEXT PRIMARY KEY,
  name         TEXT,
  scope        TEXT NOT NULL CHECK (scope IN ('read', 'operate', 'admin')),
  hash         TEXT NOT NULL,
  created_at   TEXT NOT NULL,
  last_used_at TEXT,
  revoked_at   TEXT
);
`,
  },
  {
    version: 4,
    name: "workers_and_leases",
    sql: `
-- A queued run is claimed by one worker under a lease its heartbeat renews.
ALTER TABLE runs ADD COLUMN pool TEXT;
ALTER TABLE runs ADD COLUMN worker_id TEXT;
ALTER TABLE runs ADD COLUMN lease_expires_at TEXT;
CREATE INDEX runs_queue ON runs (created_at, run_id) WHERE status = 'queued';
CREATE INDEX runs_leased ON runs (worker_id) WHERE status = 'running';

CREATE TABLE workers (
  id           TEXT PRIMARY KEY,
  host         TEXT NOT NULL,
  pid          INTEGER,
  roles        TEXT NOT NULL,
  tags         TEXT NOT NULL,
  capacity     INTEGER NOT NULL,
  load         INTEGER NOT NULL DEFAULT 0,
  status       TEXT NOT NULL,
  started_at   TEXT NOT NULL,
  heartbeat_at TEXT NOT NULL
);

-- Named leases, e.g. the one that makes a single daemon fire schedules.
CREATE TABLE leases (
  name       TEXT PRIMARY KEY,
  holder     TEXT NOT NULL,
  expires_at TEXT NOT NULL
);
`,
  },
  {
    version: 5,
    name: "versions_diagnoses_heals",
    sql: `
-- Where each version came from, and whether it ever went live: a heal's candidate is stored
-- before its replay and promoted only when the replay succeeds.
ALTER TABLE pipeline_versions ADD COLUMN source TEXT NOT NULL DEFAULT 'deploy'
  CHECK (source IN ('deploy', 'heal', 'rollback', 'create'));
ALTER TABLE pipeline_versions ADD COLUMN parent INTEGER;
ALTER TABLE pipeline_versions ADD COLUMN heal_id TEXT;
ALTER TABLE pipeline_versions ADD COLUMN promoted_at TEXT;
-- Every version deployed so far went live when it was made, derived from the one before.
UPDATE pipeline_versions SET promoted_at = created_at,
  parent = CASE WHEN version > 1 THEN version - 1 END;

ALTER TABLE runs ADD COLUMN diagnosis TEXT;

CREATE TABLE heals (
  id          TEXT PRIMARY KEY,
  pipeline    TEXT NOT NULL REFERENCES pipelines(name) ON DELETE CASCADE,
  run_id      TEXT,
  status      TEXT NOT NULL,
  created_at  TEXT NOT NULL,
  finished_at TEXT,
  record      TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX heals_pipeline_created ON heals (pipeline, created_at);
`,
  },
  {
    version: 6,
    name: "heal_leases",
    sql: `
-- A running heal is held by the daemon running it until expires_at, which it renews. A daemon
-- that stops mid-heal leaves it running: the next start, or the next heal of the pipeline once
-- the lease has run out, closes it as interrupted. Heals from before this migration ended when
-- their daemon stopped for the upgrade.
ALTER TABLE heals ADD COLUMN expires_at TEXT;
UPDATE heals SET status = 'interrupted', finished_at = coalesce(finished_at, created_at)
  WHERE status = 'running';
-- At most one heal of a pipeline at a time, across every daemon sharing the store.
CREATE UNIQUE INDEX heals_one_running ON heals (pipeline) WHERE status = 'running';
`,
  },
  {
    version: 7,
    name: "runs_by_status",
    sql: `
-- The dashboard's run list of one pipeline, filtered by status and paged newest first.
CREATE INDEX runs_pipeline_status ON runs (pipeline, status, created_at, run_id);
`,
  },
  {
    version: 8,
    name: "webhooks",
    sql: `
-- Webhooks added with tau webhooks add (tau.toml's are read at start, never stored).
CREATE TABLE webhooks (
  name          TEXT PRIMARY KEY,
  url           TEXT NOT NULL,
  events        TEXT NOT NULL,
  pipelines     TEXT NOT NULL DEFAULT '[]',
  tags          TEXT NOT NULL DEFAULT '[]',
  secret_env    TEXT,
  format        TEXT NOT NULL DEFAULT 'json',
  allow_private INTEGER NOT NULL DEFAULT 0,
  created_at    TEXT NOT NULL
);
-- The outbox: one row per (event, webhook); event_key is unique, so announcing an event twice
-- (a restart, two daemons) never makes a second delivery. A daemon holds a row it is sending
-- until lease_expires_at.
CREATE TABLE webhook_deliveries (
  id               TEXT PRIMARY KEY,
  event_key        TEXT NOT NULL UNIQUE,
  webhook          TEXT NOT NULL,
  event            TEXT NOT NULL,
  subject          TEXT NOT NULL,
  payload          TEXT NOT NULL,
  status           TEXT NOT NULL DEFAULT 'pending'
    CHECK (status IN ('pending', 'delivered', 'dead')),
  attempts         INTEGER NOT NULL DEFAULT 0,
  next_at          TEXT,
  lease_holder     TEXT,
  lease_expires_at TEXT,
  created_at       TEXT NOT NULL,
  delivered_at     TEXT,
  last_error       TEXT
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_at) WHERE status = 'pending';
CREATE INDEX webhook_deliveries_webhook ON webhook_deliveries (webhook, created_at);
CREATE TABLE webhook_attempts (
  delivery_id TEXT NOT NULL REFERENCES webhook_deliveries(id) ON DELETE CASCADE,
  n           INTEGER NOT NULL,
  started_at  TEXT NOT NULL,
  duration_ms INTEGER NOT NULL,
  status_code INTEGER,
  error       TEXT,
  PRIMARY KEY (delivery_id, n)
);
-- Subjects (run:ID, heal:ID, tick:PIPELINE:AT) whose events were put in the outbox. What
-- ended before this migration is marked already: webhooks start with what ends after them.
CREATE TABLE webhook_announced (
  subject      TEXT PRIMARY KEY,
  announced_at TEXT NOT NULL
);
INSERT INTO webhook_announced SELECT 'run:' || run_id, finished_at FROM runs
  WHERE finished_at IS NOT NULL;
INSERT INTO webhook_announced SELECT 'heal:' || id, finished_at FROM heals
  WHERE finished_at IS NOT NULL;
INSERT INTO webhook_announced SELECT 'tick:' || pipeline || ':' || scheduled_at, recorded_at
  FROM ticks WHERE outcome = 'missed';
CREATE INDEX runs_finished ON runs (finished_at) WHERE finished_at IS NOT NULL;
CREATE INDEX heals_finished ON heals (finished_at) WHERE finished_at IS NOT NULL;
CREATE INDEX ticks_missed ON ticks (recorded_at) WHERE outcome = 'missed';
`,
  },
  {
    version: 9,
    name: "backfills",
    sql: `
-- tau backfill: one row per backfill, one per scheduled instant it covers. An instant becomes
-- active in the same transaction as its run is inserted, so a crash never makes a run twice.
CREATE TABLE backfills (
  id          TEXT PRIMARY KEY,
  pipeline    TEXT NOT NULL REFERENCES pipelines(name) ON DELETE CASCADE,
  from_at     TEXT NOT NULL,
  to_at       TEXT NOT NULL,
  status      TEXT NOT NULL CHECK (status IN ('running', 'completed', 'failed', 'cancelled')),
  concurrency INTEGER NOT NULL,
  rerun       INTEGER NOT NULL,
  downstream  INTEGER NOT NULL,
  created_at  TEXT NOT NULL,
  finished_at TEXT
);
CREATE INDEX backfills_status ON backfills (status);
CREATE INDEX backfills_pipeline_created ON backfills (pipeline, created_at);
CREATE TABLE backfill_instants (
  backfill_id  TEXT NOT NULL REFERENCES backfills(id) ON DELETE CASCADE,
  scheduled_at TEXT NOT NULL,
  state        TEXT NOT NULL CHECK (state IN
    ('pending', 'active', 'succeeded', 'failed', 'skipped', 'cancelled')),
  run_id       TEXT,
  attempts     INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (backfill_id, scheduled_at)
);
CREATE INDEX backfill_instants_state ON backfill_instants (backfill_id, state, scheduled_at);
-- Which instants of a pipeline already succeeded (a backfill skips them).
CREATE INDEX runs_succeeded_at ON runs (pipeline, scheduled_at) WHERE status = 'success';
`,
  },
  {
    version: 10,
    name: "lineage",
    sql: `
-- Which tables each run read and wrote (src/lineage/): looked up by table and by pipeline, and
-- deleted with its run.
CREATE TABLE lineage (
  run_id      TEXT NOT NULL REFERENCES runs(run_id) ON DELETE CASCADE,
  pipeline    TEXT NOT NULL,
  connection  TEXT NOT NULL,
  schema_name TEXT NOT NULL,
  table_name  TEXT NOT NULL,
  direction   TEXT NOT NULL CHECK (direction IN ('read', 'write')),
  step        TEXT,
  PRIMARY KEY (run_id, connection, schema_name, table_name, direction)
);
CREATE INDEX lineage_table ON lineage (table_name);
CREATE INDEX lineage_pipeline ON lineage (pipeline);
`,
  },
  {
    version: 11,
    name: "external_triggers",
    sql: `
-- A pipeline's trigger secret: an HMAC key, so it is kept as it is (like a webhook secret) and
-- shown once, when made. Deleting the pipeline deletes it.
CREATE TABLE trigger_secrets (
  pipeline   TEXT PRIMARY KEY REFERENCES pipelines(name) ON DELETE CASCADE,
  secret     TEXT NOT NULL,
  created_at TEXT NOT NULL
);
-- Verified deliveries, each with the run it created in the same transaction. The unique
-- indexes decide, in the database, that one event id (or one signed delivery) of a pipeline
-- makes one run however many copies arrive at once; rows older than the retention are deleted
-- by the next delivery of the pipeline.
CREATE TABLE trigger_deliveries (
  pipeline    TEXT NOT NULL REFERENCES pipelines(name) ON DELETE CASCADE,
  event_id    TEXT,
  signature   TEXT NOT NULL,
  run_id      TEXT NOT NULL,
  received_at TEXT NOT NULL
);
CREATE UNIQUE INDEX trigger_deliveries_event ON trigger_deliveries (pipeline, event_id)
  WHERE event_id IS NOT NULL;
CREATE UNIQUE INDEX trigger_deliveries_signature ON trigger_deliveries (pipeline, signature);
CREATE INDEX trigger_deliveries_received ON trigger_deliveries (pipeline, received_at);
`,
  },
];
