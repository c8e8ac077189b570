/**
 * One attempt at a delivery: vet the URL's addresses (SSRF), sign the body, POST it with a
 * timeout, read at most a few KB of the answer. Never throws: the outcome is the attempt record.
 */
import type { DeliveryAttempt, DeliveryRecord } from "../store/mod.ts";
import { VERSION } from "../version.ts";
import { slackText } from "./events.ts";
import { vetUrl } from "./address.ts";
import type { Webhook } from "./registry.ts";
import { signatureHeader } from "./signature.ts";

/** Bytes of a receiver's answer read at most (kept as the error of a non-2xx answer). */
const MAX_ANSWER_BYTES = 4096;

export interface SendOptions {
  timeoutMs: number;
  /** The daemon's environment (for `secret_env`). */
  env: (name: string) => string | undefined;
  /** @default {Date.now} */
  now?: () => number;
}

/** The body sent for a delivery in the webhook's format. */
export function bodyOf(hook: Webhook, delivery: DeliveryRecord): string {
  if (hook.format === "slack") {
    return JSON.stringify({ text: slackText(delivery.event, delivery.payload) });
  }
  return JSON.stringify(delivery.payload);
}

export async function attemptDelivery(
  hook: Webhook | null,
  delivery: DeliveryRecord,
  o: SendOptions,
): Promise<Omit<DeliveryAttempt, "n">> {
  const now = o.now ?? Date.now;
  const start = now();
  const done = (status_code: number | null, error: string | null) => ({
    delivery_id: delivery.id,
    started_at: new Date(start).toISOString(),
    duration_ms: Math.max(0, Math.round(now() - start)),
    status_code,
    error: error === null ? null : error.slice(0, 500),
  });
  if (!hook) return done(null, `the webhook ${delivery.webhook} no longer exists`);
  const body = bodyOf(hook, delivery);
  const headers: Record<string, string> = {
    "content-type": "application/json",
    "user-agent": `Tau-Webhooks/${VERSION}`,
    "tau-event": delivery.event,
    "tau-delivery": delivery.id,
  };
  if (hook.secret_env) {
    const secret = o.env(hook.secret_env);
    if (!secret) {
      return done(null, `secret_env ${hook.secret_env} is not set in the daemon's environment`);
    }
    headers["tau-signature"] = signatureHeader(secret, Math.floor(now() / 1000), body);
  }
  try {
    await vetUrl(hook.url, hook.allow_private);
  } catch (err) {
    return done(null, `refused: ${err instanceof Error ? err.message : String(err)}`);
  }
  try {
    const response = await fetch(hook.url, {
      method: "POST",
      headers,
      body,
      redirect: "manual",
      signal: AbortSignal.timeout(o.timeoutMs),
    });
    const answer = await readBounded(response);
    if (response.status >= 200 && response.status < 300) return done(response.status, null);
    return done(response.status, `HTTP ${response.status}${answer ? `: ${answer}` : ""}`);
  } catch (err) {
    const timedOut = err instanceof DOMException && err.name === "TimeoutError";
    return done(null, timedOut ? `no answer within ${o.timeoutMs} ms` : String(err));
  }
}

/** The start of a response body as text (at most MAX_ANSWER_BYTES); the rest is discarded. */
async function readBounded(response: Response): Promise<string> {
  if (!response.body) return "";
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    while (size < MAX_ANSWER_BYTES) {
      const { value, done } = await reader.read();
      if (done) break;
      chunks.push(value);
      size += value.length;
    }
  } finally {
    await reader.cancel().catch(() => {});
  }
  const bytes = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) bytes.set(c, (at += c.length) - c.length);
  return new TextDecoder().decode(bytes.slice(0, MAX_ANSWER_BYTES)).slice(0, 200);
}
