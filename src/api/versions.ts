/**
 * Routes for a pipeline's versions: `tau versions`, `tau diff` (read) and `tau rollback`
 * (operate; see ROUTE_SCOPES).
 */
import { Hono } from "hono";
import { z } from "zod";
import { TauError } from "../core/errors.ts";
import { type PipelineRecord, type PipelineVersion, requirePipeline } from "../store/mod.ts";
import { configuredLimits } from "../sandbox/limits.ts";
import { rollbackPipeline } from "../deploy/rollback.ts";
import { codeDiff, permissionDiff, permissionSummary } from "../deploy/version_diff.ts";
import type { RunManager } from "../runner/run_manager.ts";
import type { ApiDeps } from "./deps.ts";
import { jsonBody } from "./_body.ts";
import { parseBody } from "./runs.ts";

const rollbackBody = z.strictObject({ to: z.number().int().positive().optional() });

/** A version number from the query; `fallback` when absent (required without one). */
function versionQuery(value: string | undefined, name: string, fallback?: number): number {
  if (value === undefined || value === "") {
    if (fallback !== undefined) return fallback;
    throw new TauError("invalid_params", `?${name} is required`, {
      hint: "give the version to compare, e.g. tau diff NAME 1 2",
    });
  }
  const number = Number(value);
  if (!Number.isInteger(number) || number < 1) {
    throw new TauError("invalid_params", `${name} must be a version number, got ${value}`, {
      hint: "versions are positive integers; list them with tau versions NAME",
    });
  }
  return number;
}

/** What a run of `version` gets, from the same code as `tau show`. */
export function versionPermissions(
  runs: Pick<RunManager, "permissions">,
  p: PipelineRecord,
  version: PipelineVersion,
) {
  return permissionSummary(
    runs.permissions(
      { ...p, metadata: version.metadata, current_version: version.version },
      version.hash,
    ),
    version,
  );
}

export function versionRoutes(deps: ApiDeps): Hono {
  const { store, runs } = deps;
  const app = new Hono();

  const summary = (p: PipelineRecord, version: PipelineVersion) =>
    versionPermissions(runs, p, version);

  const mustGetVersion = async (p: PipelineRecord, number: number) => {
    const version = await store.getVersion(p.name, number);
    if (!version) {
      throw new TauError("not_found", `Pipeline ${p.name} has no version ${number}`, {
        hint: `list its versions with tau versions ${p.name}`,
      });
    }
    return version;
  };

  app.get("/pipelines/:name/versions", async (c) => {
    const p = await requirePipeline(store, c.req.param("name"));
    const versions = (await store.listVersions(p.name)).reverse();
    return c.json({
      pipeline: p.name,
      current_version: p.current_version,
      versions: versions.map((v) => ({
        version: v.version,
        hash: v.hash,
        created_at: v.created_at,
        source: v.source,
        parent: v.parent,
        ...(v.heal_id ? { heal_id: v.heal_id } : {}),
        // False for a candidate that never went live (rollback never picks it).
        promoted: v.promoted_at !== null,
        permissions_summary: summary(p, v),
        current: v.version === p.current_version,
      })),
    });
  });

  app.get("/pipelines/:name/diff", async (c) => {
    const p = await requirePipeline(store, c.req.param("name"));
    const from = await mustGetVersion(p, versionQuery(c.req.query("from"), "from"));
    const to = await mustGetVersion(
      p,
      versionQuery(c.req.query("to"), "to", p.current_version),
    );
    return c.json({
      pipeline: p.name,
      from: from.version,
      to: to.version,
      diff: codeDiff(from, to),
      permissions: permissionDiff(summary(p, from), summary(p, to)),
    });
  });

  app.post("/pipelines/:name/rollback", async (c) => {
    const body = parseBody(rollbackBody, await jsonBody(c.req));
    const result = await rollbackPipeline(
      store,
      deps.paths,
      deps.connections,
      c.req.param("name"),
      { to: body.to, ceiling: configuredLimits(deps.config).ceiling },
    );
    deps.scheduler.poke();
    return c.json({
      pipeline: result.pipeline,
      version: result.version,
      source: "rollback",
      rolled_back_to: result.rolled_back_to,
      previous_version: result.previous_version,
      hash: result.hash,
    }, 201);
  });

  return app;
}
