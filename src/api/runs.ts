/** Routes for single runs: inspect (optionally waiting), logs, cancel, and recent errors. */
import { Hono } from "hono";
import type { z } from "zod";
import { TauError } from "../core/errors.ts";
import type { RunRecord, Store } from "../store/mod.ts";
import type { ApiDeps } from "./app.ts";
import { logView, runDetail } from "./views.ts";

const LOG_TAIL = 200;

export function parseBody<T extends z.ZodType>(schema: T, body: unknown): z.infer<T> {
  const parsed = schema.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new TauError(
      "invalid_request",
      `Invalid request: ${issue?.path.join(".") || "body"}: ${issue?.message}`,
    );
  }
  return parsed.data;
}

async function mustGetRun(store: Store, runId: string): Promise<RunRecord> {
  const run = await store.getRun(runId);
  if (!run) {
    throw new TauError("not_found", `No run ${runId}`, { hint: "list runs with tau runs NAME" });
  }
  return run;
}

/** The full run record an agent reads: steps of the final attempt and the last log lines. */
export async function inspectRun(store: Store, runId: string) {
  const run = await mustGetRun(store, runId);
  const steps = await store.listSteps(runId, run.attempt || undefined);
  const logs = await store.listLogs(runId, { tail: LOG_TAIL + 1 });
  const truncated = logs.length > LOG_TAIL;
  return runDetail(run, steps, truncated ? logs.slice(1) : logs, truncated);
}

export function runRoutes({ store, runs }: ApiDeps): Hono {
  const app = new Hono();

  app.get("/runs/:id", async (c) => {
    const runId = c.req.param("id");
    const wait = Number(c.req.query("wait_ms") ?? 0);
    await mustGetRun(store, runId);
    if (wait > 0) await runs.waitFor(runId, Math.min(wait, 60_000));
    return c.json(await inspectRun(store, runId));
  });

  app.get("/runs/:id/logs", async (c) => {
    const run = await mustGetRun(store, c.req.param("id"));
    const after = c.req.query("after");
    const limit = Math.min(Number(c.req.query("limit") ?? 10_000) || 10_000, 100_000);
    const logs = await store.listLogs(run.run_id, {
      ...(after !== undefined ? { afterSeq: Number(after) } : {}),
      limit,
    });
    return c.json({
      run_id: run.run_id,
      pipeline: run.pipeline,
      status: run.status,
      logs: logs.map(logView),
    });
  });

  app.post("/runs/:id/cancel", async (c) => {
    const run = await runs.cancel(c.req.param("id"));
    return c.json({ run_id: run.run_id, pipeline: run.pipeline, status: run.status });
  });

  app.get("/errors", async (c) => {
    const limit = Number(c.req.query("limit") ?? 20);
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000) {
      throw new TauError("invalid_params", "--limit must be an integer from 1 to 1000");
    }
    const list = await store.listErrors({ limit });
    return c.json({
      errors: list.map((r) => ({
        run_id: r.run_id,
        pipeline: r.pipeline,
        version: r.version,
        status: r.status,
        finished_at: r.finished_at,
        error: r.error,
      })),
      count: list.length,
    });
  });

  return app;
}
