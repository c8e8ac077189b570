/**
 * Backfills: `POST /pipelines/:name/backfills` plans one (with `dry_run`, only says what it
 * would run), `GET /backfills` lists them with their progress, `GET /backfills/:id` shows one
 * with its active and failed instants, `POST /backfills/:id/cancel` stops it.
 */
import { Hono } from "hono";
import { z } from "zod";
import { TauError } from "../core/errors.ts";
import { backfillView, cancelBackfill, createBackfill } from "../backfill/mod.ts";
import type { BackfillStatus } from "../store/mod.ts";
import type { ApiDeps } from "./deps.ts";
import { jsonBody } from "./_body.ts";
import { parseBody } from "./runs.ts";

const createBody = z.object({
  from: z.string().min(1).max(100),
  to: z.string().min(1).max(100),
  concurrency: z.number().optional(),
  rerun: z.boolean().optional(),
  downstream: z.boolean().optional(),
  dry_run: z.boolean().optional(),
}).strict();

const STATUSES: readonly BackfillStatus[] = ["running", "completed", "failed", "cancelled"];

export function backfillRoutes(deps: ApiDeps): Hono {
  const { store } = deps;
  const app = new Hono();
  app.post("/pipelines/:name/backfills", async (c) => {
    const body = parseBody(createBody, await jsonBody(c.req));
    const created = await createBackfill(
      { store, timezone: deps.config.scheduler.timezone },
      c.req.param("name"),
      body,
    );
    if (!("dry_run" in created)) deps.backfills?.poke();
    return c.json(created, "dry_run" in created ? 200 : 201);
  });
  app.get("/backfills", async (c) => {
    const pipeline = c.req.query("pipeline");
    const status = c.req.query("status");
    if (status !== undefined && !STATUSES.includes(status as BackfillStatus)) {
      throw new TauError("invalid_params", `Unknown backfill status ${JSON.stringify(status)}`, {
        hint: `one of ${STATUSES.join(", ")}`,
      });
    }
    const limit = c.req.query("limit");
    if (limit !== undefined && !/^\d{1,3}$/.test(limit)) {
      throw new TauError("invalid_params", "limit must be a whole number from 1 to 100", {
        hint: "e.g. --limit 20",
      });
    }
    const backfills = await store.backfills.list({
      ...(pipeline ? { pipeline } : {}),
      ...(status ? { statuses: [status as BackfillStatus] } : {}),
      ...(limit ? { limit: Number(limit) } : {}),
    });
    return c.json({ backfills, count: backfills.length });
  });
  app.get("/backfills/:id", async (c) => c.json(await backfillView(store, c.req.param("id"))));
  app.post("/backfills/:id/cancel", async (c) => {
    const cancelled = await cancelBackfill(
      { store, cancelRun: (runId) => deps.runs.cancel(runId) },
      c.req.param("id"),
    );
    return c.json(cancelled);
  });
  return app;
}
