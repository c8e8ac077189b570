/** Routes for schedules and the pipeline graph: `tau schedule`, `tau dag`, `tau depends`. */
import { Hono } from "hono";
import { z } from "zod";
import { TauError } from "../core/errors.ts";
import { storedMetadata } from "../metadata/schema.ts";
import { buildGraph, checkDependencies, levels, mermaid, reachable } from "../scheduler/dag.ts";
import { checkSchedule } from "../scheduler/declarations.ts";
import { nextFireOf } from "../scheduler/scheduler.ts";
import { requirePipeline, type ScheduleRecord } from "../store/mod.ts";
import type { ApiDeps } from "./deps.ts";
import { jsonBody } from "./_body.ts";
import { parseBody } from "./runs.ts";

const scheduleBody = z.strictObject({
  cron: z.string().min(1).optional(),
  every: z.number().int().positive().optional(),
  timezone: z.string().min(1).optional(),
  enabled: z.boolean().optional(),
}).refine((b) => !(b.cron && b.every), { message: "give either cron or every, not both" });

const dependsBody = z.strictObject({ on: z.array(z.string()).max(100) });

/** How a schedule reads in `tau list`, `tau show` and `tau schedule`. */
export function scheduleView(schedule: ScheduleRecord | null, timezone: string, now = new Date()) {
  if (!schedule) {
    return { schedule: null, every_s: null, timezone: null, enabled: false, next_run_at: null };
  }
  return {
    schedule: schedule.cron,
    every_s: schedule.every_s,
    timezone: schedule.cron ? schedule.timezone ?? timezone : null,
    enabled: schedule.enabled,
    next_run_at: nextFireOf(schedule, timezone, now)?.toISOString() ?? null,
  };
}

export function graphRoutes(deps: ApiDeps): Hono {
  const { store } = deps;
  const timezone = deps.config.scheduler.timezone;
  const app = new Hono();

  app.put("/pipelines/:name/schedule", async (c) => {
    const p = await requirePipeline(store, c.req.param("name"));
    const body = parseBody(scheduleBody, await jsonBody(c.req));
    const now = new Date();
    if (body.cron !== undefined || body.every !== undefined) {
      const input = {
        cron: body.cron ?? null,
        every_s: body.every ?? null,
        timezone: body.cron ? body.timezone ?? storedMetadata(p).timezone ?? null : null,
      };
      checkSchedule(input);
      await store.setSchedule(p.name, input, now);
    } else if (body.timezone !== undefined) {
      throw new TauError("invalid_params", "--timezone needs a cron expression with it");
    }
    if (body.enabled !== undefined) {
      if (!(await store.getSchedule(p.name))) {
        throw new TauError("not_found", `${p.name} has no schedule`, {
          hint: `give one with tau schedule ${p.name} "CRON" or --every SECONDS`,
        });
      }
      await store.setScheduleEnabled(p.name, body.enabled, now);
    }
    deps.scheduler.poke();
    return c.json({ pipeline: p.name, ...scheduleView(await store.getSchedule(p.name), timezone) });
  });

  app.get("/pipelines/:name/ticks", async (c) => {
    const p = await requirePipeline(store, c.req.param("name"));
    const ticks = await store.listTicks(p.name, { limit: 100 });
    return c.json({ pipeline: p.name, ticks, count: ticks.length });
  });

  const graph = async () =>
    buildGraph((await store.listPipelines()).map((p) => p.name), await store.listDependencies());

  app.get("/dag", async (c) => {
    const g = await graph();
    const edges = [...g.upstream].flatMap(([to, ups]) => ups.map((from) => ({ from, to })));
    return c.json({
      nodes: g.nodes.map((name) => ({
        name,
        upstream: g.upstream.get(name) ?? [],
        downstream: g.downstream.get(name) ?? [],
      })),
      edges,
      levels: levels(g),
      mermaid: mermaid(g),
    });
  });

  const dependsView = async (name: string) => {
    const g = await graph();
    return {
      pipeline: name,
      upstream: g.upstream.get(name) ?? [],
      downstream: g.downstream.get(name) ?? [],
      all_upstream: reachable(g, name, "upstream"),
      all_downstream: reachable(g, name, "downstream"),
    };
  };

  app.get("/pipelines/:name/depends", async (c) => {
    const p = await requirePipeline(store, c.req.param("name"));
    return c.json(await dependsView(p.name));
  });

  app.put("/pipelines/:name/depends", async (c) => {
    const p = await requirePipeline(store, c.req.param("name"));
    const body = parseBody(dependsBody, await jsonBody(c.req));
    const upstreams = [...new Set(body.on)];
    const deployed = (await store.listPipelines()).map((x) => x.name);
    checkDependencies(p.name, upstreams, deployed, await store.listDependencies());
    await store.setDependencies(p.name, upstreams);
    return c.json(await dependsView(p.name));
  });

  return app;
}
