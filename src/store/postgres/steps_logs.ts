/** What a run wrote on PostgreSQL: its steps and its log lines. */

import { encode, toStep } from "../codec.ts";
import type { LogRecord, StepRecord } from "../types.ts";
import { LOG_COLUMNS, STEP_COLUMNS } from "./columns.ts";
import { clean, count, type Db, query } from "./db.ts";

/** Inserts or replaces the step identified by (run_id, attempt, seq). */
export async function saveStep(db: Db, step: StepRecord): Promise<void> {
  await query(
    db,
    `INSERT INTO steps (${STEP_COLUMNS})
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
     ON CONFLICT (run_id, attempt, seq) DO UPDATE SET name = excluded.name,
       status = excluded.status, started_at = excluded.started_at,
       finished_at = excluded.finished_at, duration_ms = excluded.duration_ms,
       rows_in = excluded.rows_in, rows_out = excluded.rows_out,
       metadata = excluded.metadata, error = excluded.error`,
    [
      step.run_id,
      step.attempt,
      step.seq,
      clean(step.name),
      step.status,
      step.started_at,
      step.finished_at,
      step.duration_ms,
      step.rows_in,
      step.rows_out,
      JSON.stringify(step.metadata),
      encode(step.error),
    ],
  );
}

export async function listSteps(db: Db, runId: string, attempt?: number): Promise<StepRecord[]> {
  const rows = attempt === undefined
    ? await query(
      db,
      `SELECT ${STEP_COLUMNS} FROM steps WHERE run_id = $1 ORDER BY attempt, seq`,
      [runId],
    )
    : await query(
      db,
      `SELECT ${STEP_COLUMNS} FROM steps WHERE run_id = $1 AND attempt = $2 ORDER BY seq`,
      [runId, attempt],
    );
  return rows.map(toStep);
}

export async function appendLogs(db: Db, logs: LogRecord[]): Promise<void> {
  if (logs.length === 0) return;
  // The whole batch is one statement (one parameter, whatever its size). DO NOTHING:
  // (run_id, seq) identifies a line, so re-sending a batch is harmless.
  const batch = logs.map((log) => ({
    run_id: log.run_id,
    attempt: log.attempt,
    seq: log.seq,
    ts: log.ts,
    level: log.level,
    step: log.step === null ? null : clean(log.step),
    message: clean(log.message),
  }));
  await query(
    db,
    `INSERT INTO logs (${LOG_COLUMNS})
     SELECT ${LOG_COLUMNS} FROM json_to_recordset($1::json) AS batch(run_id text,
       attempt integer, seq bigint, ts text, level text, step text, message text)
     ON CONFLICT (run_id, seq) DO NOTHING`,
    [JSON.stringify(batch)],
  );
}

/**
 * `afterSeq` keeps lines with a greater seq; `tail` keeps the last N of those; `limit` caps
 * the count (with `tail`, the last min(tail, limit) lines). Always ascending seq.
 */
export async function listLogs(
  db: Db,
  runId: string,
  options: { afterSeq?: number; limit?: number; tail?: number },
): Promise<LogRecord[]> {
  const after = options.afterSeq ?? -1;
  const rows = options.tail !== undefined
    ? await query(
      db,
      `SELECT ${LOG_COLUMNS} FROM (SELECT ${LOG_COLUMNS} FROM logs
         WHERE run_id = $1 AND seq > $2 ORDER BY seq DESC LIMIT $3) AS tail ORDER BY seq ASC`,
      [runId, after, count(Math.min(options.tail, options.limit ?? Infinity))],
    )
    : await query(
      db,
      `SELECT ${LOG_COLUMNS} FROM logs WHERE run_id = $1 AND seq > $2 ORDER BY seq ASC
       LIMIT $3`,
      [runId, after, options.limit === undefined ? null : count(options.limit)],
    );
  return rows.map((row) => ({ ...row }) as unknown as LogRecord);
}
