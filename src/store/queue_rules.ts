/**
 * What happens to a run taken from its worker, shared by both store engines so they agree to
 * the field: a lost lease (the worker died) and a hand-back (the worker is draining).
 */
import type { AttemptRecord, RunError, RunPatch, RunRecord } from "./types.ts";
import { referAttempts } from "./error_refs.ts";

/** The attempt that was running, closed with `status` and `error`. */
function closeCurrentAttempt(
  run: RunRecord,
  status: AttemptRecord["status"],
  error: AttemptRecord["error"],
  now: Date,
): AttemptRecord[] {
  const attempts = [...run.attempts];
  const last = attempts.at(-1);
  if (last && last.status === "running") {
    const started = last.started_at ? new Date(last.started_at).getTime() : now.getTime();
    attempts[attempts.length - 1] = {
      ...last,
      status,
      error,
      finished_at: now.toISOString(),
      duration_ms: now.getTime() - started,
    };
  }
  return attempts;
}

export const workerLostError = (run: RunRecord): RunError => ({
  kind: "worker_lost",
  message: `The worker ${run.worker_id ?? "?"} running this run stopped heartbeating`,
  hint: "the run is retried per its retries; check the worker's machine and logs",
});

/** A run whose lease lapsed: queued again while attempts remain, else failed `worker_lost`. */
export function lostRunPatch(run: RunRecord, now: Date): RunPatch & { worker_id: null } {
  const error = workerLostError(run);
  const attempts = closeCurrentAttempt(run, "failed", error, now);
  const common = { worker_id: null, lease_expires_at: null, pid: null, attempts } as const;
  if (run.attempt < run.max_attempts) return { ...common, status: "queued" };
  const started = run.started_at ? new Date(run.started_at).getTime() : now.getTime();
  return {
    ...common,
    attempts: referAttempts(error, attempts),
    status: "failed",
    error,
    finished_at: now.toISOString(),
    duration_ms: now.getTime() - started,
  };
}

/** A run a draining worker gives back: queued again, the interrupted attempt not counted. */
export function releasedRunPatch(run: RunRecord, now: Date): RunPatch & { worker_id: null } {
  return {
    status: "queued",
    worker_id: null,
    lease_expires_at: null,
    pid: null,
    max_attempts: run.max_attempts + 1,
    attempts: closeCurrentAttempt(run, "cancelled", {
      kind: "worker_stopped",
      message: `The worker ${run.worker_id ?? "?"} stopped and gave the run back to the queue`,
    }, now),
  };
}
