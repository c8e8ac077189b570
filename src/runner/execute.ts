/** Executing a run this worker has claimed: its attempts, one sandboxed child each. */
import { TauError } from "../core/errors.ts";
import { materializeVersion } from "../deploy/code_files.ts";
import type { AttemptRecord, Json, RunRecord, RunStatus } from "../store/mod.ts";
import type { Connection } from "../connections/registry.ts";
import { resolveConnections, type ResolvedConnections } from "../connections/resolve.ts";
import { runRequests } from "../connections/run_requests.ts";
import { NO_OS_BOUNDARY } from "../sandbox/os_boundary.ts";
import type { RunLimits } from "../sandbox/limits.ts";
import { type AttemptSpec, runAttempt } from "./attempt.ts";
import { systemErrors } from "./classify.ts";
import { makeRedactor } from "./redact.ts";
import { finishRun, guardOf, type RunContext } from "./finish.ts";
import { stopReason } from "./options.ts";

/**
 * Runs a claimed run's attempts (with retries and backoff) in the sandbox, then finishes it;
 * a run taken from this worker meanwhile is left to its new holder.
 */
export async function executeRun(
  ctx: RunContext,
  runId: string,
  controller: AbortController,
): Promise<void> {
  const { store, paths } = ctx.o;
  let run = await store.getRun(runId);
  if (!run || run.status !== "running" || run.worker_id !== ctx.workerId) return;
  const prepared = await prepare(ctx, run);
  if (!prepared) return;
  const { metadata } = prepared;
  const lastSuccess = await store.lastSuccessfulRun(run.pipeline);
  const limits = ctx.limits(metadata);
  const attempts: AttemptRecord[] = [...run.attempts];
  const tail = await store.listLogs(runId, { tail: 1 });
  let logSeq = (tail[0]?.seq ?? -1) + 1;
  const startedAt = run.started_at ?? new Date().toISOString();
  let last: { status: RunStatus; result: Json; error: RunRecord["error"] } = {
    status: "failed",
    result: null,
    error: null,
  };

  for (let attempt = run.attempt + 1; attempt <= run.max_attempts; attempt++) {
    const attemptStart = new Date();
    const current: AttemptRecord = {
      attempt,
      status: "running",
      started_at: attemptStart.toISOString(),
      finished_at: null,
      duration_ms: null,
      error: null,
    };
    const started = await store.updateRun(runId, {
      status: "running",
      attempt,
      started_at: startedAt,
      attempts: [...attempts, current],
    }, guardOf(ctx));
    if (!started) return; // taken from this worker (cancelled, or its lease lapsed)
    run = started;
    const outcome = await runAttempt(store, paths, {
      ...attemptSpec(ctx, run, prepared, limits, controller.signal),
      attempt,
      lastSuccessfulRun: lastSuccess?.finished_at ?? null,
      firstLogSeq: logSeq,
    });
    logSeq = outcome.nextLogSeq;
    await store.updateRun(runId, {
      sandbox: outcome.sandbox as unknown as Json,
      access: outcome.access as unknown as Json,
    }, guardOf(ctx));
    const finished = new Date();
    attempts.push({
      ...current,
      status: outcome.status,
      finished_at: finished.toISOString(),
      duration_ms: finished.getTime() - attemptStart.getTime(),
      error: outcome.error,
    });
    last = outcome;
    const retryable = outcome.status === "failed" || outcome.status === "timed_out";
    if (!retryable || attempt === run.max_attempts || controller.signal.aborted) break;
    const delay = backoff(metadata.retry_delay_ms, attempt);
    await store.appendLogs([{
      run_id: runId,
      attempt,
      seq: logSeq++,
      ts: new Date().toISOString(),
      level: "system",
      step: null,
      message: `attempt ${attempt} ended ${outcome.status}; retrying in ${delay} ms`,
    }]);
    await store.updateRun(runId, { attempts, pid: null }, guardOf(ctx));
    if (!(await sleep(delay, controller.signal))) break;
  }

  const reason = stopReason(controller.signal);
  // Lost: another process took the run over. Drained: it goes back to the queue, whole.
  if (reason === "lost") return;
  if (reason === "drain") {
    await store.releaseRuns(ctx.workerId, [runId], new Date());
    return;
  }
  if (controller.signal.aborted) { // cancelled: the only other reason to stop a run here
    last = { status: "cancelled", result: null, error: systemErrors.cancelled() };
    const lastAttempt = attempts.at(-1);
    if (lastAttempt && lastAttempt.status !== last.status) {
      attempts.splice(-1, 1, { ...lastAttempt, status: last.status, error: last.error });
    }
  }
  await finishRun(ctx, run, last.status, last.result, last.error, attempts, startedAt);
}

