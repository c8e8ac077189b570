/**
 * The daemon's webhook loop (api role): every second it announces what ended (announcer.ts)
 * and sends the due deliveries it can lease, at most {@link CONCURRENCY} at a time, each
 * attempt recorded with its outcome and the next attempt's time (backoff.ts) or `dead`. Nothing
 * here is on a run's path: a slow receiver only delays other deliveries.
 */
import type { DeliveryAttempt, DeliveryRecord, Store } from "../store/mod.ts";
import { TauError } from "../core/errors.ts";
import { parseDuration } from "../core/duration.ts";
import { announce, newDelivery } from "./announcer.ts";
import { nextAttemptAt } from "./backoff.ts";
import type { WebhookConfig, WebhookDelivery } from "./config.ts";
import type { Links } from "./events.ts";
import { listAll, type Webhook } from "./registry.ts";
import { attemptDelivery } from "./send.ts";

/** Deliveries sent at once. */
const CONCURRENCY = 8;
/** How often the loop looks for work. */
const POLL_MS = 1000;
/** Later passes look back this far for what ended (the first looks back `max_age`). */
const LOOKBACK_MS = 10 * 60_000;
/** How often finished deliveries and old marks are pruned. */
const PRUNE_EVERY_MS = 3_600_000;

export interface WebhookServiceOptions {
  store: Store;
  configured: readonly WebhookConfig[];
  delivery: WebhookDelivery;
  /** Who leases deliveries (the daemon's worker id). */
  holder: string;
  links: () => Links;
  env?: (name: string) => string | undefined;
  onError: (err: unknown) => void;
  onAttempt?: (delivery: DeliveryRecord, attempt: Omit<DeliveryAttempt, "n">) => void;
  /** Delivered and dead deliveries are kept this many days. @default {90} */
  historyDays?: number;
}

export class WebhookService {
  #o: WebhookServiceOptions;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #running: Promise<void> | null = null;
  #stopped = false;
  #firstPass = true;
  #prunedAt = 0;

  constructor(options: WebhookServiceOptions) {
    this.#o = options;
  }

  get #timeoutMs() {
    return parseDuration(this.#o.delivery.timeout) as number;
  }

  /** Every webhook this daemon knows, tau.toml's and the stored ones. */
  list(): Promise<Webhook[]> {
    return listAll(this.#o.store, this.#o.configured);
  }

  isConfigured(name: string): boolean {
    return this.#o.configured.some((h) => h.name === name);
  }

  start(): void {
    const loop = () => {
      if (this.#stopped) return;
      this.#running = this.pass(new Date()).catch(this.#o.onError).finally(() => {
        this.#running = null;
        if (!this.#stopped) this.#timer = setTimeout(loop, POLL_MS);
      });
    };
    loop();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.#running;
  }

  /** One pass: announce, then send what is due. */
  async pass(now: Date): Promise<void> {
    const hooks = await this.list();
    const maxAge = parseDuration(this.#o.delivery.max_age) as number;
    const since = new Date(now.getTime() - (this.#firstPass ? maxAge : LOOKBACK_MS));
    await announce(this.#o.store, hooks, this.#o.links(), since, now);
    this.#firstPass = false;
    const due = await this.#o.store.claimDeliveries({
      holder: this.#o.holder,
      now,
      lease_ms: this.#timeoutMs * 3 + 30_000,
      limit: CONCURRENCY,
    });
    await Promise.all(due.map((d) => this.#send(d, hooks)));
    if (now.getTime() - this.#prunedAt > PRUNE_EVERY_MS) await this.#prune(now, maxAge);
  }

  /** Drops marks no scan looks back to, and finished deliveries past the history. */
  async #prune(now: Date, maxAge: number): Promise<void> {
    this.#prunedAt = now.getTime();
    const days = this.#o.historyDays ?? 90;
    await this.#o.store.pruneWebhooks(
      new Date(now.getTime() - 2 * maxAge - LOOKBACK_MS),
      new Date(now.getTime() - days * 86_400_000),
    );
  }

  /** Sends a `webhook.test` delivery to `name` now; returns it with its attempt. */
  async test(name: string): Promise<{ delivery: DeliveryRecord; attempt: DeliveryAttempt | null }> {
    const hooks = await this.list();
    const hook = hooks.find((h) => h.name === name);
    if (!hook) {
      throw new TauError("not_found", `No webhook ${name}`, {
        hint: "list them: tau webhooks list",
      });
    }
    const now = new Date();
    const summary = { test: true, webhook: name };
    const made = newDelivery(name, "webhook.test", `test:${crypto.randomUUID()}`, summary, now);
    await this.#o.store.announceEvents([], [made], now);
    const [claimed] = await this.#o.store.claimDeliveries({
      holder: this.#o.holder,
      now,
      lease_ms: this.#timeoutMs * 3 + 30_000,
      limit: 1,
      id: made.id,
    });
    if (claimed) await this.#send(claimed, hooks);
    const [delivery] = (await this.#o.store.listDeliveries({ webhook: name, limit: 20 }))
      .filter((d) => d.id === made.id);
    const attempts = await this.#o.store.listDeliveryAttempts([made.id]);
    return { delivery: delivery!, attempt: attempts.at(-1) ?? null };
  }

  async #send(delivery: DeliveryRecord, hooks: Webhook[]): Promise<void> {
    const hook = hooks.find((h) => h.name === delivery.webhook) ?? null;
    const attempt = await attemptDelivery(hook, delivery, {
      timeoutMs: this.#timeoutMs,
      env: this.#o.env ?? ((name) => Deno.env.get(name)),
    });
    this.#o.onAttempt?.(delivery, attempt);
    const ok = attempt.error === null;
    const next = ok || !hook || delivery.event === "webhook.test" ? null : nextAttemptAt(
      delivery.attempts + 1,
      new Date(),
      new Date(delivery.created_at),
      this.#o.delivery.backoff_base_ms,
      parseDuration(this.#o.delivery.max_age) as number,
    );
    await this.#o.store.recordDeliveryAttempt(
      { ...attempt, n: delivery.attempts + 1 },
      this.#o.holder,
      {
        status: ok ? "delivered" : next ? "pending" : "dead",
        next_at: next?.toISOString() ?? null,
      },
    );
  }
}
