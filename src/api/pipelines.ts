/** Routes for deployed pipelines: deploy, list, show, code, undeploy, and starting runs. */
import { Hono } from "hono";
import { z } from "zod";
import { TauError } from "../core/errors.ts";
import { checkDeploy, deployPipeline } from "../deploy/deploy.ts";
import { storedMetadata } from "../metadata/schema.ts";
import { configuredLimits } from "../sandbox/limits.ts";
import { unusedGrants } from "../sandbox/audit.ts";
import { type Json, type PipelineRecord, requirePipeline } from "../store/mod.ts";
import type { ApiDeps } from "./deps.ts";
import { jsonBody } from "./_body.ts";
import { runBrief, runSummary } from "./views.ts";
import { flagQuery, inspectRun, parseBody } from "./runs.ts";
import { scheduleView } from "./graph.ts";
import { jsonDepthViolation, MAX_JSON_DEPTH } from "../../sdk/_limits.ts";

const deployBody = z.strictObject({
  code: z.string(),
  filename: z.string().min(1).max(255),
  source_path: z.string().max(4096).nullable().optional(),
  name: z.string().optional(),
  schedule: z.string().optional(),
  force: z.boolean().optional(),
});

/** The deploy request as deploy and `tau check` take it (absent flags stay absent). */
function deployInput(body: z.infer<typeof deployBody>) {
  return {
    code: body.code,
    filename: body.filename,
    source_path: body.source_path ?? null,
    ...(body.name !== undefined ? { name: body.name } : {}),
    ...(body.schedule !== undefined ? { schedule: body.schedule } : {}),
    ...(body.force !== undefined ? { force: body.force } : {}),
  };
}

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

  app.post("/", async (c) => {
    const body = parseBody(deployBody, await jsonBody(c.req));
    const result = await deployPipeline(
      store,
      paths,
      deps.connections,
      deployInput(body),
      configuredLimits(deps.config).ceiling,
    );
    const pipeline = await requirePipeline(store, result.pipeline);
    deps.scheduler.poke();
    return c.json({
      deployed: result.pipeline,
      version: result.version,
      hash: result.hash,
      unchanged: result.unchanged,
      ...await schedule(pipeline.name),
      metadata: result.metadata,
      permissions: permissionsOf(pipeline, result.hash),
    }, result.unchanged ? 200 : 201);
  });

  // `tau check`: every deploy check, nothing stored; what a deploy would do and grant.
  app.post("/check", async (c) => {
    const body = parseBody(deployBody, await jsonBody(c.req));
    const checked = await checkDeploy(
      store,
      paths,
      deps.connections,
      deployInput(body),
      configuredLimits(deps.config).ceiling,
    );
    const { metadata, existing, unchanged, hash } = checked;
    // Numbered after the newest version, a heal's unpromoted candidates included.
    const newest = existing ? (await store.listVersions(existing.name)).at(-1)?.version : 0;
    const version = unchanged ? existing!.current_version : (newest ?? 0) + 1;
    const now = new Date().toISOString();
    const record: PipelineRecord = {
      name: metadata.name,
      current_version: version,
      source_path: checked.source,
      schedule: metadata.schedule,
      metadata: metadata as unknown as Record<string, Json>,
      created_at: existing?.created_at ?? now,
      updated_at: now,
    };
    return c.json({
      ok: true,
      pipeline: metadata.name,
      // What `tau deploy` of this file would do now.
      deploy: unchanged ? "unchanged" : existing ? "new_version" : "new_pipeline",
      version,
      hash,
      checks: ["type_check", "module_graph", "metadata", "connections", "dependencies"],
      metadata,
      permissions: permissionsOf(record, hash),
    });
  });

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
