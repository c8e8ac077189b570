/**
 * Evidence: facts quoted verbatim from the stored records, each naming the record and the
 * field it comes from. Only what is present is quoted; nothing here paraphrases.
 */
import type { LogRecord, RunError, StepRecord } from "../store/mod.ts";
import type { Evidence } from "./types.ts";

/** A stored value as quoted text: strings as they are, anything else as its JSON. */
function quote(value: unknown): string | null {
  if (value === undefined || value === null) return null;
  return typeof value === "string" ? value : JSON.stringify(value);
}

/** The value at a dotted path (`details.code`), or undefined. */
function at(record: unknown, path: string): unknown {
  let value = record;
  for (const key of path.split(".")) {
    if (value === null || typeof value !== "object") return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}

/** Quotes fields of the run's error (`error.kind`, `error.details.code`…); absent ones are left out. */
export function errorEvidence(error: RunError, paths: string[]): Evidence[] {
  const out: Evidence[] = [];
  for (const path of new Set(paths)) {
    const text = quote(at(error, path));
    if (text !== null) out.push({ source: "error", ref: `error.${path}`, text });
  }
  return out;
}

/** Quotes a field of the run record (`status`, `permissions.limits.timeout_ms`…). */
export function runEvidence(run: unknown, path: string, runId: string): Evidence[] {
  const text = quote(at(run, path));
  return text === null ? [] : [{ source: "run", ref: `run:${runId}.${path}`, text }];
}

/** Quotes a step's status, and its error message when it has its own. */
export function stepEvidence(step: StepRecord): Evidence[] {
  const ref = `step:${step.name}#${step.seq} (attempt ${step.attempt})`;
  const out: Evidence[] = [{ source: "step", ref: `${ref}.status`, text: step.status }];
  if (step.error && !step.error.ref) {
    out.push({ source: "step", ref: `${ref}.error.message`, text: step.error.message });
  }
  return out;
}

/** Levels that say something went wrong. */
const TROUBLE = new Set<LogRecord["level"]>(["error", "warn", "stderr"]);
/** Log lines quoted at most. */
const MAX_LOG_LINES = 5;

/**
 * The last log lines that report trouble (error, warn, stderr), or those of the failing step:
 * at most five, in order.
 */
export function logEvidence(logs: LogRecord[], step: string | null): Evidence[] {
  const relevant = logs.filter((log) =>
    TROUBLE.has(log.level) || (step !== null && log.step === step)
  );
  return relevant.slice(-MAX_LOG_LINES).map((log) => ({
    source: "log" as const,
    ref: `log#${log.seq} (attempt ${log.attempt}, ${log.level}${
      log.step ? `, step ${log.step}` : ""
    })`,
    text: log.message,
  }));
}

/** Quotes one line of the version's code. */
export function codeEvidence(version: number, file: string, line: number, text: string): Evidence {
  return { source: "version", ref: `v${version}:${file}:${line}`, text };
}
