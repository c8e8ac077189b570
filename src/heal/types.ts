/** The shape of a diagnosis (docs/ai.md, "The diagnosis"): what `tau heal` prints and runs keep. */
import type { LogRecord, PipelineVersion, RunRecord, StepRecord } from "../store/mod.ts";
import type { PermissionDiff } from "../deploy/version_diff.ts";

export const DIAGNOSIS_CLASSES = [
  "permission_denied",
  "secret_missing",
  "connection",
  "auth",
  "rate_limited",
  "timeout",
  "resource_limit",
  "schema_drift",
  "data_quality",
  "syntax_or_type",
  "code_bug",
  "upstream_failed",
  "infrastructure",
] as const;

export type DiagnosisClass = typeof DIAGNOSIS_CLASSES[number];

/** One quoted fact: `text` is copied verbatim from the stored record named by `source`/`ref`. */
export interface Evidence {
  source: "error" | "log" | "step" | "run" | "version";
  /** Where in that record, e.g. `error.details.code`, `log#12`, `step:extract.error.message`. */
  ref: string;
  text: string;
}

/** A machine-readable next action. */
export type Suggestion =
  | { action: "declare_net"; host: string }
  | { action: "declare_secret"; name: string }
  | { action: "declare_connection"; name: string }
  | { action: "define_connection"; name: string | null }
  | { action: "set_secret"; name: string }
  | { action: "raise_timeout"; current_ms: number | null; suggested_ms: number }
  | { action: "raise_limit"; limit: string; current: number | null; suggested: number | null }
  | { action: "fix_code"; file: string; line: number; column: number }
  | { action: "rollback"; to_version: number }
  | { action: "retry" }
  | { action: "fix_upstream"; pipeline: string; run_id: string | null };

export interface StepChange {
  step: string;
  duration_ms: { failed: number | null; success: number | null };
  rows_in: { failed: number | null; success: number | null };
  rows_out: { failed: number | null; success: number | null };
}

/** What differs between the failed run and the last successful one. */
export interface ChangedSinceSuccess {
  last_success_run_id: string;
  version: { failed: number; success: number; changed: boolean };
  /** Line counts of the code diff; null when the versions are the same. */
  code: { lines_added: number; lines_removed: number } | null;
  params: { failed: unknown; success: unknown; changed: boolean };
  /**
   * Grants added or removed between the two runs' permission sets (as `tau diff` shows them);
   * null when either run never got one.
   */
  permissions: PermissionDiff | null;
  duration_ms: { failed: number | null; success: number | null };
  steps: StepChange[];
}

export interface Diagnosis {
  class: DiagnosisClass;
  summary: string;
  step: string | null;
  location: { file: string; line: number; column: number } | null;
  /** Numbered code lines around `location` (`>` marks the line). */
  excerpt: string | null;
  evidence: Evidence[];
  changed_since_success: ChangedSinceSuccess | null;
  suggestions: Suggestion[];
  /**
   * Schema drift only: the drifted tables as lineage knows them (`connection.schema.table`), and
   * the other pipelines whose latest successful run read them (src/lineage/drift.ts).
   */
  drifted_tables?: string[];
  affected_pipelines?: string[];
}

export interface DiagnosisReport {
  pipeline: string;
  run_id: string;
  version: number;
  diagnosis: Diagnosis;
}

/** Everything a diagnosis is computed from: stored records only. */
export interface DiagnosisInput {
  run: RunRecord;
  /** Steps of the run's final attempt. */
  steps: StepRecord[];
  /** The run's last log lines, in order. */
  logs: LogRecord[];
  /** The version the run ran. */
  version: PipelineVersion | null;
  /** The last successful run of the pipeline before this one, with what it ran. */
  lastSuccess: { run: RunRecord; steps: StepRecord[]; version: PipelineVersion | null } | null;
  /** For a run skipped with `upstream_failed`: the runs of its logical run that did not succeed. */
  upstreamFailures?: RunRecord[];
  /** For schema drift: the drifted tables and the other pipelines that read them. */
  driftReaders?: { tables: string[]; pipelines: string[] } | null;
}
