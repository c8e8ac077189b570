/** External triggers on PostgreSQL: a pipeline's trigger secret, and the deliveries made into runs. */

import { pipelineNotFound } from "../pipeline_rules.ts";
import { toStoredTriggerSecret, toTriggerSecret } from "../trigger_codec.ts";
import type {
  StoredTriggerSecret,
  TriggerDelivery,
  TriggerOutcome,
  TriggerSecretRecord,
} from "../types.ts";
import { type Db, query, type Sql, sqlState, tx } from "./db.ts";
import { getRun, insertRun } from "./runs.ts";

export async function getTriggerSecret(
  db: Db,
  pipeline: string,
): Promise<StoredTriggerSecret | null> {
  const [row] = await query(
    db,
    "SELECT pipeline, secret, created_at FROM trigger_secrets WHERE pipeline = $1",
    [pipeline],
  );
  return toStoredTriggerSecret(row);
}

/** Null when the pipeline has a secret already; `not_found` when there is no such pipeline. */
export async function createTriggerSecret(
  db: Db,
  pipeline: string,
  secret: string,
  now: Date,
): Promise<TriggerSecretRecord | null> {
  try {
    const [row] = await query(
      db,
      `INSERT INTO trigger_secrets (pipeline, secret, created_at) VALUES ($1, $2, $3)
       ON CONFLICT (pipeline) DO NOTHING RETURNING pipeline, created_at`,
      [pipeline, secret, now.toISOString()],
    );
    return toTriggerSecret(row);
  } catch (err) {
    if (sqlState(err) === "23503") throw pipelineNotFound(pipeline, err); // foreign key
    throw err;
  }
}

/** Replaces the secret at once (the old one stops verifying); null when there is none. */
export async function rotateTriggerSecret(
  db: Db,
  pipeline: string,
  secret: string,
  now: Date,
): Promise<TriggerSecretRecord | null> {
  const [row] = await query(
    db,
    `UPDATE trigger_secrets SET secret = $1, created_at = $2 WHERE pipeline = $3
     RETURNING pipeline, created_at`,
    [secret, now.toISOString(), pipeline],
  );
  return toTriggerSecret(row);
}

export async function deleteTriggerSecret(db: Db, pipeline: string): Promise<boolean> {
  const rows = await query(
    db,
    "DELETE FROM trigger_secrets WHERE pipeline = $1 RETURNING pipeline",
    [pipeline],
  );
  return rows.length > 0;
}

/**
 * In one transaction: forgets the pipeline's deliveries older than the retention, records this
 * one, and creates its run only when the record was new. Two copies arriving at once both
 * insert; the unique indexes make the second wait for the first, and once the first commits,
 * its `ON CONFLICT DO NOTHING` inserts nothing and it reads the first one's run (read committed:
 * each statement sees what committed before it began).
 */
export function recordTriggerDelivery(sql: Sql, d: TriggerDelivery): Promise<TriggerOutcome> {
  return tx(sql, async (tx): Promise<TriggerOutcome> => {
    await query(tx, "DELETE FROM trigger_deliveries WHERE pipeline = $1 AND received_at < $2", [
      d.pipeline,
      d.forget_before,
    ]);
    let inserted;
    try {
      inserted = await query(
        tx,
        `INSERT INTO trigger_deliveries (pipeline, event_id, signature, run_id, received_at)
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING RETURNING run_id`,
        [d.pipeline, d.event_id, d.signature, d.run.run_id, d.received_at],
      );
    } catch (err) {
      if (sqlState(err) === "23503") throw pipelineNotFound(d.pipeline, err); // foreign key
      throw err;
    }
    if (inserted.length === 1) return { duplicate: false, run: (await insertRun(tx, d.run))! };
    const [first] = await query(
      tx,
      `SELECT run_id FROM trigger_deliveries
       WHERE pipeline = $1 AND (event_id = $2 OR signature = $3)
       ORDER BY received_at LIMIT 1`,
      [d.pipeline, d.event_id, d.signature],
    );
    const runId = String(first?.run_id);
    return { duplicate: true, run_id: runId, run: await getRun(tx, runId) };
  });
}
