/** The JSON shapes the API returns (documented in docs/cli.md, the CLI reference). */
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
    worker_id: run.worker_id,
    error: run.error ? { kind: run.error.kind, message: run.error.message } : null,
  };
}

/**
 * A run in a few lines (`--brief`): its status, the error's kind, message and location, each
 * step as one line, and the result.
 */
export function runBrief(run: RunRecord, steps: StepRecord[]) {
  const error = run.error;
  return {
    run_id: run.run_id,
    pipeline: run.pipeline,
    version: run.version,
    status: run.status,
    attempt: run.attempt,
    duration_ms: run.duration_ms,
    error: error
      ? {
        kind: error.kind,
        message: error.message,
        location: error.location ?? null,
        hint: error.hint ?? null,
      }
      : null,
    steps: steps.map(stepLine),
    result: clampDepth(run.result),
  };
}

/** Longest part of a step's error message in its line. */
const STEP_LINE_MESSAGE_CHARS = 160;

/** `name: status in N ms, R rows in, R rows out: kind: first line of the message`. */
export function stepLine(step: StepRecord): string {
  const parts = [
    step.duration_ms === null ? step.status : `${step.status} in ${step.duration_ms} ms`,
  ];
  if (step.rows_in !== null) parts.push(`${step.rows_in} rows in`);
  if (step.rows_out !== null) parts.push(`${step.rows_out} rows out`);
  let line = `${step.name}: ${parts.join(", ")}`;
  if (step.error) {
    const first = step.error.message.split("\n", 1)[0] ?? "";
    const clipped = first.length > STEP_LINE_MESSAGE_CHARS
      ? `${first.slice(0, STEP_LINE_MESSAGE_CHARS)}…`
      : first;
    line += `: ${step.error.kind}: ${clipped}`;
  }
  return line;
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
