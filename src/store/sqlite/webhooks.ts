/**
 * Webhooks, their outbox and its attempts on SQLite. One writer at a time (`BEGIN IMMEDIATE`),
 * so a claim needs no row locks: the UPDATE that leases due rows is the claim.
 */
import { type Row, toHeal, toRun } from "../codec.ts";
import { TauError } from "../../core/errors.ts";
import type { HealRecord, RunRecord, TickRecord } from "../records.ts";
import type {
  AttemptOutcome,
  DeliveryAttempt,
  DeliveryClaim,
  DeliveryListOptions,
  DeliveryRecord,
  NewDelivery,
  WebhookRecord,
} from "../webhook_types.ts";
import { deliveryLimit, TERMINAL_SQL, toAttempt, toDelivery, toWebhook } from "../webhook_codec.ts";
import type { Db } from "./db.ts";

export function createWebhook(db: Db, w: WebhookRecord): WebhookRecord {
  const row = db.stmt(
    `INSERT INTO webhooks (name, url, events, pipelines, tags, secret_env, format, allow_private,
       created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (name) DO NOTHING RETURNING *`,
  ).get(
    w.name,
    w.url,
    JSON.stringify(w.events),
    JSON.stringify(w.pipelines),
    JSON.stringify(w.tags),
    w.secret_env,
    w.format,
    w.allow_private ? 1 : 0,
    w.created_at,
  );
  if (!row) {
    throw new TauError("conflict", `A webhook named ${w.name} exists already`, {
      hint: `remove it first (tau webhooks remove ${w.name}) or pick another name`,
    });
  }
  return toWebhook(row);
}

export function listWebhooks(db: Db): WebhookRecord[] {
  return db.stmt("SELECT * FROM webhooks ORDER BY name").all().map(toWebhook);
}

export function deleteWebhook(db: Db, name: string): boolean {
  return Number(db.stmt("DELETE FROM webhooks WHERE name = ?").run(name).changes) > 0;
}

export function listUnannounced(db: Db, since: Date, limit: number) {
  const at = since.toISOString();
  const runs: RunRecord[] = db.stmt(
    `SELECT * FROM runs r WHERE finished_at >= ? AND status IN (${TERMINAL_SQL})
       AND NOT EXISTS (SELECT 1 FROM webhook_announced a WHERE a.subject = 'run:' || r.run_id)
     ORDER BY finished_at, run_id LIMIT ?`,
  ).all(at, limit).map(toRun);
  const heals: HealRecord[] = db.stmt(
    `SELECT * FROM heals h WHERE finished_at >= ? AND status IN ('promoted', 'failed')
       AND NOT EXISTS (SELECT 1 FROM webhook_announced a WHERE a.subject = 'heal:' || h.id)
     ORDER BY finished_at, id LIMIT ?`,
  ).all(at, limit).map(toHeal);
  const ticks = db.stmt(
    `SELECT * FROM ticks t WHERE recorded_at >= ? AND outcome = 'missed'
       AND NOT EXISTS (SELECT 1 FROM webhook_announced a
         WHERE a.subject = 'tick:' || t.pipeline || ':' || t.scheduled_at)
     ORDER BY recorded_at LIMIT ?`,
  ).all(at, limit).map((r) => ({ ...r }) as unknown as TickRecord);
  return { runs, heals, ticks };
}

/** The status of the run of `pipeline` that ended last before `createdAt` (null: none). */
export function previousStatus(
  db: Db,
  pipeline: string,
  createdAt: string,
  runId: string,
): string | null {
  const row = db.stmt(
    `SELECT status FROM runs WHERE pipeline = ? AND (created_at < ? OR created_at = ? AND run_id < ?)
       AND status IN (${TERMINAL_SQL})
       AND status NOT IN ('skipped', 'cancelled')
     ORDER BY created_at DESC, run_id DESC LIMIT 1`,
  ).get(pipeline, createdAt, createdAt, runId);
  return row ? String(row.status) : null;
}

