/**
 * Routes for deployed pipelines: list, show, code and undeploy here; deploy and check in
 * deploy_routes.ts, a pipeline's runs in pipeline_runs.ts.
 */
import { Hono } from "hono";
import { TauError } from "../core/errors.ts";
import { storedMetadata } from "../metadata/schema.ts";
import { unusedGrants } from "../sandbox/audit.ts";
import { type PipelineRecord, requirePipeline } from "../store/mod.ts";
import type { ApiDeps } from "./deps.ts";
import { runSummary } from "./views.ts";
import { scheduleView } from "./graph.ts";
import { deployRoutes } from "./deploy_routes.ts";
import { pipelineRunRoutes } from "./pipeline_runs.ts";

/** `tau show` warns about declared permissions unused over this many recent runs. */
const WARN_OVER_RUNS = 10;

export function pipelineRoutes(deps: ApiDeps): Hono {
  const { store, paths, runs } = deps;
  const timezone = deps.config.scheduler.timezone;
  const schedule = async (name: string) => scheduleView(await store.getSchedule(name), timezone);
  const app = new Hono();
  const lastRun = async (name: string) => {
    const [run] = await store.listRuns(name, { limit: 1 });
    return run ? runSummary(run) : null;
  };
  const permissionsOf = (p: PipelineRecord, hash: string) => runs.permissions(p, hash);

  app.get("/", async (c) => {
    const pipelines = await store.listPipelines();
    const items = await Promise.all(pipelines.map(async (p) => {
      const m = storedMetadata(p);
      return {
        name: p.name,
        description: m.description,
        version: p.current_version,
        ...await schedule(p.name),
        tags: m.tags,
        updated_at: p.updated_at,
        last_run: await lastRun(p.name),
      };
    }));
    return c.json({ pipelines: items, count: items.length });
  });

  app.get("/:name", async (c) => {
    const p = await requirePipeline(store, c.req.param("name"));
    const version = await store.getVersion(p.name, p.current_version);
    return c.json({
      name: p.name,
      description: (storedMetadata(p)).description,
      current_version: p.current_version,
      hash: version?.hash ?? null,
      filename: version?.filename ?? null,
      source_path: p.source_path,
      ...await schedule(p.name),
      metadata: p.metadata,
      permissions: permissionsOf(p, version?.hash ?? ""),
      created_at: p.created_at,
      updated_at: p.updated_at,
      last_run: await lastRun(p.name),
      warnings: unusedGrants(
        (await store.listRuns(p.name, { limit: WARN_OVER_RUNS })).map((run) => run.access),
      ),
    });
  });

  app.get("/:name/code", async (c) => {
    const p = await requirePipeline(store, c.req.param("name"));
    const wanted = c.req.query("version");
    const number = wanted === undefined ? p.current_version : Number(wanted);
    const version = Number.isInteger(number) ? await store.getVersion(p.name, number) : null;
    if (!version) {
      throw new TauError("not_found", `Pipeline ${p.name} has no version ${wanted}`, {
        hint: `the current version is ${p.current_version}`,
      });
    }
    return c.json({
      pipeline: p.name,
      version: version.version,
      filename: version.filename,
      hash: version.hash,
      created_at: version.created_at,
      code: version.code,
    });
  });

  app.delete("/:name", async (c) => {
    const p = await requirePipeline(store, c.req.param("name"));
    const dependents = (await store.listDependencies()).filter((e) => e.upstream === p.name);
    if (dependents.length > 0 && c.req.query("force") !== "true") {
      const names = dependents.map((e) => e.pipeline);
      throw new TauError("has_dependents", `${names.join(", ")} depend on ${p.name}`, {
        hint: `undeploy them first, change their dependencies with tau depends NAME --on …, ` +
          `or undeploy with --force (their dependency on ${p.name} is dropped)`,
        details: { dependents: names },
      });
    }
    for (const run of await store.listRunsByStatus(["queued", "running"])) {
      if (run.pipeline === p.name) await runs.cancel(run.run_id).catch(() => {});
    }
    await store.deletePipeline(p.name);
    await Deno.remove(`${paths.code}/${p.name}`, { recursive: true }).catch(() => {});
    return c.json({ undeployed: p.name, versions: p.current_version });
  });

  app.route("/", deployRoutes(deps));
  app.route("/", pipelineRunRoutes(deps));
  return app;
}
