/**
 * The daemon in the foreground: opens the store, recovers runs a previous daemon left behind,
 * serves the API, and shuts down gracefully on the first SIGTERM/SIGINT (forcefully on the
 * second).
 */
import { loadConfig } from "../config/config.ts";
import { ensureApiKey, prepareHome } from "../config/home.ts";
import { tauPaths } from "../config/paths.ts";
import { TauError } from "../core/errors.ts";
import { openStore } from "../store/mod.ts";
import { RunManager } from "../runner/run_manager.ts";
import { createApp } from "../api/app.ts";
import { adminKeyDigests } from "../api/keys.ts";
import { writeState } from "./state.ts";
import { ensureSandboxCache } from "../sandbox/npm_cache.ts";
import { DEFAULT_CONNECTIONS, parseConnections } from "../connections/registry.ts";
import { parseDuration } from "../core/duration.ts";
import { Cascade } from "../scheduler/cascade.ts";
import { systemClock } from "../scheduler/clock.ts";
import { Retention } from "../scheduler/retention.ts";
import { Scheduler } from "../scheduler/scheduler.ts";
import { detectOsBoundary } from "../sandbox/os_boundary.ts";
import { listeningAddresses } from "../sandbox/network.ts";
import { configuredLimits } from "../sandbox/limits.ts";

export interface ServeOptions {
  home: string;
  host?: string;
  port?: number;
  /** Write daemon logs here instead of stderr. */
  logFile?: string;
}

export async function serveDaemon(options: ServeOptions): Promise<void> {
  // Deploy-time tools and runs share one module cache holding only the approved npm drivers.
  const paths = { ...tauPaths(options.home), denoDir: await ensureSandboxCache() };
  const config = await loadConfig(options.home);
  const host = options.host ?? config.daemon.host;
  const requestedPort = options.port ?? config.daemon.port;
  const connections = parseConnections({ ...DEFAULT_CONNECTIONS, ...config.connections });
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
  const apiKey = await ensureApiKey(paths);
  const store = await openStore({ path: paths.database });

  const controller = new AbortController();
  let server: Deno.HttpServer<Deno.NetAddr>;
  const startedAt = new Date();
  const daemon = { pid: Deno.pid, host, port: requestedPort, startedAt };
  const s = config.scheduler;
  // The run manager needs the real port (to deny it to runs) before the first run starts.
  const runs: RunManager = new RunManager({
    onError: (runId, err) => log("run_error", { run_id: runId, error: String(err) }),
    store,
    paths,
    get daemonPort() {
      return daemon.port;
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
    onFinished: (run) => cascade.onFinished(run),
  });
  const prepare = runs.prepare.bind(runs);
  const dispatch = runs.dispatch.bind(runs);
  const cascade = new Cascade({ store, prepare, dispatch });
  const onError = (err: unknown) => log("scheduler_error", { error: String(err) });
  const scheduler = new Scheduler({
    store,
    clock: systemClock,
    timezone: s.timezone,
    prepare,
    dispatch,
    onError,
  });
  const retention = new Retention(store, systemClock, {
    keepRuns: s.history_runs,
    keepDays: s.history_days,
    onPruned: (count) => log("pruned", { runs: count }),
    onError,
  });
  // Only digests of the admin keys stay in memory; the configured key is dropped from config.
  const keyDigests = await adminKeyDigests([apiKey, config.auth.api_key]);
  delete config.auth.api_key;
  const app = createApp({
    store,
    runs,
    scheduler,
    paths,
    config,
    adminKeyDigests: keyDigests,
    connections,
    daemon,
    boundary,
  });
  try {
    server = Deno.serve({
      hostname: host,
      port: requestedPort,
      signal: controller.signal,
      onListen: () => {},
    }, app.fetch);
  } catch (err) {
    await store.close();
    if (err instanceof Deno.errors.AddrInUse) {
      throw new TauError("conflict", `Port ${requestedPort} on ${host} is already in use`, {
        hint: "stop the other process or start taud with --port N",
      });
    }
    throw err;
  }
  daemon.port = server.addr.port;
  const recovered = await runs.recover();
  scheduler.start();
  retention.start();
  await writeState(paths, {
    pid: Deno.pid,
    host,
    port: daemon.port,
    home: paths.home,
    started_at: startedAt.toISOString(),
  });
  if (options.logFile) setLogFile(options.logFile);
  log("started", { pid: Deno.pid, host, port: daemon.port, home: paths.home, recovered });

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) {
      log("forced exit", { signal });
      Deno.exit(1);
    }
    stopping = true;
    log("stopping", { signal });
    controller.abort();
    await scheduler.stop();
    await retention.stop();
    await runs.shutdown();
    await server.finished;
    await store.close();
    await Deno.remove(paths.stateFile).catch(() => {});
    await Deno.remove(paths.pidFile).catch(() => {});
    log("stopped", {});
    Deno.exit(0);
  };
  Deno.addSignalListener("SIGTERM", () => void stop("SIGTERM"));
  Deno.addSignalListener("SIGINT", () => void stop("SIGINT"));
  await server.finished;
}

let logFile: Deno.FsFile | null = null;

/** Sends daemon log lines to a file instead of stderr (background mode). */
export function setLogFile(path: string): void {
  logFile = Deno.openSync(path, { create: true, append: true });
}

/** Daemon log lines: one JSON object per line on stderr, or the log file in background mode. */
export function log(event: string, fields: Record<string, unknown>): void {
  const line = JSON.stringify({ ts: new Date().toISOString(), event, ...fields }) + "\n";
  if (logFile) logFile.writeSync(new TextEncoder().encode(line));
  else console.error(line.trimEnd());
}
