/**
 * The deterministic diagnosis of a failed run: a pure function of stored records (the run, its
 * steps and last log lines, the code it ran, the last successful run). No model is involved;
 * every statement is backed by evidence quoted from those records.
 */
import type { PipelineVersion, RunError, RunRecord, StepRecord } from "../store/mod.ts";
import { classifyError } from "./classify.ts";
import { changedSinceSuccess } from "./changes.ts";
import { codeEvidence, errorEvidence, logEvidence, runEvidence, stepEvidence } from "./evidence.ts";
import { codeLine, excerpt } from "./excerpt.ts";
import { LIMIT_OF, suggest } from "./suggestions.ts";
import type { Diagnosis, DiagnosisClass, DiagnosisInput, Evidence } from "./types.ts";

/** Fields of the error quoted for each class, beyond those that decided it. */
const FIELDS: Partial<Record<DiagnosisClass, string[]>> = {
  permission_denied: ["permission", "target"],
  connection: ["details.target", "details.reason"],
  auth: ["details.sql_message"],
  schema_drift: ["details.table", "details.column", "details.candidates", "details.statement"],
  data_quality: ["details.table", "details.constraint", "details.detail"],
  syntax_or_type: ["details.position.excerpt", "details.statement"],
};

/** The diagnosis of a run that did not succeed; throws for a run without an error. */
export function diagnose(input: DiagnosisInput): Diagnosis {
  const { run, version } = input;
  const error = run.error;
  if (!error) throw new Error(`Run ${run.run_id} has no error to diagnose`);
  const { class: cls, because } = classifyError(error);
  const step = error.step ?? null;
  const location = error.location ?? locateStatement(error, version);
  const code = version && location && location.file === version.filename ? version.code : null;

  const evidence: Evidence[] = errorEvidence(error, [
    ...because,
    ...(FIELDS[cls] ?? []),
    "message",
    "step",
  ]);
  if (code && location) {
    const line = codeLine(code, location.line);
    if (line !== null) evidence.push(codeEvidence(run.version, location.file, location.line, line));
  }
  evidence.push(...limitEvidence(run, error, cls));
  const failedStep = failingStep(input.steps, step);
  if (failedStep) evidence.push(...stepEvidence(failedStep));
  evidence.push(...logEvidence(input.logs, step));
  evidence.push(...runEvidence(run, "status", run.run_id));

  const upstream = input.upstreamFailures?.[0];
  if (cls === "upstream_failed" && upstream) {
    evidence.push(...runEvidence(upstream, "status", upstream.run_id));
    evidence.push(...runEvidence(upstream, "error.message", upstream.run_id));
  }

  const success = input.lastSuccess;
  const rollbackTo = success && success.run.version < run.version ? success.run.version : null;
  if (success && success.run.version !== run.version) {
    evidence.push(...runEvidence(success.run, "version", success.run.run_id));
    evidence.push(...runEvidence(run, "version", run.run_id));
  }

  return {
    class: cls,
    summary: summarize(cls, error, run),
    step,
    location,
    excerpt: code && location ? excerpt(code, location.line) : null,
    evidence,
    changed_since_success: success
      ? changedSinceSuccess({ run, steps: input.steps, version }, success)
      : null,
    suggestions: suggest({ error, class: cls, run, location, rollbackTo }),
    ...(cls === "schema_drift" && input.driftReaders
      ? {
        drifted_tables: input.driftReaders.tables,
        affected_pipelines: input.driftReaders.pipelines,
      }
      : {}),
  };
}

/**
 * A driver's error has no frame in the pipeline file (its stack is the driver's): the failing
 * statement's first line, found verbatim in the code, is where to look.
 */
function locateStatement(error: RunError, version: PipelineVersion | null): Diagnosis["location"] {
  const statement = error.details?.statement;
  if (typeof statement !== "string" || !version) return null;
  const first = statement.split("\n").map((line) => line.trim()).find((line) => line !== "");
  if (!first) return null;
  const lines = version.code.split("\n");
  const index = lines.findIndex((line) => line.includes(first));
  if (index < 0) return null;
  return { file: version.filename, line: index + 1, column: lines[index]!.indexOf(first) + 1 };
}

/** The step the error names, else the last one that did not succeed. */
function failingStep(steps: StepRecord[], name: string | null): StepRecord | undefined {
  const unsuccessful = steps.filter((s) => s.status !== "success");
  return unsuccessful.findLast((s) => s.name === name) ?? unsuccessful.at(-1);
}

/** The limit the run passed, as its permission record holds it. */
function limitEvidence(run: RunRecord, error: RunError, cls: DiagnosisClass): Evidence[] {
  if (cls === "timeout") return runEvidence(run, "permissions.limits.timeout_ms", run.run_id);
  if (cls !== "resource_limit") return [];
  const field = error.kind === "memory_limit" && /heap/i.test(error.message)
    ? "heap_mb"
    : LIMIT_OF[error.kind]?.field;
  return field ? runEvidence(run, `permissions.limits.${field}`, run.run_id) : [];
}

function firstLine(text: string): string {
  const line = text.split("\n", 1)[0] ?? "";
  return line.length > 200 ? `${line.slice(0, 200)}…` : line;
}

/** One sentence: what happened, where. */
function summarize(cls: DiagnosisClass, error: RunError, run: RunRecord): string {
  const d = (error.details ?? {}) as Record<string, unknown>;
  const where = [
    error.step ? ` in step ${error.step}` : "",
    error.location ? ` at ${error.location.file}:${error.location.line}` : "",
  ].join("");
  const what = firstLine(error.message);
  switch (cls) {
    case "permission_denied":
      return `The sandbox refused ${error.permission ?? "an"} access${
        error.target ? ` to ${error.target}` : ""
      }${where}: ${what}`;
    case "secret_missing":
      return `${what}${where}`;
    case "connection":
      return `Could not connect${d.target ? ` to ${d.target}` : ""}${
        d.code ? ` (${d.code})` : ""
      }${where}: ${what}`;
    case "auth":
      return `Access was refused (authentication or authorization)${where}: ${what}`;
    case "rate_limited":
      return `The source refused requests as too many (rate limited)${where}: ${what}`;
    case "timeout": {
      const ms = (run.permissions as { limits?: { timeout_ms?: number } } | null)?.limits
        ?.timeout_ms;
      return `The run outlived its timeout${ms ? ` of ${ms} ms` : ""}${where}`;
    }
    case "resource_limit":
      return `The run passed a resource limit (${error.kind})${where}: ${what}`;
    case "schema_drift": {
      const named = d.column ? `column ${d.column}` : d.table ? `table ${d.table}` : "schema";
      return `The ${named} the code expects does not match the ${
        d.source ?? "target"
      } schema${where}: ${what}`;
    }
    case "data_quality":
      return `The data broke a key or constraint rule${where}: ${what}`;
    case "syntax_or_type":
      return `The code failed on a syntax or type mistake${where}: ${what}`;
    case "code_bug":
      return `The pipeline code threw${where}: ${what}`;
    case "upstream_failed":
      return what;
    case "infrastructure":
      return `The run was lost to Tau's infrastructure (${error.kind}), not its code: ${what}`;
  }
}