export function announce(
  db: Db,
  subjects: string[],
  deliveries: NewDelivery[],
  now: Date,
): number {
  return db.tx(() => {
    let inserted = 0;
    for (const d of deliveries) {
      inserted += Number(
        db.stmt(
          `INSERT INTO webhook_deliveries (id, event_key, webhook, event, subject, payload,
             next_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT (event_key) DO NOTHING`,
        ).run(
          d.id,
          d.event_key,
          d.webhook,
          d.event,
          d.subject,
          JSON.stringify(d.payload),
          d.created_at,
          d.created_at,
        ).changes,
      );
    }
    for (const subject of subjects) {
      db.stmt(
        "INSERT INTO webhook_announced (subject, announced_at) VALUES (?, ?) ON CONFLICT DO NOTHING",
      ).run(subject, now.toISOString());
    }
    return inserted;
  });
}

export function claimDeliveries(db: Db, c: DeliveryClaim): DeliveryRecord[] {
  const now = c.now.toISOString();
  const until = new Date(c.now.getTime() + c.lease_ms).toISOString();
  return db.tx(() =>
    db.stmt(
      `UPDATE webhook_deliveries SET lease_holder = ?, lease_expires_at = ?
       WHERE id IN (SELECT id FROM webhook_deliveries WHERE status = 'pending'
         AND (? IS NOT NULL AND id = ? OR ? IS NULL AND next_at <= ?)
         AND (lease_expires_at IS NULL OR lease_expires_at < ?)
         ORDER BY next_at, id LIMIT ?)
       RETURNING *`,
    ).all(c.holder, until, c.id ?? null, c.id ?? null, c.id ?? null, now, now, c.limit)
      .map(toDelivery).sort((a, b) => (a.next_at ?? "").localeCompare(b.next_at ?? ""))
  );
}

export function recordDeliveryAttempt(
  db: Db,
  attempt: DeliveryAttempt,
  holder: string,
  outcome: AttemptOutcome,
): boolean {
  return db.tx(() => {
    const { changes } = db.stmt(
      `UPDATE webhook_deliveries SET status = ?, next_at = ?, attempts = attempts + 1,
         last_error = ?, delivered_at = CASE WHEN ? = 'delivered' THEN ? END,
         lease_holder = NULL, lease_expires_at = NULL
       WHERE id = ? AND lease_holder = ? AND status = 'pending'`,
    ).run(
      outcome.status,
      outcome.next_at,
      attempt.error,
      outcome.status,
      new Date(Date.parse(attempt.started_at) + attempt.duration_ms).toISOString(),
      attempt.delivery_id,
      holder,
    );
    if (Number(changes) === 0) return false;
    db.stmt(
      `INSERT INTO webhook_attempts (delivery_id, n, started_at, duration_ms, status_code, error)
       VALUES (?, (SELECT attempts FROM webhook_deliveries WHERE id = ?), ?, ?, ?, ?)`,
    ).run(
      attempt.delivery_id,
      attempt.delivery_id,
      attempt.started_at,
      attempt.duration_ms,
      attempt.status_code,
      attempt.error,
    );
    return true;
  });
}

export function listDeliveries(db: Db, o: DeliveryListOptions): DeliveryRecord[] {
  return db.stmt(
    `SELECT * FROM webhook_deliveries WHERE (? IS NULL OR webhook = ?) AND (? IS NULL OR status = ?)
     ORDER BY created_at DESC, id DESC LIMIT ?`,
  ).all(
    o.webhook ?? null,
    o.webhook ?? null,
    o.status ?? null,
    o.status ?? null,
    deliveryLimit(o.limit),
  ).map(toDelivery);
}

export function listDeliveryAttempts(db: Db, ids: string[]): DeliveryAttempt[] {
  return db.stmt(
    `SELECT * FROM webhook_attempts WHERE delivery_id IN (SELECT value FROM json_each(?))
     ORDER BY delivery_id, n`,
  ).all(JSON.stringify(ids)).map((r: Row) => toAttempt(r));
}

export function pruneWebhooks(db: Db, announcedBefore: Date, deliveriesBefore: Date): number {
  return db.tx(() => {
    db.stmt("DELETE FROM webhook_announced WHERE announced_at < ?").run(
      announcedBefore.toISOString(),
    );
    return Number(
      db.stmt(
        `DELETE FROM webhook_deliveries WHERE status IN ('delivered', 'dead') AND created_at < ?`,
      ).run(deliveriesBefore.toISOString()).changes,
    );
  });
}
