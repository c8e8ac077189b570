/** The webhook loop as the daemon starts it: its store, tau.toml's webhooks, its address. */
import type { TauConfig } from "../config/config.ts";
import type { Store } from "../store/mod.ts";
import { log } from "../core/log.ts";
import { WebhookService } from "./service.ts";

export function webhookService(
  store: Store,
  config: TauConfig,
  holder: string,
  daemon: { host: string; port: number; dashboardPort: number },
): WebhookService {
  const hostPart = (host: string) => host.includes(":") ? `[${host}]` : host;
  return new WebhookService({
    store,
    configured: config.webhooks,
    delivery: config.webhooks_delivery,
    holder,
    historyDays: config.scheduler.history_days,
    links: () => {
      const base = config.webhooks_delivery.public_url?.replace(/\/+$/, "");
      const host = hostPart(daemon.host === "0.0.0.0" ? "127.0.0.1" : daemon.host);
      return {
        api: base ?? `http://${host}:${daemon.port}`,
        dashboard: base
          ? null
          : daemon.dashboardPort
          ? `http://${host}:${daemon.dashboardPort}`
          : null,
      };
    },
    onError: (err) => log("webhook_error", { error: String(err) }),
    onAttempt: (delivery, attempt) =>
      log("webhook_attempt", {
        delivery_id: delivery.id,
        webhook: delivery.webhook,
        event: delivery.event,
        status_code: attempt.status_code,
        error: attempt.error,
        duration_ms: attempt.duration_ms,
      }),
  });
}
