/** The JSON shapes the API returns (documented in README.md, "CLI reference"). */
import type { Json, LogRecord, RunRecord, StepRecord } from "../store/mod.ts";
import { MAX_JSON_DEPTH } from "../../sdk/_limits.ts";
import { copyJson } from "../core/json_copy.ts";

export function runSummary(run: RunRecord) {
  return {
    run_id: run.run_id,
    pipeline: run.pipeline,
    version: run.version,
    status: run.status,
    trigger: run.trigger,
    scheduled_at: run.scheduled_at,
    logical_run: run.logical_run,
    attempt: run.attempt,
    created_at: run.created_at,
    started_at: run.started_at,
    finished_at: run.finished_at,
    duration_ms: run.duration_ms,
    error: run.error ? { kind: run.error.kind, message: run.error.message } : null,
  };
}

export function logView(log: LogRecord) {
  return {
    seq: log.seq,
    ts: log.ts,
    attempt: log.attempt,
    level: log.level,
    step: log.step,
    message: log.message,
  };
}

export function stepView(step: StepRecord) {
  return {
    name: step.name,
    status: step.status,
    started_at: step.started_at,
    finished_at: step.finished_at,
    duration_ms: step.duration_ms,
    rows_in: step.rows_in,
    rows_out: step.rows_out,
    metadata: clampDepth(step.metadata),
    error: step.error,
  };
}

export function runDetail(
  run: RunRecord,
  steps: StepRecord[],
  logs: LogRecord[],
  logsTruncated: boolean,
) {
  const { pid: _pid, ...rest } = run;
  return {
    ...rest,
    params: clampDepth(run.params),
    result: clampDepth(run.result),
    steps: steps.map(stepView),
    logs: logs.map(logView),
    logs_truncated: logsTruncated,
  };
}

/**
 * A stored value as shown: anything nested deeper than {@link MAX_JSON_DEPTH} levels (only
 * records stored before runs were bounded can be) is replaced by a note, so printing a record
 * never overflows the stack.
 */
export function clampDepth<T extends Json>(value: T): T {
  return copyJson(value, {
    maxDepth: MAX_JSON_DEPTH,
    tooDeep: `[nested deeper than ${MAX_JSON_DEPTH} levels]`,
  }) as T;
}
