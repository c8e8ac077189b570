/**
 * The daemon in the foreground: opens the store, recovers runs a previous daemon left behind,
 * serves the API, and shuts down gracefully on the first SIGTERM/SIGINT (forcefully on the
 * second).
 */
import { healOnFailure } from "../heal/on_failure.ts";
import { loadConfig, type TauConfig } from "../config/config.ts";
import { prepareHome } from "../config/home.ts";
import { ensureApiKey } from "../config/api_key.ts";
import { tauPaths } from "../config/paths.ts";
import { TauError } from "../core/errors.ts";
import { openStore } from "../store/mod.ts";
import { RunManager } from "../runner/run_manager.ts";
import { removeLeftoverRunFolders } from "../runner/run_child.ts";
import { createApp } from "../api/app.ts";
import type { ApiDeps } from "../api/deps.ts";
import { dashboardApp } from "../dashboard/app.tsx";
import { adminKeyDigests } from "../api/keys.ts";
import { isAlive, readState, writeState } from "./state.ts";
import { ensureSandboxCache } from "../sandbox/npm_cache.ts";
import {
  type ConnectionRegistry,
  DEFAULT_CONNECTIONS,
  parseConnections,
} from "../connections/registry.ts";
import { prepareDefaultWarehouse } from "../connections/default_warehouse.ts";
import { engineInstall } from "../connections/engine_install.ts";
import { parseDuration } from "../core/duration.ts";
import { Cascade } from "../scheduler/cascade.ts";
import { systemClock } from "../scheduler/clock.ts";
import { Retention } from "../scheduler/retention.ts";
import { trimNativeMemory } from "./native_memory.ts";
import { Scheduler } from "../scheduler/scheduler.ts";
import { BackfillDriver } from "../backfill/mod.ts";
import { detectOsBoundary } from "../sandbox/os_boundary.ts";
import { listeningAddresses } from "../sandbox/network.ts";
import { configuredLimits } from "../sandbox/limits.ts";
import { defaultOnFailure } from "../ai/config.ts";
import { log, setLogFile } from "../core/log.ts";
import { webhookService } from "../webhooks/mod.ts";
import { prepareRuntime } from "../runtime/root.ts";

export type Role = "api" | "worker" | "scheduler";
export const ROLES: readonly Role[] = ["api", "worker", "scheduler"];

export interface ServeOptions {
  home: string;
  host?: string;
  port?: number;
  /** The dashboard's port (0: any free one), over `[dashboard] port`. */
  dashboardPort?: number;
  /** Write daemon logs here instead of stderr. */
  logFile?: string;
  /** What this process does. @default {all three} */
  roles?: Role[];
  /** Worker tags: runs of pipelines whose `pool` is one of them come here. */
  tags?: string[];
}

/** Everything the daemon opens before it serves: config, home, sandbox layer, store. */
async function openDaemon(options: ServeOptions) {
  const { config, file: configFile } = await loadConfig(options.home);
  // A compiled taud extracts what runs read and finds their deno first: paths point at them.
  await prepareRuntime(options.home, { configuredDeno: config.sandbox.deno });
  // Deploy-time tools and runs share one module cache holding only the approved npm drivers.
  const paths = { ...tauPaths(options.home), denoDir: await ensureSandboxCache() };
  const host = options.host ?? config.daemon.host;
  const requestedPort = options.port ?? config.daemon.port;
  if (options.dashboardPort !== undefined) config.dashboard.port = options.dashboardPort;
  const connections: ConnectionRegistry = Object.assign(
    parseConnections({ ...DEFAULT_CONNECTIONS, ...config.connections }),
    { file: configFile },
  );
  const boundary = await detectOsBoundary(config.sandbox.os_boundary);
  if (config.sandbox.os_boundary === "require" && !boundary.mechanism) {
    throw new TauError(
      "sandbox_unavailable",
      `The OS boundary is required but ${boundary.reason}`,
      {
        hint:
          'install bubblewrap and allow user namespaces, or set [sandbox] os_boundary = "auto" to run with layers 1 and 2 only',
      },
    );
  }
  await prepareHome(paths);
  // A daemon that died (kill -9, a crash) left its runs' folders; none is in use unless a live
  // daemon shares this home, which would still be named in the state file.
  const previous = await readState(paths);
  const leftoverRunFolders = previous && previous.pid !== Deno.pid && isAlive(previous.pid)
    ? 0
    : await removeLeftoverRunFolders(paths);
  const movedWarehouse = config.connections.warehouse === undefined &&
    await prepareDefaultWarehouse(paths.home);
  const apiKey = await ensureApiKey(paths);
  const roles = new Set(options.roles ?? ROLES);
  const store = config.database.url
    ? await openStore({ url: config.database.url, max: config.database.pool_size })
    : await openStore({ path: paths.database });
  const workerId = `${Deno.hostname()}-${Deno.pid}-${crypto.randomUUID().slice(0, 8)}`;
  const leaseMs = parseDuration(config.daemon.lease) as number;
  return {
    paths,
    config,
    configFile,
    host,
    requestedPort,
    connections,
    boundary,
    movedWarehouse,
    leftoverRunFolders,
    apiKey,
    roles,
    store,
    workerId,
    leaseMs,
  };
}

