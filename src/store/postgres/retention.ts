/** Retention on PostgreSQL: what `prune` deletes. */

import { count, query, type Sql, tx } from "./db.ts";

/**
 * Deletes finished runs beyond the newest `keepRuns` of each pipeline or older than
 * `keepDays`, and ticks older than `keepDays`; returns the number of runs deleted.
 */
export function prune(
  sql: Sql,
  options: { keepRuns: number; keepDays: number; now: Date },
): Promise<number> {
  const cutoff = new Date(options.now.getTime() - options.keepDays * 86_400_000).toISOString();
  return tx(sql, async (tx) => {
    // Steps and logs go with their runs (ON DELETE CASCADE).
    const deleted = await query(
      tx,
      `DELETE FROM runs
       WHERE status IN ('success', 'failed', 'timed_out', 'cancelled', 'skipped')
         AND (created_at < $1 OR run_id IN (
           SELECT run_id FROM (
             SELECT run_id, row_number() OVER (
               PARTITION BY pipeline ORDER BY created_at DESC, run_id DESC) AS n
             FROM runs) AS ranked
           WHERE n > $2))
       RETURNING run_id`,
      [cutoff, count(options.keepRuns)],
    );
    await query(tx, "DELETE FROM ticks WHERE scheduled_at < $1", [cutoff]);
    return deleted.length;
  });
}
