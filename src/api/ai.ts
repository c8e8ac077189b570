/** Routes that ask the configured model: `POST /create` (`tau create`). */
import { Hono } from "hono";
import { z } from "zod";
import { createPipeline } from "../ai/create.ts";
import { openProvider, requireAi } from "../ai/mod.ts";
import type { ApiDeps } from "./deps.ts";
import { jsonBody } from "./_body.ts";
import { parseBody } from "./runs.ts";

export const createBody = z.strictObject({
  intent: z.string().trim().min(1).max(20_000),
  name: z.string().optional(),
  connections: z.array(z.string()).max(100).optional(),
  schedule: z.string().optional(),
  deploy: z.boolean().optional(),
  filename: z.string().min(1).max(255).optional(),
  source_path: z.string().max(4096).nullable().optional(),
});

export function aiRoutes(deps: ApiDeps): Hono {
  const app = new Hono();
  app.post("/create", async (c) => {
    const body = parseBody(createBody, await jsonBody(c.req));
    const ai = requireAi(deps.config.ai, "tau create");
    const result = await createPipeline(deps, await openProvider(ai), ai.max_attempts, body);
    if (result.deployed) deps.scheduler.poke();
    return c.json(result);
  });
  return app;
}
