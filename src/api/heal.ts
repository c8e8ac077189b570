/**
 * Routes for failed runs: the diagnosis (`tau heal`) and the heals (`tau heals`), read scope;
 * a model's fix (`tau heal --auto`), operate scope.
 */
import { Hono } from "hono";
import { z } from "zod";
import type { ApiDeps } from "./deps.ts";
import { jsonBody } from "./_body.ts";
import { parseBody } from "./runs.ts";
import { healReport } from "../heal/mod.ts";
import { autoHeal } from "../heal/auto.ts";
import { openProvider, requireAi } from "../ai/mod.ts";
import { requirePipeline } from "../store/mod.ts";

const healBody = z.strictObject({
  run_id: z.string().min(1).optional(),
  allow_permission_changes: z.boolean().optional(),
  dry_run: z.boolean().optional(),
});

export function healRoutes(deps: ApiDeps): Hono {
  const { store } = deps;
  const app = new Hono();

  // The run's stored diagnosis, else one computed now; `?run=` picks the run (default: the
  // pipeline's newest failed run).
  app.get("/pipelines/:name/diagnosis", async (c) => {
    const runId = c.req.query("run");
    return c.json(await healReport(store, c.req.param("name"), runId || undefined));
  });

  // Asks the model for a fix, verifies and replays each candidate; promotes one that succeeds.
  app.post("/pipelines/:name/heal", async (c) => {
    const body = parseBody(healBody, await jsonBody(c.req));
    const ai = requireAi(deps.config.ai, "tau heal --auto");
    const name = c.req.param("name");
    await requirePipeline(store, name);
    const result = await autoHeal(deps, await openProvider(ai), ai.max_attempts, name, body);
    if (result.promoted) deps.scheduler.poke();
    return c.json(result);
  });

  // The pipeline's heals, newest first.
  app.get("/pipelines/:name/heals", async (c) => {
    const p = await requirePipeline(store, c.req.param("name"));
    const limit = Math.min(Math.max(Number(c.req.query("limit") ?? 20) || 20, 1), 1000);
    const heals = await store.listHeals(p.name, { limit });
    return c.json({ pipeline: p.name, heals });
  });

  return app;
}
