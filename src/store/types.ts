/**
 * The metadata store contract. Records are snake_case because they are the wire shape the
 * CLI and API print. A SQLite implementation ships now; a PostgreSQL one fills the same
 * interface later, so nothing outside `src/store/` may depend on the engine.
 */

export type RunStatus =
  | "queued"
  | "running"
  | "success"
  | "failed"
  | "timed_out"
  | "cancelled"
  | "skipped";

export const TERMINAL_STATUSES: readonly RunStatus[] = [
  "success",
  "failed",
  "timed_out",
  "cancelled",
  "skipped",
];

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** A structured run or step failure (DESIGN.md "Data the agent reads"). */
export interface RunError {
  kind: string;
  message: string;
  step?: string | null;
  location?: { file: string; line: number; column: number } | null;
  stack?: string | null;
  hint?: string | null;
  permission?: string | null;
  target?: string | null;
}

export interface PipelineRecord {
  name: string;
  current_version: number;
  /** Where the CLI read the file from (used to refuse two different files with one name). */
  source_path: string | null;
  schedule: string | null;
  /** Validated metadata, snake_case keys. */
  metadata: Record<string, Json>;
  created_at: string;
  updated_at: string;
}

export interface PipelineVersion {
  pipeline: string;
  version: number;
  hash: string;
  filename: string;
  code: string;
  metadata: Record<string, Json>;
  created_at: string;
}

export interface DeployInput {
  name: string;
  code: string;
  hash: string;
  filename: string;
  source_path: string | null;
  schedule: string | null;
  metadata: Record<string, Json>;
}

export interface DeployOutcome {
  pipeline: PipelineRecord;
  version: PipelineVersion;
  /** True when the code hash equals the current version's: no new version was made. */
  unchanged: boolean;
}

export interface AttemptRecord {
  attempt: number;
  status: RunStatus;
  started_at: string | null;
  finished_at: string | null;
  duration_ms: number | null;
  error: RunError | null;
}

export interface RunRecord {
  run_id: string;
  pipeline: string;
  version: number;
  status: RunStatus;
  trigger: string;
  params: Record<string, Json>;
  attempt: number;
  max_attempts: number;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
  duration_ms: number | null;
  result: Json;
  error: RunError | null;
  /** The permission set the run was (or will be) given, as shown by `tau show`. */
  permissions: Json;
  attempts: AttemptRecord[];
  /** OS pid of the running child, for crash recovery; null when not running. */
  pid: number | null;
}

export interface NewRun {
  run_id: string;
  pipeline: string;
  version: number;
  trigger: string;
  params: Record<string, Json>;
  max_attempts: number;
  permissions: Json;
}

export type RunPatch = Partial<
  Pick<
    RunRecord,
    | "status"
    | "attempt"
    | "started_at"
    | "finished_at"
    | "duration_ms"
    | "result"
    | "error"
    | "permissions"
    | "attempts"
    | "pid"
  >
>;

export interface StepRecord {
  run_id: string;
  attempt: number;
  /** Order of the step's start within the attempt, from 0. */
  seq: number;
  name: string;
  status: "running" | "success" | "failed";
  started_at: string;
  finished_at: string | null;
  duration_ms: number | null;
  rows_in: number | null;
  rows_out: number | null;
  metadata: Record<string, Json>;
  error: RunError | null;
}

export interface LogRecord {
  run_id: string;
  attempt: number;
  /** Order within the run, assigned by the writer, from 0. */
  seq: number;
  ts: string;
  level: "debug" | "info" | "warn" | "error" | "stdout" | "stderr" | "system";
  step: string | null;
  message: string;
}

export interface StoreStats {
  pipelines: number;
  runs: Record<RunStatus, number>;
}

export interface Store {
  /** Applies pending migrations; safe to call on every start. */
  migrate(): Promise<void>;
  close(): Promise<void>;

  /** Stores a new version (or records `unchanged` when the hash matches the current one). */
  deploy(input: DeployInput): Promise<DeployOutcome>;
  getPipeline(name: string): Promise<PipelineRecord | null>;
  listPipelines(): Promise<PipelineRecord[]>;
  getVersion(name: string, version: number): Promise<PipelineVersion | null>;
  /** Deletes a pipeline with its versions, runs, steps and logs; false when absent. */
  deletePipeline(name: string): Promise<boolean>;

  createRun(run: NewRun): Promise<RunRecord>;
  /** Updates a run; returns the updated record or null when it does not exist. */
  updateRun(runId: string, patch: RunPatch): Promise<RunRecord | null>;
  getRun(runId: string): Promise<RunRecord | null>;
  /** Newest first. */
  listRuns(pipeline: string, options?: { limit?: number }): Promise<RunRecord[]>;
  /** Runs in any of the given statuses, oldest first (recovery, queue). */
  listRunsByStatus(statuses: RunStatus[]): Promise<RunRecord[]>;
  lastSuccessfulRun(pipeline: string): Promise<RunRecord | null>;
  /** Failed/timed-out runs across pipelines, newest first. */
  listErrors(options?: { limit?: number }): Promise<RunRecord[]>;

  /** Inserts or replaces the step identified by (run_id, attempt, seq). */
  saveStep(step: StepRecord): Promise<void>;
  listSteps(runId: string, attempt?: number): Promise<StepRecord[]>;

  appendLogs(logs: LogRecord[]): Promise<void>;
  /** In seq order; `afterSeq` for paging/following, `tail` for the last N lines. */
  listLogs(
    runId: string,
    options?: { afterSeq?: number; limit?: number; tail?: number },
  ): Promise<LogRecord[]>;

  stats(): Promise<StoreStats>;
}
