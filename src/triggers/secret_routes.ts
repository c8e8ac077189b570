/**
 * Managing a pipeline's trigger secret under `/api/v1/pipelines/:name/trigger-secret`: whether
 * one exists (read), and creating, rotating and deleting it (admin, see `ROUTE_SCOPES`: a secret
 * lets whoever holds it start runs, so handing one out is as much as making an API key). The
 * secret is in the answer to create and rotate, and never again.
 */
import { Hono } from "hono";
import { TauError } from "../core/errors.ts";
import { requirePipeline, type Store, type TriggerSecretRecord } from "../store/mod.ts";
import { generateTriggerSecret } from "./delivery.ts";

/** Where senders post, for a pipeline. */
function endpoint(name: string): string {
  return `/api/v1/pipelines/${encodeURIComponent(name)}/trigger`;
}

function view(name: string, record: TriggerSecretRecord | null) {
  return {
    pipeline: name,
    exists: record !== null,
    created_at: record?.created_at ?? null,
    endpoint: endpoint(name),
  };
}

export function triggerSecretRoutes({ store }: { store: Store }): Hono {
  const app = new Hono();

  app.get("/pipelines/:name/trigger-secret", async (c) => {
    const p = await requirePipeline(store, c.req.param("name"));
    const stored = await store.getTriggerSecret(p.name);
    return c.json(view(p.name, stored && { pipeline: p.name, created_at: stored.created_at }));
  });

  app.post("/pipelines/:name/trigger-secret", async (c) => {
    const p = await requirePipeline(store, c.req.param("name"));
    const secret = generateTriggerSecret();
    const record = await store.createTriggerSecret(p.name, secret, new Date());
    if (!record) {
      throw new TauError("conflict", `Pipeline ${p.name} has a trigger secret already`, {
        hint: `replace it with tau trigger ${p.name} --rotate (the old one stops working at once)`,
      });
    }
    return c.json({ ...view(p.name, record), secret }, 201);
  });

  app.post("/pipelines/:name/trigger-secret/rotate", async (c) => {
    const p = await requirePipeline(store, c.req.param("name"));
    const secret = generateTriggerSecret();
    const record = await store.rotateTriggerSecret(p.name, secret, new Date());
    if (!record) {
      throw new TauError("not_found", `Pipeline ${p.name} has no trigger secret to rotate`, {
        hint: `create one with tau trigger ${p.name} --create`,
      });
    }
    return c.json({ ...view(p.name, record), secret });
  });

  app.delete("/pipelines/:name/trigger-secret", async (c) => {
    const p = await requirePipeline(store, c.req.param("name"));
    if (!await store.deleteTriggerSecret(p.name)) {
      throw new TauError("not_found", `Pipeline ${p.name} has no trigger secret`, {
        hint: `tau trigger ${p.name} shows whether it has one`,
      });
    }
    return c.json({ pipeline: p.name, deleted: true });
  });

  return app;
}
