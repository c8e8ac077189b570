/**
 * How a run ends on this worker: its final status, result and error stored (with the failed
 * steps referring to the error), its diagnosis first when it failed, waiters told, and the
 * `onFinished` listeners (the DAG cascade, healing) called.
 */
import type { AttemptRecord, Json, RunRecord, RunStatus, StepRecord } from "../store/mod.ts";
import { referAttempts, referSteps, TERMINAL_STATUSES } from "../store/mod.ts";
import type { PipelineMetadata, RunDefaults } from "../metadata/schema.ts";
import type { RunLimits } from "../sandbox/limits.ts";
import { diagnosisOnFailure } from "../heal/mod.ts";
import { closeAbandonedSteps } from "./steps.ts";
import { systemErrors } from "./classify.ts";
import type { RunManagerOptions } from "./options.ts";
import { errorText } from "../core/errors.ts";
import type { WarmPool } from "./warm_pool.ts";

/** What executing and finishing a run needs of its RunManager. */
export interface RunContext {
  o: RunManagerOptions;
  workerId: string;
  /** Dispatches an event named after each run id as its run ends. */
  done: EventTarget;
  reportError(runId: string, err: unknown): void;
  /** The limits a run of this pipeline gets. */
  limits(metadata: PipelineMetadata & RunDefaults): RunLimits;
  /** The metadata with the daemon's defaults applied. */
  effective(metadata: unknown): PipelineMetadata & RunDefaults;
  /** Children started ahead of their runs (null: every run starts cold). */
  pool: WarmPool | null;
}

/** Writes to a run this worker holds are conditional on still holding it. */
export function guardOf(ctx: RunContext) {
  return { worker_id: ctx.workerId };
}

/**
 * Tau itself failed while executing a run (its store, a bug): the run must not stay
 * `running`, so it ends `failed` with kind `internal`, if this worker still holds it.
 */
export async function failInternal(
  ctx: RunContext,
  runId: string,
  err: unknown,
): Promise<void> {
  ctx.reportError(runId, err);
  try {
    const run = await ctx.o.store.getRun(runId);
    if (!run || TERMINAL_STATUSES.includes(run.status) || run.worker_id !== ctx.workerId) return;
    const error = systemErrors.internal(errorText(err));
    const attempts = run.attempts.map((a) =>
      a.status === "running" ? { ...a, status: "failed" as const, error } : a
    );
    await closeAbandonedSteps(ctx.o.store, runId, error);
    await finishRun(ctx, run, "failed", null, error, attempts);
  } catch (again) {
    ctx.reportError(runId, again); // the store is down: recovery or a lapsed lease ends it
  }
}

/**
 * Diagnoses a run that ends failed and stores the diagnosis with it (unless its pipeline's
 * `heal` is off); true when one was stored. A diagnosis that cannot be made is reported, and
 * never keeps the run from ending.
 */
export async function storeDiagnosis(ctx: RunContext, run: RunRecord): Promise<boolean> {
  try {
    const diagnosis = await diagnosisOnFailure(
      ctx.o.store,
      run,
      ctx.o.onFailure ?? "diagnose",
    );
    if (!diagnosis) return false;
    return await ctx.o.store.setDiagnosis(
      run.run_id,
      diagnosis as unknown as Record<string, Json>,
    );
  } catch (err) {
    ctx.reportError(run.run_id, err);
    return false;
  }
}

export async function finishRun(
  ctx: RunContext,
  run: RunRecord,
  status: RunStatus,
  result: Json,
  error: RunRecord["error"],
  attempts: AttemptRecord[],
  startedAt = run.started_at,
): Promise<void> {
  const finishedAt = new Date();
  // A run this worker holds is finished only while it still holds it.
  const guard = run.worker_id === ctx.workerId && run.status === "running"
    ? guardOf(ctx)
    : undefined;
  const { store } = ctx.o;
  // Each error is stored whole once: steps that failed with their attempt's error refer to
  // it. They change first, so whoever sees the run ended sees them final; back if it was lost.
  const steps = await store.listSteps(run.run_id);
  const referred = referSteps(error, attempts, steps);
  for (const step of referred) await store.saveStep(step);
  const patch = {
    status,
    result,
    error,
    attempts: referAttempts(error, attempts),
    pid: null,
    finished_at: finishedAt.toISOString(),
    duration_ms: startedAt ? finishedAt.getTime() - new Date(startedAt).getTime() : null,
  };
  // Stored before the status, so whoever sees the run failed sees its diagnosis too.
  const diagnosed = await storeDiagnosis(ctx, { ...run, ...patch });
  const finished = await store.updateRun(run.run_id, patch, guard);
  if (!finished) {
    const changed = (s: StepRecord) =>
      referred.some((r) => r.attempt === s.attempt && r.seq === s.seq);
    for (const step of steps.filter(changed)) await store.saveStep(step);
    // Taken from this worker meanwhile: the diagnosis is the new holder's to write.
    const now = diagnosed ? await store.getRun(run.run_id) : null;
    if (now && !TERMINAL_STATUSES.includes(now.status)) {
      await store.setDiagnosis(run.run_id, null);
    }
  }
  ctx.done.dispatchEvent(new Event(run.run_id));
  if (finished && ctx.o.onFinished) {
    await ctx.o.onFinished(finished).catch((err) => ctx.reportError(run.run_id, err));
  }
}