export async function serveDaemon(options: ServeOptions): Promise<void> {
  keepServingOnStrayErrors();
  if (options.logFile) setLogFile(options.logFile);
  const opened = await openDaemon(options);
  const { paths, config, host, requestedPort, roles, store } = opened;

  const controller = new AbortController();
  let server: Deno.HttpServer<Deno.NetAddr>;
  const startedAt = new Date();
  const daemon = { pid: Deno.pid, host, port: requestedPort, dashboardPort: 0, startedAt };
  const { runs, scheduler, retention, backfills } = services(opened, daemon, options.tags ?? []);
  // Webhook deliveries go out from processes with the api role (docs/webhooks.md).
  const webhooks = roles.has("api") ? webhookService(store, config, opened.workerId, daemon) : null;
  // Only digests of the admin keys stay in memory; the configured key is dropped from config.
  const keyDigests = adminKeyDigests([opened.apiKey, config.auth.api_key]);
  delete config.auth.api_key;
  const apiDeps: ApiDeps = {
    store,
    runs,
    scheduler,
    paths,
    config,
    adminKeyDigests: keyDigests,
    connections: opened.connections,
    daemon,
    boundary: opened.boundary,
    roles: [...roles],
    leaseMs: opened.leaseMs,
    webhooks,
    backfills,
  };
  const app = createApp(apiDeps);
  try {
    server = roles.has("api")
      ? Deno.serve({
        hostname: host,
        port: requestedPort,
        signal: controller.signal,
        onListen: () => {},
      }, app.fetch)
      : noServer(controller.signal);
  } catch (err) {
    await store.close();
    if (err instanceof Deno.errors.AddrInUse) {
      throw new TauError("conflict", `Port ${requestedPort} on ${host} is already in use`, {
        hint: "stop the other process or start taud with --port N",
      });
    }
    throw err;
  }
  // Without an API here, runs are still denied the configured API port (one may run beside).
  daemon.port = roles.has("api") ? server.addr.port : requestedPort;
  let dashboard: Deno.HttpServer<Deno.NetAddr> | null;
  try {
    dashboard = serveDashboard(opened, controller.signal, apiDeps);
  } catch (err) {
    controller.abort();
    await server.finished;
    await store.close();
    throw err;
  }
  daemon.dashboardPort = dashboard?.addr.port ?? 0;
  const listening = roles.has("api") ? daemon.port : 0;
  // One SQLite database has one daemon: runs it left `running` died with it. With PostgreSQL,
  // other workers may be running them; their leases tell.
  const recovered = store.kind === "sqlite" && roles.has("worker") ? await runs.recover() : null;
  // Heals likewise: with SQLite every running one died with the last daemon; with PostgreSQL,
  // those whose daemon stopped renewing them.
  const interruptedHeals = await store.interruptHeals(new Date(), { all: store.kind === "sqlite" });
  if (roles.has("worker")) {
    // The first run using DuckDB would otherwise wait for the engine's one-time setup.
    engineInstall().catch((err) => log("engine_setup_failed", { error: String(err) }));
    await runs.startWorker();
  } else if (roles.has("scheduler")) runs.watchLeases();
  if (roles.has("scheduler")) {
    scheduler.start();
    retention.start();
    backfills.start();
  }
  webhooks?.start();
  const nativeMemory = trimNativeMemory();
  await writeState(paths, {
    pid: Deno.pid,
    host,
    port: listening,
    home: paths.home,
    started_at: startedAt.toISOString(),
    roles: [...roles],
  });
  log("started", {
    pid: Deno.pid,
    host,
    port: listening,
    dashboard_port: daemon.dashboardPort,
    home: paths.home,
    roles: [...roles],
    store: store.kind,
    config_file: opened.configFile,
    worker_id: opened.workerId,
    recovered,
    interrupted_heals: interruptedHeals,
    removed_run_folders: opened.leftoverRunFolders,
    ...(opened.movedWarehouse
      ? { moved_warehouse: "warehouse.duckdb → warehouse/warehouse.duckdb" }
      : {}),
  });

  const drain = async (signal: string) => {
    // Before any await: a run queued after the signal must not be claimed here.
    runs.stopClaiming();
    log("stopping", { signal });
    controller.abort();
    await scheduler.stop();
    await retention.stop();
    await backfills.stop();
    await webhooks?.stop();
    nativeMemory.stop();
    await runs.shutdown(parseDuration(config.daemon.drain_grace) as number);
    await store.releaseLease("scheduler", opened.workerId).catch(() => {});
    await server.finished;
    await dashboard?.finished;
    await store.close();
    await Deno.remove(paths.stateFile).catch(() => {});
    await Deno.remove(paths.pidFile).catch(() => {});
    log("stopped", {});
    Deno.exit(0);
  };
  const stopping = onStopSignals(drain);
  await server.finished;
  // The server closes as soon as stopping begins; the drain (which ends the process) goes on.
  await stopping();
}

