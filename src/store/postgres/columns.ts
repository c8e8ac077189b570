/**
 * Explicit column lists for every PostgreSQL table the store reads, in the SQLite tables'
 * order: records have the same key order on both engines, and a later `ALTER TABLE` never
 * changes what a cached prepared statement returns.
 */

export const PIPELINE_COLUMNS =
  "name, current_version, source_path, schedule, metadata, created_at, updated_at";
export const VERSION_COLUMNS = `pipeline, version, hash, filename, code, metadata, created_at,
  source, parent, heal_id, promoted_at`;
export const RUN_COLUMNS = `run_id, pipeline, version, status, trigger, params, attempt,
  max_attempts, created_at, started_at, finished_at, duration_ms, result, error, permissions,
  attempts, pid, scheduled_at, logical_run, downstream, exclusive, sandbox, access, pool,
  worker_id, lease_expires_at, diagnosis`;
export const WORKER_COLUMNS =
  "id, host, pid, roles, tags, capacity, load, status, started_at, heartbeat_at";
export const STEP_COLUMNS = `run_id, attempt, seq, name, status, started_at, finished_at,
  duration_ms, rows_in, rows_out, metadata, error`;
export const LOG_COLUMNS = "run_id, attempt, seq, ts, level, step, message";
export const SCHEDULE_COLUMNS =
  "pipeline, cron, every_s, timezone, enabled, anchor, last_tick, missed, updated_at";
export const TICK_COLUMNS = "pipeline, scheduled_at, outcome, run_id, detail, recorded_at";
export const API_KEY_COLUMNS = "id, name, scope, hash, created_at, last_used_at, revoked_at";
export const HEAL_COLUMNS =
  "id, pipeline, run_id, status, created_at, finished_at, expires_at, record";
