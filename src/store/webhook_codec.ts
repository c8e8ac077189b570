/** Webhook rows to records, shared by both store engines (see `codec.ts`). */
import { decode, flag, type Row } from "./codec.ts";
import type { DeliveryAttempt, DeliveryRecord, WebhookRecord } from "./webhook_types.ts";
import { TERMINAL_STATUSES } from "./records.ts";

/** Subjects one announcing pass may mark at most. */
export const ANNOUNCE_BATCH_MAX = 500;

/** The run statuses that end a run, as SQL text: `'success', 'failed', …`. */
export const TERMINAL_SQL = TERMINAL_STATUSES.map((s) => `'${s}'`).join(", ");

export function toWebhook(row: Row): WebhookRecord {
  return {
    ...row,
    events: decode(row.events) ?? [],
    pipelines: decode(row.pipelines) ?? [],
    tags: decode(row.tags) ?? [],
    allow_private: flag(row.allow_private),
  } as WebhookRecord;
}

export function toDelivery(row: Row): DeliveryRecord {
  const { lease_holder: _h, lease_expires_at: _l, ...rest } = row;
  return { ...rest, payload: decode(row.payload) ?? {} } as DeliveryRecord;
}

export function toAttempt(row: Row): DeliveryAttempt {
  return { ...row } as unknown as DeliveryAttempt;
}

/** A delivery listing's limit: 1 to 1000, 50 when not given. */
export function deliveryLimit(limit: number | undefined): number {
  return Math.min(1000, Math.max(1, Math.trunc(limit ?? 50)));
}