/**
 * The daemon's working parts: the run manager (which needs the real port, to deny it to runs,
 * before the first run starts), the DAG cascade, the scheduler and retention.
 */
function services(
  opened: Awaited<ReturnType<typeof openDaemon>>,
  daemon: { port: number; dashboardPort: number },
  tags: string[],
) {
  const { store, paths, config, connections, boundary, host, roles, workerId, leaseMs } = opened;
  const s = config.scheduler;
  const runs: RunManager = new RunManager({
    onError: (runId, err) => log("run_error", { run_id: runId, error: String(err) }),
    store,
    paths,
    // The dashboard's port too, and the configured one where this process serves none.
    get daemonPorts() {
      const dashboard = daemon.dashboardPort || dashboardPortOf(opened.config, daemon.port);
      return [daemon.port, dashboard].filter((port) => port > 0);
    },
    daemonAddresses: listeningAddresses(host),
    limits: configuredLimits(config),
    boundary,
    connections,
    maxConcurrent: s.max_concurrent,
    defaults: {
      retries: s.retries,
      retry_delay_ms: parseDuration(s.retry_delay) as number,
      timeout_ms: parseDuration(s.timeout) as number,
    },
    onFinished: async (run) => {
      if (run.trigger.startsWith("backfill:")) backfills.poke(); // its next instant may start
      await cascade.onFinished(run);
      await healOnFailure(
        { store, paths, config, connections, runs },
        run,
        log,
        () => scheduler.poke(),
      );
    },
    onFailure: defaultOnFailure(config.ai),
    execute: roles.has("worker"),
    warmPool: {
      budgetMb: config.sandbox.warm_pool_mb,
      idleMs: parseDuration(config.sandbox.warm_pool_idle) as number,
    },
    workerId,
    tags,
    leaseMs,
  });
  const prepare = runs.prepare.bind(runs);
  const dispatch = runs.dispatch.bind(runs);
  const cascade = new Cascade({ store, prepare, dispatch });
  const onError = (err: unknown) => log("scheduler_error", { error: String(err) });
  // However many daemons run, one holds the scheduler lease and fires the ticks.
  const scheduler = new Scheduler({
    store,
    clock: systemClock,
    timezone: s.timezone,
    prepare,
    dispatch,
    onError,
    leader: {
      acquire: (now) => store.tryLease("scheduler", workerId, now, SCHEDULER_LEASE_MS),
      renewEveryMs: SCHEDULER_LEASE_MS / 4,
    },
  });
  const retention = new Retention(store, systemClock, {
    keepRuns: s.history_runs,
    keepDays: s.history_days,
    onPruned: (count) => log("pruned", { runs: count }),
    onError,
  });
  // Backfills are driven by the scheduler lease's holder too.
  const backfills = new BackfillDriver({
    store,
    clock: systemClock,
    prepare,
    dispatch,
    leader: { acquire: (now) => store.tryLease("scheduler", workerId, now, SCHEDULER_LEASE_MS) },
    onError: (err) => log("backfill_error", { error: String(err) }),
  });
  return { runs, scheduler, retention, backfills };
}

