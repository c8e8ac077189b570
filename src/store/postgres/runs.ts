/** Runs on PostgreSQL: create, update, look up and list them, their errors, and the counts. */

import { DEFAULT_LIMIT, encode, toErrorRun, toRun, toStats } from "../codec.ts";
import { pipelineNotFound } from "../pipeline_rules.ts";
import { newRunValues, patchValues, RESOLVED_SQL } from "../run_columns.ts";
import type {
  ErrorRun,
  Json,
  NewRun,
  RunGuard,
  RunListOptions,
  RunPatch,
  RunRecord,
  RunStatus,
  StoreStats,
} from "../types.ts";
import { RUN_COLUMNS } from "./columns.ts";
import { count, type Db, type Param, query, sqlState } from "./db.ts";

/** The runs a statement selects. */
export async function runs(db: Db, sql: string, params: Param[]): Promise<RunRecord[]> {
  return (await query(db, sql, params)).map(toRun);
}

export async function getRun(db: Db, runId: string): Promise<RunRecord | null> {
  const [run] = await runs(db, `SELECT ${RUN_COLUMNS} FROM runs WHERE run_id = $1`, [runId]);
  return run ?? null;
}

/**
 * Inserts a run. With `ifAbsent`, a conflict on any unique key (for dependency runs, the
 * partial index on (logical_run, pipeline)) inserts nothing and returns null.
 */
export async function insertRun(
  db: Db,
  run: NewRun,
  options: { ifAbsent?: boolean; returning?: boolean } = {},
): Promise<RunRecord | null> {
  const values = newRunValues(run, new Date().toISOString());
  try {
    const [row] = await query(
      db,
      `INSERT INTO runs (${values.map(([column]) => column).join(", ")})
       VALUES (${values.map((_, i) => `$${i + 1}`).join(", ")})
       ${options.ifAbsent ? "ON CONFLICT DO NOTHING" : ""}
       ${options.returning === false ? "" : `RETURNING ${RUN_COLUMNS}`}`,
      values.map(([, value]) => value),
    );
    return row ? toRun(row) : null;
  } catch (err) {
    if (sqlState(err) === "23503") throw pipelineNotFound(run.pipeline, err); // foreign key
    throw err;
  }
}

export async function updateRun(
  db: Db,
  runId: string,
  patch: RunPatch,
  guard?: RunGuard,
): Promise<RunRecord | null> {
  const columns = patchValues(patch);
  if (columns.length === 0) return getRun(db, runId);
  // Each column comes from the whitelist, never from the caller.
  const sets = columns.map(([column], i) => `${column} = $${i + 1}`);
  const n = columns.length;
  const owned = guard ? ` AND worker_id = $${n + 2} AND status = 'running'` : "";
  const [row] = await query(
    db,
    `UPDATE runs SET ${sets.join(", ")} WHERE run_id = $${n + 1}${owned}
     RETURNING ${RUN_COLUMNS}`,
    [...columns.map(([, value]) => value), runId, ...(guard ? [guard.worker_id] : [])],
  );
  return row ? toRun(row) : null;
}

export async function setDiagnosis(
  db: Db,
  runId: string,
  diagnosis: Record<string, Json> | null,
): Promise<boolean> {
  const rows = await query(
    db,
    "UPDATE runs SET diagnosis = $1 WHERE run_id = $2 RETURNING run_id",
    [encode(diagnosis), runId],
  );
  return rows.length > 0;
}

export function listRuns(
  db: Db,
  pipeline: string,
  options: RunListOptions,
): Promise<RunRecord[]> {
  const where = ["pipeline = $1"];
  const params: Param[] = [pipeline];
  if (options.statuses) {
    params.push(JSON.stringify(options.statuses));
    where.push(`status IN (SELECT json_array_elements_text($${params.length}::json))`);
  }
  if (options.before) {
    params.push(options.before.created_at, options.before.run_id);
    where.push(`(created_at, run_id) < ($${params.length - 1}, $${params.length})`);
  }
  params.push(count(options.limit ?? DEFAULT_LIMIT));
  return runs(
    db,
    `SELECT ${RUN_COLUMNS} FROM runs WHERE ${where.join(" AND ")}
     ORDER BY created_at DESC, run_id DESC LIMIT $${params.length}`,
    params,
  );
}

export async function listRunsByStatus(db: Db, statuses: RunStatus[]): Promise<RunRecord[]> {
  if (statuses.length === 0) return [];
  // One statement for any number of statuses: the list travels as a JSON array.
  return await runs(
    db,
    `SELECT ${RUN_COLUMNS} FROM runs
     WHERE status IN (SELECT json_array_elements_text($1::json))
     ORDER BY created_at ASC, run_id ASC`,
    [JSON.stringify(statuses)],
  );
}

export async function lastSuccessfulRun(db: Db, pipeline: string): Promise<RunRecord | null> {
  const [run] = await runs(
    db,
    `SELECT ${RUN_COLUMNS} FROM runs WHERE pipeline = $1 AND status = 'success'
     ORDER BY created_at DESC, run_id DESC LIMIT 1`,
    [pipeline],
  );
  return run ?? null;
}

export async function listErrors(
  db: Db,
  options: { limit?: number; unresolved?: boolean },
): Promise<ErrorRun[]> {
  const rows = await query(
    db,
    `SELECT * FROM (SELECT ${RUN_COLUMNS}, ${RESOLVED_SQL} AS resolved FROM runs
       WHERE status IN ('failed', 'timed_out')) errors
     WHERE NOT $1 OR NOT resolved
     ORDER BY created_at DESC, run_id DESC LIMIT $2`,
    [options.unresolved ?? false, count(options.limit ?? DEFAULT_LIMIT)],
  );
  return rows.map(toErrorRun);
}

export async function stats(db: Db): Promise<StoreStats> {
  const [pipelines] = await query(db, "SELECT count(*) AS n FROM pipelines");
  const byStatus = await query(db, "SELECT status, count(*) AS n FROM runs GROUP BY status");
  return toStats(pipelines?.n as number, byStatus);
}
