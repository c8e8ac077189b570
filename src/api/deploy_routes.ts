/** Routes that take a pipeline file: deploy it, or check it as a deploy would (`tau check`). */
import { type Context, Hono } from "hono";
import { z } from "zod";
import { checkDeploy, deployPipeline } from "../deploy/deploy.ts";
import { configuredLimits } from "../sandbox/limits.ts";
import { type Json, type PipelineRecord, requirePipeline } from "../store/mod.ts";
import type { ApiDeps } from "./deps.ts";
import { jsonBody } from "./_body.ts";
import { parseBody } from "./runs.ts";
import { scheduleView } from "./graph.ts";

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

export function deployRoutes(deps: ApiDeps): Hono {
  const { store, paths, runs } = deps;
  const timezone = deps.config.scheduler.timezone;
  const schedule = async (name: string) => scheduleView(await store.getSchedule(name), timezone);
  const permissionsOf = (p: PipelineRecord, hash: string) => runs.permissions(p, hash);
  const app = new Hono();
  /** Deploy and check take the same arguments: the request's file and the daemon's settings. */
  const deployArgs = async (c: Context) =>
    [
      store,
      paths,
      deps.connections,
      deployInput(parseBody(deployBody, await jsonBody(c.req))),
      configuredLimits(deps.config).ceiling,
    ] as const;

  app.post("/", async (c) => {
    const result = await deployPipeline(...await deployArgs(c));
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
    const checked = await checkDeploy(...await deployArgs(c));
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

  return app;
}
