/**
 * Webhooks, their outbox and its attempts on PostgreSQL. Several daemons may deliver from one
 * database: a claim leases due rows it locked with `FOR UPDATE SKIP LOCKED` (rows another
 * daemon is claiming are skipped, not waited for), and an attempt is recorded only by the
 * lease's holder. A daemon that dies mid-send leaves the row leased; the lease (a minute, far
 * above the 10 s attempt timeout) runs out and another daemon sends it again: at-least-once.
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
import { HEAL_COLUMNS, RUN_COLUMNS, TICK_COLUMNS } from "./columns.ts";
import { type Db, query, type Sql, tx } from "./db.ts";

const WEBHOOK_COLUMNS =
  "name, url, events, pipelines, tags, secret_env, format, allow_private, created_at";
const DELIVERY_COLUMNS = `id, event_key, webhook, event, subject, payload, status, attempts,
  next_at, lease_holder, lease_expires_at, created_at, delivered_at, last_error`;
const ATTEMPT_COLUMNS = "delivery_id, n, started_at, duration_ms, status_code, error";

export async function createWebhook(db: Db, w: WebhookRecord): Promise<WebhookRecord> {
  const [row] = await query(
    db,
    `INSERT INTO webhooks (${WEBHOOK_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
     ON CONFLICT (name) DO NOTHING RETURNING ${WEBHOOK_COLUMNS}`,
    [
      w.name,
      w.url,
      JSON.stringify(w.events),
      JSON.stringify(w.pipelines),
      JSON.stringify(w.tags),
      w.secret_env,
      w.format,
      w.allow_private,
      w.created_at,
    ],
  );
  if (!row) {
    throw new TauError("conflict", `A webhook named ${w.name} exists already`, {
      hint: `remove it first (tau webhooks remove ${w.name}) or pick another name`,
    });
  }
  return toWebhook(row);
}

export async function listWebhooks(db: Db): Promise<WebhookRecord[]> {
  return (await query(db, `SELECT ${WEBHOOK_COLUMNS} FROM webhooks ORDER BY name`)).map(
    toWebhook,
  );
}

export async function deleteWebhook(db: Db, name: string): Promise<boolean> {
  return (await query(db, "DELETE FROM webhooks WHERE name = $1 RETURNING name", [name]))
    .length > 0;
}

export async function listUnannounced(db: Db, since: Date, limit: number) {
  const at = since.toISOString();
  const runs: RunRecord[] = (await query(
    db,
    `SELECT ${RUN_COLUMNS} FROM runs r WHERE finished_at >= $1 AND status IN (${TERMINAL_SQL})
       AND NOT EXISTS (SELECT 1 FROM webhook_announced a WHERE a.subject = 'run:' || r.run_id)
     ORDER BY finished_at, run_id LIMIT $2`,
    [at, limit],
  )).map(toRun);
  const heals: HealRecord[] = (await query(
    db,
    `SELECT ${HEAL_COLUMNS} FROM heals h WHERE finished_at >= $1
       AND status IN ('promoted', 'failed')
       AND NOT EXISTS (SELECT 1 FROM webhook_announced a WHERE a.subject = 'heal:' || h.id)
     ORDER BY finished_at, id LIMIT $2`,
    [at, limit],
  )).map(toHeal);
  const ticks = (await query(
    db,
    `SELECT ${TICK_COLUMNS} FROM ticks t WHERE recorded_at >= $1 AND outcome = 'missed'
       AND NOT EXISTS (SELECT 1 FROM webhook_announced a
         WHERE a.subject = 'tick:' || t.pipeline || ':' || t.scheduled_at)
     ORDER BY recorded_at LIMIT $2`,
    [at, limit],
  )).map((r) => ({ ...r }) as unknown as TickRecord);
  return { runs, heals, ticks };
}

export async function previousStatus(
  db: Db,
  pipeline: string,
  createdAt: string,
  runId: string,
): Promise<string | null> {
  const [row] = await query(
    db,
    `SELECT status FROM runs WHERE pipeline = $1 AND (created_at < $2 OR created_at = $2 AND run_id < $3)
       AND status IN (${TERMINAL_SQL}) AND status NOT IN ('skipped', 'cancelled')
     ORDER BY created_at DESC, run_id DESC LIMIT 1`,
    [pipeline, createdAt, runId],
  );
  return row ? String(row.status) : null;
}

export async function announce(
  sql: Sql,
  subjects: string[],
  deliveries: NewDelivery[],
  now: Date,
): Promise<number> {
  return await tx(sql, async (tx) => {
    let inserted = 0;
    for (const d of deliveries) {
      inserted += (await query(
        tx,
        `INSERT INTO webhook_deliveries (id, event_key, webhook, event, subject, payload,
           next_at, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
         ON CONFLICT (event_key) DO NOTHING RETURNING id`,
        [
          d.id,
          d.event_key,
          d.webhook,
          d.event,
          d.subject,
          JSON.stringify(d.payload),
          d.created_at,
          d.created_at,
        ],
      )).length;
    }
    if (subjects.length > 0) {
      await query(
        tx,
        `INSERT INTO webhook_announced (subject, announced_at)
         SELECT json_array_elements_text($1::json), $2 ON CONFLICT DO NOTHING`,
        [JSON.stringify(subjects), now.toISOString()],
      );
    }
    return inserted;
  });
}

export async function claimDeliveries(sql: Sql, c: DeliveryClaim): Promise<DeliveryRecord[]> {
  const now = c.now.toISOString();
  const until = new Date(c.now.getTime() + c.lease_ms).toISOString();
  const rows = await query(
    sql,
    `WITH due AS (
       SELECT id FROM webhook_deliveries WHERE status = 'pending'
         AND ($3::text IS NOT NULL AND id = $3 OR $3::text IS NULL AND next_at <= $4)
         AND (lease_expires_at IS NULL OR lease_expires_at < $4)
       ORDER BY next_at, id LIMIT $5 FOR UPDATE SKIP LOCKED)
     UPDATE webhook_deliveries d SET lease_holder = $1, lease_expires_at = $2
     FROM due WHERE d.id = due.id
     RETURNING ${DELIVERY_COLUMNS.split(",").map((c) => `d.${c.trim()}`).join(", ")}`,
    [c.holder, until, c.id ?? null, now, c.limit],
  );
  return rows.map(toDelivery).sort((a, b) => (a.next_at ?? "").localeCompare(b.next_at ?? ""));
}

export async function recordDeliveryAttempt(
  sql: Sql,
  attempt: DeliveryAttempt,
  holder: string,
  outcome: AttemptOutcome,
): Promise<boolean> {
  return await tx(sql, async (tx) => {
    const [row] = await query(
      tx,
      `UPDATE webhook_deliveries SET status = $1, next_at = $2, attempts = attempts + 1,
         last_error = $3, delivered_at = CASE WHEN $1 = 'delivered' THEN $4 END,
         lease_holder = NULL, lease_expires_at = NULL
       WHERE id = $5 AND lease_holder = $6 AND status = 'pending' RETURNING attempts`,
      [
        outcome.status,
        outcome.next_at,
        attempt.error,
        new Date(Date.parse(attempt.started_at) + attempt.duration_ms).toISOString(),
        attempt.delivery_id,
        holder,
      ],
    );
    if (!row) return false;
    await query(
      tx,
      `INSERT INTO webhook_attempts (${ATTEMPT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6)`,
      [
        attempt.delivery_id,
        Number(row.attempts),
        attempt.started_at,
        attempt.duration_ms,
        attempt.status_code,
        attempt.error,
      ],
    );
    return true;
  });
}

export async function listDeliveries(db: Db, o: DeliveryListOptions): Promise<DeliveryRecord[]> {
  return (await query(
    db,
    `SELECT ${DELIVERY_COLUMNS} FROM webhook_deliveries
     WHERE ($1::text IS NULL OR webhook = $1) AND ($2::text IS NULL OR status = $2)
     ORDER BY created_at DESC, id DESC LIMIT $3`,
    [o.webhook ?? null, o.status ?? null, deliveryLimit(o.limit)],
  )).map(toDelivery);
}

export async function listDeliveryAttempts(db: Db, ids: string[]): Promise<DeliveryAttempt[]> {
  return (await query(
    db,
    `SELECT ${ATTEMPT_COLUMNS} FROM webhook_attempts
     WHERE delivery_id IN (SELECT json_array_elements_text($1::json)) ORDER BY delivery_id, n`,
    [JSON.stringify(ids)],
  )).map((r: Row) => toAttempt(r));
}

export async function pruneWebhooks(
  sql: Sql,
  announcedBefore: Date,
  deliveriesBefore: Date,
): Promise<number> {
  return await tx(sql, async (tx) => {
    await query(tx, "DELETE FROM webhook_announced WHERE announced_at < $1", [
      announcedBefore.toISOString(),
    ]);
    return (await query(
      tx,
      `DELETE FROM webhook_deliveries WHERE status IN ('delivered', 'dead') AND created_at < $1
       RETURNING id`,
      [deliveriesBefore.toISOString()],
    )).length;
  });
}
