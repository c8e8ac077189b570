/**
 * `[[webhooks]]` and `[webhooks_delivery]` in tau.toml, and the rules a webhook added with
 * `tau webhooks add` must pass too (one schema for both).
 */
import { z } from "zod";
import { duration } from "../core/validators.ts";

/** Every event a webhook may subscribe to (`webhook.test` is sent by `tau webhooks test`). */
export const EVENTS = [
  "run.failed",
  "run.succeeded",
  "run.recovered",
  "run.skipped",
  "heal.promoted",
  "heal.failed",
  "schedule.missed",
] as const;
export type WebhookEvent = (typeof EVENTS)[number] | "webhook.test";

export const WEBHOOK_NAME = /^[a-z0-9][a-z0-9_-]{0,62}$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;

export const webhookSchema = z.strictObject({
  name: z.string().regex(WEBHOOK_NAME, {
    message: "must be 1-63 lowercase letters, digits, _ or -, starting with a letter or digit",
  }),
  url: z.string().max(2048).refine(
    (u) => URL.canParse(u) && /^https?:$/.test(new URL(u).protocol),
    {
      message: "must be an http:// or https:// URL",
    },
  ),
  events: z.array(z.enum(EVENTS)).min(1).max(EVENTS.length),
  pipelines: z.array(z.string().min(1).max(200)).max(100).default([]),
  tags: z.array(z.string().min(1).max(100)).max(100).default([]),
  /** The daemon's environment variable holding the signing secret. */
  secret_env: z.string().regex(ENV_NAME, { message: "must be an environment variable name" })
    .optional(),
  format: z.enum(["json", "slack"]).default("json"),
  allow_private: z.boolean().default(false),
});
export type WebhookConfig = z.infer<typeof webhookSchema>;

export const webhookDeliverySchema = z.strictObject({
  /** The first retry's delay; later ones grow (×6, ×24, ×120, then ×720 each). */
  backoff_base_ms: z.number().int().min(10).max(3_600_000).default(5000),
  /** After this long since the event, a delivery that still fails is `dead`. */
  max_age: duration.default("24h"),
  /** One attempt's limit (connect, send, response). */
  timeout: duration.default("10s"),
  /** Base of the links in payloads (unset: the daemon's own address). */
  public_url: z.string().url().optional(),
}).prefault({});
export type WebhookDelivery = z.infer<typeof webhookDeliverySchema>;

/** `[[webhooks]]`: names unique. */
export const webhooksSchema = z.array(webhookSchema).max(100).default([]).superRefine(
  (hooks, ctx) => {
    const seen = new Set<string>();
    hooks.forEach((h, i) => {
      if (seen.has(h.name)) {
        ctx.addIssue({ code: "custom", path: [i, "name"], message: `${h.name} is used twice` });
      }
      seen.add(h.name);
    });
  },
);
