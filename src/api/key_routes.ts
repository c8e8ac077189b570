/**
 * Routes for API keys (admin scope, see `ROUTE_SCOPES`): create (the key is in that one
 * answer, never again), list (never a key or digest), revoke.
 */
import { Hono } from "hono";
import { z } from "zod";
import { TauError } from "../core/errors.ts";
import type { ApiDeps } from "./deps.ts";
import { jsonBody } from "./_body.ts";
import { generateApiKey, isScope, SCOPES } from "./keys.ts";
import { parseBody } from "./runs.ts";

const createBody = z.strictObject({
  scope: z.unknown().optional(),
  name: z.string().min(1).max(100).nullable().optional(),
});

const SCOPE_HINT = `give --scope one of ${SCOPES.join(", ")} (read: GET requests only; ` +
  "operate: read, plus runs, cancels, enabling/disabling schedules, connection tests; " +
  "admin: everything, deploys and keys included)";

export function keyRoutes({ store }: Pick<ApiDeps, "store">): Hono {
  const app = new Hono();

  app.post("/", async (c) => {
    const body = parseBody(createBody, await jsonBody(c.req));
    if (!isScope(body.scope)) {
      const given = body.scope === undefined
        ? "Missing scope"
        : `Unknown scope ${JSON.stringify(body.scope)}`;
      throw new TauError("invalid_params", given, { hint: SCOPE_HINT });
    }
    const { id, key, hash } = generateApiKey();
    const record = await store.createApiKey({
      id,
      name: body.name ?? null,
      scope: body.scope,
      hash,
      created_at: new Date().toISOString(),
    });
    return c.json({ ...record, key }, 201);
  });

  app.get("/", async (c) => {
    const keys = await store.listApiKeys();
    return c.json({ keys, count: keys.length });
  });

  app.delete("/:id", async (c) => {
    const id = c.req.param("id");
    const record = await store.revokeApiKey(id, new Date());
    if (!record) {
      throw new TauError("not_found", `No API key ${id}`, { hint: "list keys with tau keys list" });
    }
    return c.json({
      revoked: record.id,
      name: record.name,
      scope: record.scope,
      revoked_at: record.revoked_at,
    });
  });

  return app;
}
