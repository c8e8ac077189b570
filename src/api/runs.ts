/**
 * Routes for single runs: inspect (optionally waiting), the runs it triggered downstream, logs,
 * cancel, and recent errors.
 */
import { type Context, Hono } from "hono";
import type { z } from "zod";
import { TauError } from "../core/errors.ts";
import type { RunRecord, Store } from "../store/mod.ts";
import type { ApiDeps } from "./deps.ts";
import { logView, runBrief, runDetail, runSummary } from "./views.ts";
import { buildGraph } from "../scheduler/dag.ts";
import { logicalRunState } from "../scheduler/logical_run.ts";

const LOG_TAIL = 200;
/** How often a wait for a logical run looks at the store. */
const LOGICAL_POLL_MS = 200;
/**
 * A logical run whose runs have all ended this long ago is over even if a pipeline downstream
 * never got its run (the graph changed meanwhile): the cascade acts within milliseconds.
 */
const CASCADE_GRACE_MS = 30_000;

/** A boolean query parameter (`?brief=true`): absent is false; anything but true/false is refused. */
export function flagQuery(c: Context, name: string): boolean {
  const value = c.req.query(name);
  if (value === undefined || value === "false") return false;
  if (value === "true") return true;
  throw new TauError("invalid_params", `?${name} must be true or false, got ${value}`, {
    hint: `e.g. ?${name}=true`,
  });
}

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

/**
 * The full run record an agent reads: steps of the final attempt and the last log lines; with
 * `brief`, only its status, error, one line per step and result.
 */
export async function inspectRun(store: Store, runId: string, options: { brief?: boolean } = {}) {
  const run = await mustGetRun(store, runId);
  const steps = await store.listSteps(runId, run.attempt || undefined);
  if (options.brief) return runBrief(run, steps);
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
    return c.json(await inspectRun(store, runId, { brief: flagQuery(c, "brief") }));
  });

  // Every run of the run's logical run (it first), once the cascade is over or `wait_ms` passed.
  app.get("/runs/:id/downstream", async (c) => {
    const root = await mustGetRun(store, c.req.param("id"));
    const logical = root.logical_run ?? `run:${root.run_id}`;
    const deadline = Date.now() + Math.min(Number(c.req.query("wait_ms") ?? 0) || 0, 60_000);
    for (;;) {
      const found = await store.listLogicalRun(logical);
      const list = found.length > 0 ? found : [root];
      const graph = buildGraph(
        (await store.listPipelines()).map((p) => p.name),
        await store.listDependencies(),
      );
      const state = logicalRunState(graph, list);
      const lastEnd = Math.max(0, ...list.map((r) => Date.parse(r.finished_at ?? "") || 0));
      const ended = list.every((r) => r.finished_at !== null);
      const complete = state.complete || (ended && Date.now() - lastEnd > CASCADE_GRACE_MS);
      if (complete || Date.now() >= deadline) {
        const first = (r: RunRecord) => r.run_id === root.run_id ? 0 : 1;
        return c.json({
          logical_run: logical,
          complete,
          pending: state.pending,
          runs: [...list].sort((a, b) => first(a) - first(b)).map(runSummary),
        });
      }
      await new Promise((resolve) => setTimeout(resolve, LOGICAL_POLL_MS));
    }
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
      // A run that ended in an error: its logs end with it.
      ...(run.error && run.finished_at ? { error: run.error } : {}),
    });
  });

  app.post("/runs/:id/cancel", async (c) => {
    const run = await runs.cancel(c.req.param("id"));
    return c.json({ run_id: run.run_id, pipeline: run.pipeline, status: run.status });
  });

  app.get("/errors", async (c) => {
    const limit = Number(c.req.query("limit") ?? 20);
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000) {
      throw new TauError("invalid_params", "--limit must be an integer from 1 to 1000", {
        hint: "e.g. tau errors --limit 50",
      });
    }
    const list = await store.listErrors({ limit, unresolved: flagQuery(c, "unresolved") });
    const brief = flagQuery(c, "brief");
    const errors = await Promise.all(list.map(async (r) =>
      brief
        ? {
          ...runBrief(r, await store.listSteps(r.run_id, r.attempt || undefined)),
          finished_at: r.finished_at,
          resolved: r.resolved,
        }
        : {
          run_id: r.run_id,
          pipeline: r.pipeline,
          version: r.version,
          status: r.status,
          finished_at: r.finished_at,
          resolved: r.resolved,
          error: r.error,
        }
    ));
    return c.json({ errors, count: errors.length });
  });

  return app;
}
