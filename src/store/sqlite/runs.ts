/** Runs on SQLite: create, update, look up and list them, their errors, and the counts. */

import { DEFAULT_LIMIT, encode, type Row, toErrorRun, toRun, toStats } from "../codec.ts";
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
import { count, type Db, type Param } from "./db.ts";

/** The runs a statement selects. */
export function runs(db: Db, sql: string, ...params: Param[]): RunRecord[] {
  return db.stmt(sql).all(...params).map(toRun);
}

export function getRun(db: Db, runId: string): RunRecord | null {
  const row = db.stmt("SELECT * FROM runs WHERE run_id = ?").get(runId);
  return row ? toRun(row) : null;
}

/** Inserts a run (queued, or skipped and finished at once); a queued one wakes the queue. */
export function insertRun(db: Db, run: NewRun): RunRecord {
  return toRun(writeRun(db, run, true) as Row);
}

/** {@link insertRun} without reading the row back (the scheduler's pass inserts thousands). */
export function addRun(db: Db, run: NewRun): void {
  writeRun(db, run, false);
}

/** Inserts the run's row; returns it when `readBack`. */
function writeRun(db: Db, run: NewRun, readBack: boolean): unknown {
  const values = newRunValues(run, new Date().toISOString());
  try {
    const statement = db.stmt(
      `INSERT INTO runs (${values.map(([column]) => column).join(", ")})
       VALUES (${values.map(() => "?").join(", ")})${readBack ? " RETURNING *" : ""}`,
    );
    const params = values.map(([, value]) => typeof value === "boolean" ? Number(value) : value);
    const row = readBack ? statement.get(...params) : statement.run(...params);
    if (run.status !== "skipped") db.queueChanged();
    return row;
  } catch (err) {
    if (err instanceof Error && /FOREIGN KEY constraint failed/.test(err.message)) {
      throw pipelineNotFound(run.pipeline, err);
    }
    throw err;
  }
}

export function updateRun(
  db: Db,
  runId: string,
  patch: RunPatch,
  guard?: RunGuard,
): RunRecord | null {
  const columns = patchValues(patch);
  if (columns.length === 0) return getRun(db, runId);
  // Each column comes from the whitelist, never from the caller.
  const sets = columns.map(([column]) => `${column} = ?`);
  const owned = guard ? " AND worker_id = ? AND status = 'running'" : "";
  const row = db.stmt(
    `UPDATE runs SET ${sets.join(", ")} WHERE run_id = ?${owned} RETURNING *`,
  ).get(...columns.map(([, value]) => value), runId, ...(guard ? [guard.worker_id] : []));
  return row ? toRun(row) : null;
}

export function setDiagnosis(
  db: Db,
  runId: string,
  diagnosis: Record<string, Json> | null,
): boolean {
  const { changes } = db.stmt("UPDATE runs SET diagnosis = ? WHERE run_id = ?")
    .run(encode(diagnosis), runId);
  return Number(changes) > 0;
}

export function listRuns(db: Db, pipeline: string, options: RunListOptions): RunRecord[] {
  // Only the filters asked for are in the statement, so each shape gets its own indexed plan.
  const where = ["pipeline = ?"];
  const params: Param[] = [pipeline];
  if (options.statuses) {
    where.push("status IN (SELECT value FROM json_each(?))");
    params.push(JSON.stringify(options.statuses));
  }
  if (options.before) {
    where.push("(created_at, run_id) < (?, ?)");
    params.push(options.before.created_at, options.before.run_id);
  }
  return runs(
    db,
    `SELECT * FROM runs WHERE ${where.join(" AND ")}
     ORDER BY created_at DESC, run_id DESC LIMIT ?`,
    ...params,
    count(options.limit ?? DEFAULT_LIMIT),
  );
}

export function listRunsByStatus(db: Db, statuses: RunStatus[]): RunRecord[] {
  if (statuses.length === 0) return [];
  // One statement for any number of statuses: the list travels as a JSON array.
  return runs(
    db,
    `SELECT * FROM runs WHERE status IN (SELECT value FROM json_each(?))
     ORDER BY created_at ASC, run_id ASC`,
    JSON.stringify(statuses),
  );
}

export function lastSuccessfulRun(db: Db, pipeline: string): RunRecord | null {
  const [run] = runs(
    db,
    `SELECT * FROM runs WHERE pipeline = ? AND status = 'success'
     ORDER BY created_at DESC, run_id DESC LIMIT 1`,
    pipeline,
  );
  return run ?? null;
}

export function listErrors(
  db: Db,
  options: { limit?: number; unresolved?: boolean },
): ErrorRun[] {
  return db.stmt(
    `SELECT * FROM (SELECT *, ${RESOLVED_SQL} AS resolved FROM runs
       WHERE status IN ('failed', 'timed_out'))
     WHERE ? = 0 OR resolved = 0
     ORDER BY created_at DESC, run_id DESC LIMIT ?`,
  ).all(options.unresolved ? 1 : 0, count(options.limit ?? DEFAULT_LIMIT)).map(toErrorRun);
}

export function stats(db: Db): StoreStats {
  const pipelines = db.stmt("SELECT count(*) AS n FROM pipelines").get() as { n: number };
  return toStats(
    pipelines.n,
    db.stmt("SELECT status, count(*) AS n FROM runs GROUP BY status").all(),
  );
}
