/** External triggers on SQLite: a pipeline's trigger secret, and the deliveries made into runs. */

import { pipelineNotFound } from "../pipeline_rules.ts";
import { toStoredTriggerSecret, toTriggerSecret } from "../trigger_codec.ts";
import type {
  StoredTriggerSecret,
  TriggerDelivery,
  TriggerOutcome,
  TriggerSecretRecord,
} from "../types.ts";
import type { Db } from "./db.ts";
import { getRun, insertRun } from "./runs.ts";

export function getTriggerSecret(db: Db, pipeline: string): StoredTriggerSecret | null {
  const row = db.stmt("SELECT pipeline, secret, created_at FROM trigger_secrets WHERE pipeline = ?")
    .get(pipeline);
  return toStoredTriggerSecret(row);
}

/** Null when the pipeline has a secret already; `not_found` when there is no such pipeline. */
export function createTriggerSecret(
  db: Db,
  pipeline: string,
  secret: string,
  now: Date,
): TriggerSecretRecord | null {
  return db.tx(() => {
    if (!db.stmt("SELECT 1 FROM pipelines WHERE name = ?").get(pipeline)) {
      throw pipelineNotFound(pipeline, null);
    }
    return toTriggerSecret(
      db.stmt(
        `INSERT INTO trigger_secrets (pipeline, secret, created_at) VALUES (?, ?, ?)
         ON CONFLICT (pipeline) DO NOTHING RETURNING pipeline, created_at`,
      ).get(pipeline, secret, now.toISOString()),
    );
  });
}

/** Replaces the secret at once (the old one stops verifying); null when there is none. */
export function rotateTriggerSecret(
  db: Db,
  pipeline: string,
  secret: string,
  now: Date,
): TriggerSecretRecord | null {
  return toTriggerSecret(
    db.stmt(
      `UPDATE trigger_secrets SET secret = ?, created_at = ? WHERE pipeline = ?
       RETURNING pipeline, created_at`,
    ).get(secret, now.toISOString(), pipeline),
  );
}

export function deleteTriggerSecret(db: Db, pipeline: string): boolean {
  const { changes } = db.stmt("DELETE FROM trigger_secrets WHERE pipeline = ?").run(pipeline);
  return Number(changes) > 0;
}

/**
 * In one write transaction: forgets the pipeline's deliveries older than the retention, records
 * this one, and creates its run only when the record was new. A delivery whose event id or
 * signature is recorded already is a duplicate: it gets the first delivery's run.
 */
export function recordTriggerDelivery(db: Db, d: TriggerDelivery): TriggerOutcome {
  return db.tx(() => {
    db.stmt("DELETE FROM trigger_deliveries WHERE pipeline = ? AND received_at < ?")
      .run(d.pipeline, d.forget_before);
    if (!db.stmt("SELECT 1 FROM pipelines WHERE name = ?").get(d.pipeline)) {
      throw pipelineNotFound(d.pipeline, null);
    }
    const { changes } = db.stmt(
      `INSERT INTO trigger_deliveries (pipeline, event_id, signature, run_id, received_at)
       VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
    ).run(d.pipeline, d.event_id, d.signature, d.run.run_id, d.received_at);
    if (Number(changes) === 1) return { duplicate: false, run: insertRun(db, d.run) };
    const first = db.stmt(
      `SELECT run_id FROM trigger_deliveries WHERE pipeline = ? AND (event_id = ? OR signature = ?)
       ORDER BY received_at LIMIT 1`,
    ).get(d.pipeline, d.event_id, d.signature);
    const runId = String(first?.run_id);
    return { duplicate: true, run_id: runId, run: getRun(db, runId) };
  });
}
