/**
 * The HTTP JSON API under /api/v1. `createApp()` returns a Hono app whose `fetch` serves
 * `Deno.serve` and tests alike. One error handler maps every failure to `{"error": {...}}`.
 */
import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { HTTPException } from "hono/http-exception";
import { TauError, toErrorBody } from "../core/errors.ts";
import { bearerAuth, refuseKeysInUrl, requireScope } from "./auth.ts";
import { keyRoutes } from "./key_routes.ts";
import { pipelineRoutes } from "./pipelines.ts";
import { runRoutes } from "./runs.ts";
import { graphRoutes } from "./graph.ts";
import { connectionRoutes } from "./connections.ts";
import { workerRoutes } from "./workers.ts";
import { versionRoutes } from "./versions.ts";
import { healRoutes } from "./heal.ts";
import { aiRoutes } from "./ai.ts";
import { backfillRoutes } from "./backfills.ts";
import { lineageRoutes } from "./lineage.ts";
import { webhookRoutes } from "./webhooks.ts";
import type { ApiDeps } from "./deps.ts";
import { signedTriggerRoutes, triggerSecretRoutes } from "../triggers/mod.ts";

import { MAX_BODY_BYTES } from "./_body.ts";
import { VERSION } from "../version.ts";
import { runtime } from "../runtime/root.ts";
import { layersReport, NO_OS_BOUNDARY } from "../sandbox/os_boundary.ts";
import { configuredLimits } from "../sandbox/limits.ts";

export function createApp(deps: ApiDeps): Hono {
  const app = new Hono();
  const api = new Hono();
  app.use("*", refuseKeysInUrl());
  // The signed routes (auth.ts SIGNED_ROUTES) authenticate with an HMAC, not a key: mounted
  // before `api`, their handler answers before its key check runs. Moved after it, they would
  // fail closed (401 "Missing API key"), never open.
  app.route("/api/v1", signedTriggerRoutes(deps));
  api.use("*", bearerAuth({ store: deps.store, adminDigests: deps.adminKeyDigests }));
  api.use(
    "*",
    bodyLimit({
      maxSize: MAX_BODY_BYTES,
      onError: () => {
        throw new TauError(
          "payload_too_large",
          `Request body is larger than ${MAX_BODY_BYTES} bytes`,
          { hint: "send less per request: pipeline files are limited to 1 MiB" },
        );
      },
    }),
  );
  // After the body limit: a route whose scope depends on its body reads it here.
  api.use("*", requireScope({ base: "/api/v1" }));
  api.get("/status", async (c) => {
    const stats = await deps.store.stats();
    return c.json({
      status: "ok",
      version: VERSION,
      pid: deps.daemon.pid,
      host: deps.daemon.host,
      port: deps.daemon.port,
      dashboard: deps.daemon.dashboardPort ? { port: deps.daemon.dashboardPort } : null,
      home: deps.paths.home,
      uptime_s: Math.round((Date.now() - deps.daemon.startedAt.getTime()) / 1000),
      memory: daemonMemory(),
      store: deps.store.kind,
      roles: deps.roles ?? ["api", "worker", "scheduler"],
      pipelines: stats.pipelines,
      runs: stats.runs,
      active_runs: deps.runs.activeCount,
      // Which tau.toml this daemon read, and the connections it has: names and types only.
      config: {
        file: deps.connections.file ?? null,
        connections: [...deps.connections.values()].map(({ name, type }) => ({ name, type })),
      },
      sandbox: sandboxStatus(deps),
      // What this daemon is and what runs start from: a checkout or a compiled binary.
      build: { version: VERSION, ...runtime().report },
    });
  });
  // Who the key is: the MCP server shows a key only the tools its scope may call.
  api.get("/whoami", (c) => {
    const { id, scope } = c.get("principal");
    return c.json({ key_id: id, scope });
  });
  api.route("/pipelines", pipelineRoutes(deps));
  api.route("/", graphRoutes(deps));
  api.route("/connections", connectionRoutes(deps));
  api.route("/workers", workerRoutes(deps));
  api.route("/keys", keyRoutes(deps));
  api.route("/webhooks", webhookRoutes(deps));
  api.route("/", runRoutes(deps));
  api.route("/", versionRoutes(deps));
  api.route("/", healRoutes(deps));
  api.route("/", aiRoutes(deps));
  api.route("/", backfillRoutes(deps));
  api.route("/", lineageRoutes(deps));
  api.route("/", triggerSecretRoutes(deps));
  app.route("/api/v1", api);
  // MCP over streamable HTTP, with the API's keys (each tool call is an API call).
  app.use("/mcp", bearerAuth({ store: deps.store, adminDigests: deps.adminKeyDigests }));
  // Loaded on the first MCP request: the MCP SDK and its dependencies are ~30 MB of an idle
  // daemon's memory, and most daemons never serve MCP.
  app.all("/mcp", async (c) => (await import("./mcp.ts")).serveMcp(c, app));

  app.notFound((c) =>
    c.json({
      error: {
        code: "not_found",
        message: `No route ${c.req.method} ${new URL(c.req.url).pathname}`,
      },
    }, 404)
  );
  app.onError((err, c) => {
    if (err instanceof HTTPException && !(err.cause instanceof TauError)) {
      return c.json({ error: { code: "invalid_request", message: err.message } }, err.status);
    }
    const tauError = err instanceof TauError
      ? err
      : err.cause instanceof TauError
      ? err.cause
      : null;
    if (!tauError) console.error("taud: unexpected error", err);
    const status = tauError?.status ?? 500;
    return c.json({ error: toErrorBody(tauError ?? err) }, status as 400);
  });
  return app;
}

/** The layers runs get on this daemon, and the limits they get by default. */
/** The daemon's own memory: resident, and what its JavaScript heap holds. */
function daemonMemory() {
  const { rss, heapUsed, heapTotal } = Deno.memoryUsage();
  const mb = (bytes: number) => Math.round(bytes / 104_857.6) / 10;
  return { rss_mb: mb(rss), heap_used_mb: mb(heapUsed), heap_total_mb: mb(heapTotal) };
}

function sandboxStatus(deps: ApiDeps) {
  const boundary = deps.boundary ?? NO_OS_BOUNDARY;
  const { defaults, ceiling } = configuredLimits(deps.config);
  return {
    ...layersReport(boundary),
    os_boundary_mode: deps.config.sandbox.os_boundary,
    default_limits: defaults,
    ceiling,
    deno: Deno.version.deno,
    // Children started ahead of their runs; null where this daemon executes no runs.
    warm_pool: deps.runs.warmPoolStatus(),
  };
}