/**
 * The first SIGTERM or SIGINT starts `drain` (which ends the process); a second one exits at
 * once. Returns the drain under way, if any.
 */
function onStopSignals(drain: (signal: string) => Promise<void>): () => Promise<void> | null {
  let stopping: Promise<void> | null = null;
  const stop = (signal: string) => {
    if (stopping) {
      log("forced exit", { signal });
      Deno.exit(1);
    }
    stopping = drain(signal);
  };
  Deno.addSignalListener("SIGTERM", () => stop("SIGTERM"));
  Deno.addSignalListener("SIGINT", () => stop("SIGINT"));
  return () => stopping;
}

/**
 * The last line of defence: an error no promise chain caught is logged (`internal_error`) and
 * the daemon goes on serving. Every known path catches its own errors and ends only the run
 * concerned; the tests fail on any `internal_error` line, so this never hides a bug.
 */
function keepServingOnStrayErrors(): void {
  const report = (kind: string, err: unknown) =>
    log("internal_error", {
      kind,
      error: String(err),
      stack: err instanceof Error ? err.stack ?? null : null,
    });
  globalThis.addEventListener("unhandledrejection", (e) => {
    e.preventDefault();
    report("unhandled_rejection", e.reason);
  });
  globalThis.addEventListener("error", (e) => {
    e.preventDefault();
    report("uncaught_exception", e.error);
  });
}

/** The scheduler lease: a dead holder is replaced within this long. */
const SCHEDULER_LEASE_MS = 5_000;

/** Stands in for the HTTP server in a process without the api role. */
function noServer(signal: AbortSignal): Deno.HttpServer<Deno.NetAddr> {
  const finished = new Promise<void>((resolve) =>
    signal.addEventListener("abort", () => resolve())
  );
  return {
    addr: { transport: "tcp", hostname: "", port: 0 },
    finished,
  } as unknown as Deno.HttpServer<
    Deno.NetAddr
  >;
}

/** The dashboard's port for an API on `apiPort`: configured, else the next one (0: any). */
function dashboardPortOf(config: TauConfig, apiPort: number): number {
  if (!config.dashboard.enabled) return 0;
  return config.dashboard.port ?? (apiPort === 0 ? 0 : apiPort + 1);
}

/** Serves the dashboard beside the API (api role, `[dashboard] enabled`); null otherwise. */
function serveDashboard(
  opened: Awaited<ReturnType<typeof openDaemon>>,
  signal: AbortSignal,
  apiDeps: ApiDeps,
): Deno.HttpServer<Deno.NetAddr> | null {
  const { config, host, roles, requestedPort } = opened;
  if (!roles.has("api") || !config.dashboard.enabled) return null;
  const port = dashboardPortOf(config, requestedPort);
  const app = dashboardApp(apiDeps);
  try {
    return Deno.serve({ hostname: host, port, signal, onListen: () => {} }, app.fetch);
  } catch (err) {
    if (!(err instanceof Deno.errors.AddrInUse)) throw err;
    throw new TauError("conflict", `Port ${port} on ${host} (the dashboard's) is already in use`, {
      hint: "start taud with --dashboard-port N (0: any free port), or set [dashboard] port = N " +
        "(or enabled = false) in tau.toml",
    });
  }
}
