/**
 * The webhooks a daemon knows: tau.toml's `[[webhooks]]` (read at start, origin `config`) and
 * those added with `tau webhooks add` (in the store, origin `store`). A stored one may not take
 * a tau.toml name.
 */
import type { Store, WebhookRecord } from "../store/mod.ts";
import type { WebhookConfig } from "./config.ts";

export interface Webhook extends Omit<WebhookRecord, "created_at" | "secret_env"> {
  secret_env: string | null;
  origin: "config" | "store";
  created_at: string | null;
}

export function fromConfig(hook: WebhookConfig): Webhook {
  return { ...hook, secret_env: hook.secret_env ?? null, origin: "config", created_at: null };
}

/** Every webhook: tau.toml's first, then the stored ones, each by name. */
export async function listAll(
  store: Store,
  configured: readonly WebhookConfig[],
): Promise<Webhook[]> {
  const stored = await store.listWebhooks();
  const names = new Set(configured.map((h) => h.name));
  return [
    ...configured.map(fromConfig),
    ...stored.filter((h) => !names.has(h.name)).map((h) => ({ ...h, origin: "store" as const })),
  ];
}