/** The parts of an attempt's spec that every attempt of the run shares. */
function attemptSpec(
  ctx: RunContext,
  run: RunRecord,
  prepared: Prepared,
  limits: RunLimits,
  signal: AbortSignal,
): Omit<AttemptSpec, "attempt" | "lastSuccessfulRun" | "firstLogSeq"> {
  const { store, paths } = ctx.o;
  const { version, metadata, entry, secretValues, registry, connections, redact } = prepared;
  const runId = run.run_id;
  const boundary = ctx.o.boundary ?? NO_OS_BOUNDARY;
  return {
    runId,
    pipeline: run.pipeline,
    version: run.version,
    pool: ctx.pool,
    filename: version.filename,
    entry,
    metadata,
    params: run.params,
    scheduledAt: run.scheduled_at,
    logicalDate: run.scheduled_at ?? run.created_at,
    secretValues,
    redact,
    daemonPorts: ctx.o.daemonPorts,
    daemonAddresses: ctx.o.daemonAddresses,
    limits,
    boundary,
    signal,
    onStart: (pid) =>
      void store.updateRun(runId, { pid }, guardOf(ctx)).catch((err) =>
        ctx.reportError(runId, err)
      ),
    connectionHosts: connections.hosts,
    connectionHostsByName: connections.hostsByName,
    connections: connections.forRun,
    requests: ({ scratchDir, scratchView }) =>
      runRequests({
        declared: metadata.connections,
        registry,
        home: paths.home,
        scratchDir,
        scratchView,
        limits,
        boundary,
      }),
  };
}

type Prepared = NonNullable<Awaited<ReturnType<typeof prepare>>>;

/** What every attempt of a run shares; null when the run could not start (it is finished). */
async function prepare(ctx: RunContext, run: RunRecord) {
  const { store, paths } = ctx.o;
  const version = await store.getVersion(run.pipeline, run.version);
  if (!version) {
    await finishRun(ctx, run, "failed", null, {
      kind: "internal",
      message: `Version ${run.version} of ${run.pipeline} is missing`,
    }, run.attempts);
    return null;
  }
  const metadata = ctx.effective(version.metadata);
  const entry = await materializeVersion(paths, version);
  const secretValues = readSecrets(metadata.secrets, ctx.o.env ?? Deno.env);
  const registry = ctx.o.connections ?? new Map<string, Connection>();
  let connections: ResolvedConnections;
  try {
    connections = await resolveConnections(metadata.connections, registry, paths.home);
  } catch (err) {
    const error = err instanceof TauError ? err : new TauError("invalid_config", String(err));
    await finishRun(ctx, run, "failed", null, {
      kind: "unknown_connection",
      message: error.message,
      hint: error.hint ?? null,
    }, run.attempts);
    return null;
  }
  const redact = makeRedactor([
    ...Object.entries(secretValues),
    ...connections.redact.map((value): [string, string] => ["connection", value]),
  ]);
  return { version, metadata, entry, secretValues, registry, connections, redact };
}

function readSecrets(names: string[], env: { get(name: string): string | undefined }) {
  const values: Record<string, string> = {};
  for (const name of names) {
    const value = env.get(name);
    if (value !== undefined) values[name] = value;
  }
  return values;
}

/** Exponential backoff with ±20% jitter, capped at ten minutes. */
export function backoff(baseMs: number, attempt: number, random = Math.random): number {
  const exp = Math.min(baseMs * 2 ** (attempt - 1), MAX_BACKOFF_MS);
  return Math.round(exp * (0.8 + 0.4 * random()));
}

const MAX_BACKOFF_MS = 10 * 60 * 1000;

/** Resolves true after `ms`, or false as soon as the signal aborts. */
function sleep(ms: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve(true);
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      resolve(false);
    };
    signal.addEventListener("abort", onAbort, { once: true });
  });
}
