/**
 * Forward-only schema migrations for the PostgreSQL store, numbered like SQLite's so one
 * version means one schema on both engines. Append new entries with the next version number;
 * never edit or reorder an applied one.
 *
 * `PostgresStore.migrate()` runs them all in one transaction that first takes a transaction-level
 * advisory lock, then creates `schema_migrations` if needed and re-reads it: several daemons
 * starting at once on an empty database serialize on the lock, and each one after the first
 * finds everything applied (DDL is transactional in PostgreSQL, so a failed migration leaves
 * nothing behind).
 *
 * Choices that keep records identical to the SQLite store's:
 * - Timestamps stay ISO-8601 TEXT (`2024-01-01T00:00:00.000Z`), written by the application, so
 *   they round-trip byte for byte and sort as they do in SQLite.
 * - Every text column uses the "C" collation: ordering (`ORDER BY name`, the `run_id` tie
 *   breaker, `GREATEST(last_tick, …)`) is bytewise like SQLite's, whatever the database's
 *   default collation is.
 * - JSON columns are `json` (validated, text kept as written: key order and numbers survive a
 *   round trip, which `jsonb` would not guarantee) and are parsed by the store on read.
 * - Flags are BOOLEAN; counters and durations BIGINT (read back as numbers).
 */

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

/** Text compared bytewise, like SQLite's default BINARY collation. */
const TEXT = `TEXT COLLATE "C"`;

