/** Retention on SQLite: what `prune` deletes. */

import { count, type Db } from "./db.ts";

/**
 * Deletes finished runs beyond the newest `keepRuns` of each pipeline or older than
 * `keepDays`, and ticks older than `keepDays`; returns the number of runs deleted.
 */
export function prune(
  db: Db,
  options: { keepRuns: number; keepDays: number; now: Date },
): number {
  const cutoff = new Date(options.now.getTime() - options.keepDays * 86_400_000).toISOString();
  return db.tx(() => {
    // Steps and logs go with their runs (ON DELETE CASCADE).
    const { changes } = db.stmt(
      `DELETE FROM runs WHERE status IN ('success', 'failed', 'timed_out', 'cancelled', 'skipped')
         AND (created_at < ? OR run_id IN (
           SELECT run_id FROM (
             SELECT run_id, row_number() OVER (
               PARTITION BY pipeline ORDER BY created_at DESC, run_id DESC) AS n
             FROM runs) WHERE n > ?))`,
    ).run(cutoff, count(options.keepRuns));
    db.stmt("DELETE FROM ticks WHERE scheduled_at < ?").run(cutoff);
    return Number(changes);
  });
}
