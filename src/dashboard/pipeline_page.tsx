/**
 * A pipeline's page (metadata, schedule, neighbours, permission set, a page of its runs, its
 * versions), the diff between two versions, and rollback (operate scope).
 */
import { Hono } from "hono";
import { TauError } from "../core/errors.ts";
import { scheduleView } from "../api/graph.ts";
import { rollbackPipeline } from "../deploy/rollback.ts";
import { codeDiff, permissionDiff } from "../deploy/version_diff.ts";
import { versionPermissions } from "../api/versions.ts";
import { storedMetadata } from "../metadata/schema.ts";
import { configuredLimits } from "../sandbox/limits.ts";
import { buildGraph } from "../scheduler/dag.ts";
import {
  type PipelineRecord,
  type PipelineVersion,
  requirePipeline,
  type RunStatus,
} from "../store/mod.ts";
import { type DashboardDeps, type Env, mutatingForm, page, sessionOf } from "./context.ts";
import { DiffPage, PipelinePage, RUN_STATUSES } from "./pipeline_views.tsx";

/** Runs on one page of a pipeline's run list. */
export const RUNS_PER_PAGE = 50;

/** The `?status=` filter: one known status, or none. */
function statusFilter(value: string | undefined): RunStatus | null {
  if (!value) return null;
  if (!(RUN_STATUSES as readonly string[]).includes(value)) {
    throw new TauError("invalid_params", `Unknown run status ${value}`, {
      hint: `one of ${RUN_STATUSES.join(", ")}`,
    });
  }
  return value as RunStatus;
}

/** A version number from a form or query; null when it is not one. */
function versionNumber(value: string | undefined): number | null {
  const number = Number(value);
  return value && Number.isInteger(number) && number > 0 ? number : null;
}

export function pipelinePages(deps: DashboardDeps): Hono<Env> {
  const { store } = deps;
  const app = new Hono<Env>();
  const summary = (p: PipelineRecord, v: PipelineVersion) => versionPermissions(deps.runs, p, v);

  app.get("/pipelines/:name", async (c) => {
    const p = await requirePipeline(store, c.req.param("name"));
    let status: RunStatus | null;
    try {
      status = statusFilter(c.req.query("status"));
    } catch (err) {
      return c.text((err as Error).message, 400);
    }
    // The cursor is a run of this pipeline; a stale or foreign one starts from the newest.
    const cursorId = c.req.query("before");
    const cursor = cursorId ? await store.getRun(cursorId) : null;
    const before = cursor?.pipeline === p.name ? cursor : undefined;
    const [page1, versions, schedule, dependencies, names] = await Promise.all([
      store.listRuns(p.name, {
        limit: RUNS_PER_PAGE + 1,
        ...(status ? { statuses: [status] } : {}),
        ...(before ? { before } : {}),
      }),
      store.listVersions(p.name),
      store.getSchedule(p.name),
      store.listDependencies(),
      store.listPipelines().then((list) => list.map((x) => x.name)),
    ]);
    const graph = buildGraph(names, dependencies);
    const current = versions.find((v) => v.version === p.current_version);
    return page(
      c,
      <PipelinePage
        session={sessionOf(c)}
        pipeline={p}
        metadata={storedMetadata(p)}
        schedule={scheduleView(schedule, deps.config.scheduler.timezone)}
        upstream={graph.upstream.get(p.name) ?? []}
        downstream={graph.downstream.get(p.name) ?? []}
        permissions={current ? deps.runs.permissions(p, current.hash) : null}
        runs={page1.slice(0, RUNS_PER_PAGE)}
        more={page1.length > RUNS_PER_PAGE}
        status={status}
        paged={before !== undefined}
        versions={versions.toReversed()}
        notice={c.req.query("rolled_back")}
      />,
    );
  });

  app.get("/pipelines/:name/diff", async (c) => {
    const p = await requirePipeline(store, c.req.param("name"));
    const from = versionNumber(c.req.query("from"));
    const to = versionNumber(c.req.query("to")) ?? p.current_version;
    const [a, b] = await Promise.all([
      from ? store.getVersion(p.name, from) : null,
      store.getVersion(p.name, to),
    ]);
    if (!a || !b) {
      return c.text(`Pick two versions of ${p.name} (1 to ${p.current_version})`, 400);
    }
    return page(
      c,
      <DiffPage
        session={sessionOf(c)}
        pipeline={p.name}
        from={a.version}
        to={b.version}
        diff={codeDiff(a, b)}
        permissions={permissionDiff(summary(p, a), summary(p, b))}
      />,
    );
  });

  app.post("/pipelines/:name/rollback", async (c) => {
    const form = await mutatingForm(c, "operate");
    if (form instanceof Response) return form;
    const name = c.req.param("name");
    const to = form.to ? versionNumber(form.to) : undefined;
    if (to === null) return c.text(`Not a version number: ${form.to}`, 400);
    let result;
    try {
      result = await rollbackPipeline(store, deps.paths, deps.connections, name, {
        to,
        ceiling: configuredLimits(deps.config).ceiling,
      });
    } catch (err) {
      // Nothing to roll back to, or a version that cannot be: said on the page's terms.
      if (!(err instanceof TauError) || err.code === "not_found") throw err;
      return c.text(`${err.message}. ${err.hint ?? ""}`, 409);
    }
    deps.scheduler.poke();
    const back = `/pipelines/${encodeURIComponent(name)}?rolled_back=${result.rolled_back_to}`;
    return c.redirect(back, 303);
  });

  return app;
}
