/**
 * Routes for webhooks (docs/webhooks.md): list (read), add, remove and test (admin, see
 * `ROUTE_SCOPES`), and the deliveries with their attempts (read). The secret never travels:
 * a webhook names the daemon's environment variable that holds it.
 */
import { Hono } from "hono";
import { TauError } from "../core/errors.ts";
import type { DeliveryStatus, Store } from "../store/mod.ts";
import { EVENTS, vetUrl, webhookSchema, type WebhookService } from "../webhooks/mod.ts";
import type { ApiDeps } from "./deps.ts";
import { jsonBody } from "./_body.ts";

const STATUSES: readonly DeliveryStatus[] = ["pending", "delivered", "dead"];

function service(deps: Pick<ApiDeps, "webhooks">): WebhookService {
  if (!deps.webhooks) {
    throw new TauError("conflict", "This daemon sends no webhooks", {
      hint: "ask a taud with the api role (the default)",
    });
  }
  return deps.webhooks;
}

function parseWebhook(body: unknown) {
  const parsed = webhookSchema.safeParse(body);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const key = issue?.path.join(".") || "body";
  throw new TauError("invalid_params", `Invalid webhook: ${key}: ${issue?.message}`, {
    hint: `events are ${EVENTS.join(", ")}; the URL is http(s)://; see tau help webhooks`,
  });
}

/** Deliveries, newest first, each with its attempts. */
async function deliveries(store: Store, query: Record<string, string>) {
  const status = query.status;
  if (status !== undefined && !STATUSES.includes(status as DeliveryStatus)) {
    throw new TauError("invalid_params", `Unknown delivery status ${JSON.stringify(status)}`, {
      hint: `give --status one of ${STATUSES.join(", ")}`,
    });
  }
  const limit = query.limit === undefined ? 50 : Number(query.limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > 1000) {
    throw new TauError("invalid_params", `--limit must be 1 to 1000, not ${query.limit}`, {
      hint: "give --limit N with N from 1 to 1000",
    });
  }
  const list = await store.listDeliveries({
    ...(query.webhook ? { webhook: query.webhook } : {}),
    ...(status ? { status: status as DeliveryStatus } : {}),
    limit,
  });
  const attempts = await store.listDeliveryAttempts(list.map((d) => d.id));
  return list.map((d) => ({
    ...d,
    attempt_log: attempts.filter((a) => a.delivery_id === d.id)
      .map(({ delivery_id: _, ...a }) => a),
  }));
}

export function webhookRoutes(deps: Pick<ApiDeps, "store" | "webhooks">): Hono {
  const app = new Hono();
  const { store } = deps;

  app.get("/", async (c) => {
    const webhooks = await service(deps).list();
    return c.json({ webhooks, count: webhooks.length });
  });

  app.get("/deliveries", async (c) => {
    const list = await deliveries(store, c.req.query());
    return c.json({ deliveries: list, count: list.length });
  });

  app.post("/", async (c) => {
    const hooks = service(deps);
    const hook = parseWebhook(await jsonBody(c.req));
    if (hooks.isConfigured(hook.name)) {
      throw new TauError("conflict", `The webhook ${hook.name} is defined in tau.toml`, {
        hint: "pick another name, or change the [[webhooks]] entry in tau.toml and restart taud",
      });
    }
    await vetUrl(hook.url, hook.allow_private);
    const record = await store.createWebhook({
      ...hook,
      secret_env: hook.secret_env ?? null,
      created_at: new Date().toISOString(),
    });
    return c.json({ webhook: { ...record, origin: "store" } }, 201);
  });

  app.delete("/:name", async (c) => {
    const name = c.req.param("name");
    if (service(deps).isConfigured(name)) {
      throw new TauError("conflict", `The webhook ${name} is defined in tau.toml`, {
        hint: "remove its [[webhooks]] entry from tau.toml and restart taud",
      });
    }
    if (!await store.deleteWebhook(name)) {
      throw new TauError("not_found", `No webhook ${name}`, {
        hint: "list them: tau webhooks list",
      });
    }
    return c.json({ removed: name });
  });

  app.post("/:name/test", async (c) => {
    const { delivery, attempt } = await service(deps).test(c.req.param("name"));
    return c.json({ delivered: delivery.status === "delivered", delivery, attempt });
  });

  return app;
}
