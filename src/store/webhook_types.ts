/**
 * Webhook records in the store: webhooks added at run time (`tau webhooks add`), the outbox of
 * deliveries (one row per event and webhook, unique by `event_key`), and each delivery's
 * attempts. tau.toml's webhooks are not stored; `src/webhooks/` merges both.
 */
import type { HealRecord, Json, RunRecord, TickRecord } from "./records.ts";

export type WebhookFormat = "json" | "slack";

/** A webhook: where to send which events, and how. Never holds the secret, only its env var. */
export interface WebhookRecord {
  name: string;
  url: string;
  events: string[];
  /** Only events of these pipelines (empty: any). */
  pipelines: string[];
  /** Only events of pipelines with one of these tags (empty: any). */
  tags: string[];
  /** The daemon's environment variable holding the signing secret (null: unsigned). */
  secret_env: string | null;
  format: WebhookFormat;
  /** Sends to loopback, private and link-local addresses too. */
  allow_private: boolean;
  created_at: string;
}

export type DeliveryStatus = "pending" | "delivered" | "dead";

/** One event to deliver to one webhook. */
export interface NewDelivery {
  id: string;
  /** `<event>:<subject>:<webhook>`: a second insert of the same key is ignored. */
  event_key: string;
  webhook: string;
  event: string;
  /** What the event is about: a run id, a heal id. */
  subject: string;
  payload: Record<string, Json>;
  created_at: string;
}

export interface DeliveryRecord extends NewDelivery {
  status: DeliveryStatus;
  /** Attempts made so far. */
  attempts: number;
  /** When the next attempt is due (null once delivered or dead). */
  next_at: string | null;
  delivered_at: string | null;
  last_error: string | null;
}

/** One try at sending a delivery. */
export interface DeliveryAttempt {
  delivery_id: string;
  /** 1 for the first attempt. */
  n: number;
  started_at: string;
  duration_ms: number;
  /** The receiver's HTTP status (null: no response). */
  status_code: number | null;
  error: string | null;
}

/** What an attempt leaves the delivery as. */
export interface AttemptOutcome {
  status: DeliveryStatus;
  next_at: string | null;
}

export interface DeliveryListOptions {
  webhook?: string;
  status?: DeliveryStatus;
  /** @default {50} */
  limit?: number;
}

export interface DeliveryClaim {
  /** Who claims (a daemon's worker id): the attempt is recorded only while it holds the row. */
  holder: string;
  now: Date;
  lease_ms: number;
  limit: number;
  /** Only this delivery (`tau webhooks test`). */
  id?: string;
}

/** What ended and has no events in the outbox yet (`Store.listUnannounced`). */
export interface UnannouncedEvents {
  runs: RunRecord[];
  heals: HealRecord[];
  /** Ticks with outcome `missed`. */
  ticks: TickRecord[];
}
