/** Gathers a run's records from the store and diagnoses it (`tau heal`, and runs that fail). */
import { TauError } from "../core/errors.ts";
import type { RunRecord, Store } from "../store/mod.ts";
import { diagnose } from "./diagnose.ts";
import { classifyError } from "./classify.ts";
import { driftReaders } from "../lineage/drift.ts";
import type { Diagnosis, DiagnosisInput, DiagnosisReport } from "./types.ts";

/** Log lines a diagnosis reads: the run's last ones. */
const LOG_TAIL = 50;
/** Runs looked back through for the last success before the failed one. */
const HISTORY = 200;

/** Statuses a diagnosis is for: the run did not succeed for a reason of its own. */
export function isDiagnosable(run: RunRecord): boolean {
  if (!run.error) return false;
  if (run.status === "failed" || run.status === "timed_out") return true;
  return run.status === "skipped" && run.error.kind === "upstream_failed";
}

/** The records a diagnosis of `run` is computed from. */
export async function gatherInput(store: Store, run: RunRecord): Promise<DiagnosisInput> {
  const steps = await store.listSteps(run.run_id, run.attempt || undefined);
  const logs = await store.listLogs(run.run_id, { tail: LOG_TAIL });
  const version = await store.getVersion(run.pipeline, run.version);
  const previous = (await store.listRuns(run.pipeline, { limit: HISTORY }))
    // A heal's replay ran a candidate, which may never have gone live.
    .find((r) => r.status === "success" && r.trigger !== "heal" && r.created_at < run.created_at);
  const lastSuccess = previous
    ? {
      run: previous,
      steps: await store.listSteps(previous.run_id, previous.attempt || undefined),
      version: await store.getVersion(previous.pipeline, previous.version),
    }
    : null;
  const upstreamId = run.error?.kind === "upstream_failed"
    ? /\(run ([^)]+)\)/.exec(run.error.message)?.[1]
    : undefined;
  const upstream = upstreamId ? await store.getRun(upstreamId) : null;
  const drift = run.error && classifyError(run.error).class === "schema_drift"
    ? await driftReaders(store, run)
    : null;
  return {
    run,
    steps,
    logs,
    version,
    lastSuccess,
    upstreamFailures: upstream ? [upstream] : [],
    driftReaders: drift,
  };
}

/**
 * `tau heal NAME [--run ID]`: the run's stored diagnosis, else one computed now. Without a run
 * id, the pipeline's newest run that did not succeed (a heal's replays aside).
 */
export async function healReport(
  store: Store,
  pipeline: string,
  runId?: string,
): Promise<DiagnosisReport> {
  const run = runId ? await store.getRun(runId) : await newestFailure(store, pipeline);
  if (!run || run.pipeline !== pipeline) {
    throw new TauError(
      "not_found",
      runId ? `No run ${runId} of ${pipeline}` : `No failed run of ${pipeline}`,
      { hint: `list its runs with tau runs ${pipeline}` },
    );
  }
  if (!isDiagnosable(run)) {
    throw new TauError("conflict", `Run ${run.run_id} ended ${run.status}: nothing to diagnose`, {
      hint: `a diagnosis is for a failed or timed-out run; list them with tau runs ${pipeline}`,
      details: { status: run.status },
    });
  }
  const stored = run.diagnosis as unknown as Diagnosis | null;
  const diagnosis = stored ?? diagnose(await gatherInput(store, run));
  return { pipeline, run_id: run.run_id, version: run.version, diagnosis };
}

async function newestFailure(store: Store, pipeline: string): Promise<RunRecord | null> {
  if (!(await store.getPipeline(pipeline))) {
    throw new TauError("not_found", `No pipeline ${pipeline}`, {
      hint: "list deployed pipelines with tau list",
    });
  }
  // A heal's replay of a candidate is not the pipeline's failure.
  return (await store.listRuns(pipeline, { limit: HISTORY }))
    .find((r) => isDiagnosable(r) && r.trigger !== "heal") ?? null;
}

/** `heal` in pipeline metadata, else `[ai] on_failure`. */
export type HealMode = "off" | "diagnose" | "auto";

/**
 * The diagnosis to store with a run that has just ended (`run` as it is being finished), or
 * null when it is not a failure or its pipeline's `heal` (else `defaultMode`) is `off`.
 */
export async function diagnosisOnFailure(
  store: Store,
  run: RunRecord,
  defaultMode: HealMode,
): Promise<Diagnosis | null> {
  if (!isDiagnosable(run)) return null;
  const input = await gatherInput(store, run);
  const declared = input.version?.metadata.heal;
  const mode = declared === "off" || declared === "diagnose" || declared === "auto"
    ? declared
    : defaultMode;
  return mode === "off" ? null : diagnose(input);
}
