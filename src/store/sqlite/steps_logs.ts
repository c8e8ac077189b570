/** What a run wrote on SQLite: its steps and its log lines. */

import { encode, toStep } from "../codec.ts";
import type { LogRecord, StepRecord } from "../types.ts";
import { count, type Db } from "./db.ts";

/** Inserts or replaces the step identified by (run_id, attempt, seq). */
export function saveStep(db: Db, step: StepRecord): void {
  db.stmt(
    `INSERT INTO steps (run_id, attempt, seq, name, status, started_at, finished_at, duration_ms,
       rows_in, rows_out, metadata, error)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (run_id, attempt, seq) DO UPDATE SET name = excluded.name,
       status = excluded.status, started_at = excluded.started_at,
       finished_at = excluded.finished_at, duration_ms = excluded.duration_ms,
       rows_in = excluded.rows_in, rows_out = excluded.rows_out,
       metadata = excluded.metadata, error = excluded.error`,
  ).run(
    step.run_id,
    step.attempt,
    step.seq,
    step.name,
    step.status,
    step.started_at,
    step.finished_at,
    step.duration_ms,
    step.rows_in,
    step.rows_out,
    JSON.stringify(step.metadata),
    encode(step.error),
  );
}

export function listSteps(db: Db, runId: string, attempt?: number): StepRecord[] {
  const rows = attempt === undefined
    ? db.stmt("SELECT * FROM steps WHERE run_id = ? ORDER BY attempt, seq").all(runId)
    : db.stmt("SELECT * FROM steps WHERE run_id = ? AND attempt = ? ORDER BY seq")
      .all(runId, attempt);
  return rows.map(toStep);
}

export function appendLogs(db: Db, logs: LogRecord[]): void {
  if (logs.length === 0) return;
  // OR IGNORE: (run_id, seq) identifies a line, so re-sending a batch is harmless.
  const insert = db.stmt(
    `INSERT OR IGNORE INTO logs (run_id, attempt, seq, ts, level, step, message)
     VALUES (?, ?, ?, ?, ?, ?, ?)`,
  );
  db.tx(() => {
    for (const log of logs) {
      insert.run(log.run_id, log.attempt, log.seq, log.ts, log.level, log.step, log.message);
    }
  });
}

/**
 * `afterSeq` keeps lines with a greater seq; `tail` keeps the last N of those; `limit` caps
 * the count (with `tail`, the last min(tail, limit) lines). Always ascending seq.
 */
export function listLogs(
  db: Db,
  runId: string,
  options: { afterSeq?: number; limit?: number; tail?: number },
): LogRecord[] {
  const after = options.afterSeq ?? -1;
  const columns = "run_id, attempt, seq, ts, level, step, message";
  let rows;
  if (options.tail !== undefined) {
    const n = count(Math.min(options.tail, options.limit ?? Infinity));
    rows = db.stmt(
      `SELECT * FROM (SELECT ${columns} FROM logs WHERE run_id = ? AND seq > ?
         ORDER BY seq DESC LIMIT ?) ORDER BY seq ASC`,
    ).all(runId, after, n);
  } else {
    const n = options.limit === undefined ? -1 : count(options.limit);
    rows = db.stmt(
      `SELECT ${columns} FROM logs WHERE run_id = ? AND seq > ? ORDER BY seq ASC LIMIT ?`,
    ).all(runId, after, n);
  }
  return rows.map((row) => ({ ...row }) as unknown as LogRecord);
}