/** Created (under the migration lock) before the pending migrations are looked up. */
export const SCHEMA_MIGRATIONS_DDL = `
CREATE TABLE IF NOT EXISTS schema_migrations (
  version    INTEGER PRIMARY KEY,
  name       ${TEXT} NOT NULL,
  applied_at ${TEXT} NOT NULL
);`;

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: "initial_schema",
    sql: `
CREATE TABLE pipelines (
  name            ${TEXT} PRIMARY KEY,
  current_version INTEGER NOT NULL,
  source_path     ${TEXT},
  schedule        ${TEXT},
  metadata        json NOT NULL DEFAULT '{}',
  created_at      ${TEXT} NOT NULL,
  updated_at      ${TEXT} NOT NULL
);

CREATE TABLE pipeline_versions (
  pipeline   ${TEXT} NOT NULL REFERENCES pipelines(name) ON DELETE CASCADE,
  version    INTEGER NOT NULL,
  hash       ${TEXT} NOT NULL,
  filename   ${TEXT} NOT NULL,
  code       ${TEXT} NOT NULL,
  metadata   json NOT NULL DEFAULT '{}',
  created_at ${TEXT} NOT NULL,
  PRIMARY KEY (pipeline, version)
);

CREATE TABLE runs (
  run_id       ${TEXT} PRIMARY KEY,
  pipeline     ${TEXT} NOT NULL REFERENCES pipelines(name) ON DELETE CASCADE,
  version      INTEGER NOT NULL,
  status       ${TEXT} NOT NULL,
  trigger      ${TEXT} NOT NULL,
  params       json NOT NULL DEFAULT '{}',
  attempt      INTEGER NOT NULL DEFAULT 0,
  max_attempts INTEGER NOT NULL DEFAULT 1,
  created_at   ${TEXT} NOT NULL,
  started_at   ${TEXT},
  finished_at  ${TEXT},
  duration_ms  BIGINT,
  result       json,
  error        json,
  permissions  json,
  attempts     json NOT NULL DEFAULT '[]',
  pid          BIGINT
);
CREATE INDEX runs_pipeline_created ON runs (pipeline, created_at);
CREATE INDEX runs_status ON runs (status);

CREATE TABLE steps (
  run_id      ${TEXT} NOT NULL REFERENCES runs(run_id) ON DELETE CASCADE,
  attempt     INTEGER NOT NULL,
  seq         INTEGER NOT NULL,
  name        ${TEXT} NOT NULL,
  status      ${TEXT} NOT NULL,
  started_at  ${TEXT} NOT NULL,
  finished_at ${TEXT},
  duration_ms BIGINT,
  rows_in     BIGINT,
  rows_out    BIGINT,
  metadata    json NOT NULL DEFAULT '{}',
  error       json,
  PRIMARY KEY (run_id, attempt, seq)
);

CREATE TABLE logs (
  run_id  ${TEXT} NOT NULL REFERENCES runs(run_id) ON DELETE CASCADE,
  attempt INTEGER NOT NULL,
  seq     BIGINT NOT NULL,
  ts      ${TEXT} NOT NULL,
  level   ${TEXT} NOT NULL,
  step    ${TEXT},
  message ${TEXT} NOT NULL,
  PRIMARY KEY (run_id, seq)
);
`,
  },
  {
    version: 2,
    name: "scheduler_and_dags",
    // SQLite's version 2 also moves schedules and dependencies out of pipeline metadata; no
    // PostgreSQL store predates version 2, so there is nothing to move here.
    sql: `
ALTER TABLE runs ADD COLUMN scheduled_at ${TEXT};
ALTER TABLE runs ADD COLUMN logical_run ${TEXT};
ALTER TABLE runs ADD COLUMN downstream BOOLEAN NOT NULL DEFAULT false;
ALTER TABLE runs ADD COLUMN exclusive BOOLEAN NOT NULL DEFAULT false;
CREATE INDEX runs_logical ON runs (logical_run, pipeline);
-- A dependency trigger happens once per pipeline and logical run, whoever evaluates it.
CREATE UNIQUE INDEX runs_dependency_once ON runs (logical_run, pipeline)
  WHERE trigger = 'dependency';

CREATE TABLE schedules (
  pipeline   ${TEXT} PRIMARY KEY REFERENCES pipelines(name) ON DELETE CASCADE,
  cron       ${TEXT},
  every_s    BIGINT,
  timezone   ${TEXT},
  enabled    BOOLEAN NOT NULL DEFAULT true,
  anchor     ${TEXT} NOT NULL,
  last_tick  ${TEXT} NOT NULL,
  missed     BIGINT NOT NULL DEFAULT 0,
  updated_at ${TEXT} NOT NULL
);

-- One row per scheduled instant that was handled: the primary key is what makes a tick fire
-- at most once, across restarts, redeploys, clock jumps and several daemons.
CREATE TABLE ticks (
  pipeline     ${TEXT} NOT NULL REFERENCES pipelines(name) ON DELETE CASCADE,
  scheduled_at ${TEXT} NOT NULL,
  outcome      ${TEXT} NOT NULL,
  run_id       ${TEXT},
  detail       ${TEXT},
  recorded_at  ${TEXT} NOT NULL,
  PRIMARY KEY (pipeline, scheduled_at)
);
CREATE INDEX ticks_scheduled ON ticks (scheduled_at);

CREATE TABLE dependencies (
  pipeline ${TEXT} NOT NULL REFERENCES pipelines(name) ON DELETE CASCADE,
  upstream ${TEXT} NOT NULL REFERENCES pipelines(name) ON DELETE CASCADE,
  PRIMARY KEY (pipeline, upstream)
);
CREATE INDEX dependencies_upstream ON dependencies (upstream);
`,
  },
  {
    version: 3,
    name: "sandbox_and_api_keys",
    sql: `
-- The layers and limits a run actually had, and what it accessed (Deno's permission audit).
ALTER TABLE runs ADD COLUMN sandbox json;
ALTER TABLE runs ADD COLUMN access json;

-- API keys are stored as SHA-256 digests only; the key itself is shown once, at creation.
CREATE TABLE api_keys (
  id           ${TEXT} PRIMARY KEY,
  name         ${TEXT},
  scope        ${TEXT} NOT NULL CHECK (scope IN ('read', 'operate', 'admin')),
  hash         ${TEXT} NOT NULL,
  created_at   ${TEXT} NOT NULL,
  last_used_at ${TEXT},
  revoked_at   ${TEXT}
);
`,
  },
  {
    version: 4,
    name: "workers_and_leases",
    sql: `
-- A queued run is claimed by one worker under a lease its heartbeat renews.
ALTER TABLE runs ADD COLUMN pool ${TEXT};
ALTER TABLE runs ADD COLUMN worker_id ${TEXT};
ALTER TABLE runs ADD COLUMN lease_expires_at ${TEXT};
CREATE INDEX runs_queue ON runs (created_at, run_id) WHERE status = 'queued';
CREATE INDEX runs_leased ON runs (worker_id) WHERE status = 'running';

CREATE TABLE workers (
  id           ${TEXT} PRIMARY KEY,
  host         ${TEXT} NOT NULL,
  pid          BIGINT,
  roles        json NOT NULL,
  tags         json NOT NULL,
  capacity     INTEGER NOT NULL,
  load         INTEGER NOT NULL DEFAULT 0,
  status       ${TEXT} NOT NULL,
  started_at   ${TEXT} NOT NULL,
  heartbeat_at ${TEXT} NOT NULL
);

-- Named leases, e.g. the one that makes a single daemon fire schedules.
CREATE TABLE leases (
  name       ${TEXT} PRIMARY KEY,
  holder     ${TEXT} NOT NULL,
  expires_at ${TEXT} NOT NULL
);

-- Workers LISTEN on tau_queue: every run that becomes queued wakes them (delivered on commit,
-- once per transaction).
CREATE FUNCTION tau_notify_queue() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('tau_queue', '');
  RETURN NULL;
END $$;
CREATE TRIGGER runs_queued AFTER INSERT OR UPDATE OF status ON runs
  FOR EACH ROW WHEN (NEW.status = 'queued') EXECUTE FUNCTION tau_notify_queue();
`,
  },
  {
    version: 5,
    name: "versions_diagnoses_heals",
    sql: `
-- Where each version came from, and whether it ever went live: a heal's candidate is stored
-- before its replay and promoted only when the replay succeeds.
ALTER TABLE pipeline_versions ADD COLUMN source ${TEXT} NOT NULL DEFAULT 'deploy'
  CHECK (source IN ('deploy', 'heal', 'rollback', 'create'));
ALTER TABLE pipeline_versions ADD COLUMN parent INTEGER;
ALTER TABLE pipeline_versions ADD COLUMN heal_id ${TEXT};
ALTER TABLE pipeline_versions ADD COLUMN promoted_at ${TEXT};
-- Every version deployed so far went live when it was made, derived from the one before.
UPDATE pipeline_versions SET promoted_at = created_at,
  parent = CASE WHEN version > 1 THEN version - 1 END;

ALTER TABLE runs ADD COLUMN diagnosis json;

CREATE TABLE heals (
  id          ${TEXT} PRIMARY KEY,
  pipeline    ${TEXT} NOT NULL REFERENCES pipelines(name) ON DELETE CASCADE,
  run_id      ${TEXT},
  status      ${TEXT} NOT NULL,
  created_at  ${TEXT} NOT NULL,
  finished_at ${TEXT},
  record      json NOT NULL DEFAULT '{}'
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
ALTER TABLE heals ADD COLUMN expires_at ${TEXT};
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
];
