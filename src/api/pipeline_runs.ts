/** Routes for a pipeline's runs: start one, list them, and the last one. */
import { Hono } from "hono";
import { z } from "zod";
import { TauError } from "../core/errors.ts";
import { type Json, requirePipeline } from "../store/mod.ts";
import type { ApiDeps } from "./deps.ts";
import { jsonBody } from "./_body.ts";
import { runBrief, runSummary } from "./views.ts";
import { flagQuery, inspectRun, parseBody } from "./runs.ts";
import { jsonDepthViolation, MAX_JSON_DEPTH } from "../../sdk/_limits.ts";

const runBody = z.strictObject({
  params: z.record(z.string(), z.unknown()).optional(),
  wait_ms: z.number().int().min(0).max(60_000).optional(),
  downstream: z.boolean().optional(),
});

/** Largest `params` a run accepts, as JSON text (they are stored and handed to the run). */
export const MAX_PARAMS_BYTES = 256 * 1024;

/** Params are bounded in depth and size before anything stores or walks them. */
function checkParams(params: unknown): void {
  const tooDeep = jsonDepthViolation(params);
  if (tooDeep) {
    throw new TauError("invalid_params", `params are ${tooDeep}`, {
      hint:
        `pass flat parameters (at most ${MAX_JSON_DEPTH} levels), e.g. --params '{"date": "2026-01-01"}'`,
    });
  }
  const bytes = new TextEncoder().encode(JSON.stringify(params ?? {})).length;
  if (bytes > MAX_PARAMS_BYTES) {
    throw new TauError(
      "invalid_params",
      `params are ${bytes} bytes as JSON; at most ${MAX_PARAMS_BYTES} are allowed`,
      {
        hint:
          "pass references (dates, ids, paths) rather than data; runs read data through connections",
      },
    );
  }
}

export function pipelineRunRoutes(deps: ApiDeps): Hono {
  const { store, runs } = deps;
  const app = new Hono();

  app.post("/:name/runs", async (c) => {
    const name = c.req.param("name");
    const body = parseBody(runBody, await jsonBody(c.req));
    checkParams(body.params);
    const run = await runs.submit(name, {
      params: (body.params ?? {}) as Record<string, Json>,
      downstream: body.downstream ?? false,
    });
    if (body.wait_ms) await runs.waitFor(run.run_id, body.wait_ms);
    return c.json(await inspectRun(store, run.run_id), 201);
  });

  app.get("/:name/runs", async (c) => {
    const p = await requirePipeline(store, c.req.param("name"));
    const last = Number(c.req.query("last") ?? 20);
    if (!Number.isInteger(last) || last < 1 || last > 1000) {
      throw new TauError("invalid_params", "--last must be an integer from 1 to 1000", {
        hint: `e.g. tau runs ${p.name} --last 50`,
      });
    }
    const list = await store.listRuns(p.name, { limit: last });
    const runs = flagQuery(c, "brief")
      ? await Promise.all(
        list.map(async (r) => runBrief(r, await store.listSteps(r.run_id, r.attempt || undefined))),
      )
      : list.map(runSummary);
    return c.json({ pipeline: p.name, runs, count: list.length });
  });

  app.get("/:name/runs/last", async (c) => {
    const p = await requirePipeline(store, c.req.param("name"));
    const [run] = await store.listRuns(p.name, { limit: 1 });
    if (!run) {
      throw new TauError("not_found", `Pipeline ${p.name} has not run yet`, {
        hint: `start one with tau run ${p.name}`,
      });
    }
    return c.json(await inspectRun(store, run.run_id, { brief: flagQuery(c, "brief") }));
  });

  return app;
}
