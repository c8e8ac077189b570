/**
 * The records the store contract (`types.ts`) reads and writes, and what callers pass to create
 * or change them. Records are snake_case because they are the wire shape the CLI and API print.
 */

import type { RunErrorKind } from "../core/run_error_kinds.ts";

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
  kind: RunErrorKind;
  message: string;
  step?: string | null;
  location?: { file: string; line: number; column: number } | null;
  stack?: string | null;
  hint?: string | null;
  permission?: string | null;
  target?: string | null;
  /** What the driver said beyond its message (SQLSTATE, position, cause…); see error_details.ts. */
  details?: Record<string, unknown> | null;
  /**
   * Set on a reference: the whole error is stored once, in the run record's field named here
   * (`error`, or `attempts[N].error`), and this copy keeps only `kind` and `message`.
   */
  ref?: string;
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

/** A pipeline with the hash of its current version (null if that version's row is gone). */
export interface CurrentVersion {
  pipeline: PipelineRecord;
  hash: string | null;
}

/** What made a version: a deploy, a promoted heal, a rollback, or `tau create --deploy`. */
export type VersionSource = "deploy" | "heal" | "rollback" | "create";

export interface PipelineVersion {
  pipeline: string;
  version: number;
  hash: string;
  filename: string;
  code: string;
  metadata: Record<string, Json>;
  created_at: string;
  source: VersionSource;
  /** The version it was derived from (the current one at deploy, a rollback's target). */
  parent: number | null;
  /** The heal that proposed it. */
  heal_id: string | null;
  /** When it last became current; null for a candidate that never was (rollback skips it). */
  promoted_at: string | null;
}

export interface DeployInput {
  name: string;
  code: string;
  hash: string;
  filename: string;
  source_path: string | null;
  schedule: string | null;
  metadata: Record<string, Json>;
  /** @default {"deploy"} */
  source?: VersionSource;
  /** @default {the current version (null for a new pipeline)} */
  parent?: number | null;
  heal_id?: string | null;
}

/** A candidate version: stored, numbered after the newest, but not current. */
export interface NewVersion {
  name: string;
  code: string;
  hash: string;
  filename: string;
  metadata: Record<string, Json>;
  source: VersionSource;
  parent: number | null;
  heal_id?: string | null;
}

export type HealStatus =
  | "running"
  | "promoted"
  | "failed"
  | "dry_run"
  | "refused"
  | "interrupted";

/** One heal (`tau heal --auto`, or automatic on failure); `record` is the heal's own JSON. */
export interface HealRecord {
  id: string;
  pipeline: string;
  /** The failing run it started from. */
  run_id: string | null;
  status: HealStatus;
  created_at: string;
  finished_at: string | null;
  /** Until when the daemon running it holds it (it renews); past it, a running heal is lost. */
  expires_at: string | null;
  /** Attempts, usage, permission changes, diagnosis…: opaque to the store. */
  record: Record<string, Json>;
}

export interface NewHeal {
  id: string;
  pipeline: string;
  run_id: string | null;
  /** @default {"running"} */
  status?: HealStatus;
  expires_at?: string | null;
  record?: Record<string, Json>;
}

export type HealPatch = Partial<
  Pick<HealRecord, "status" | "finished_at" | "expires_at" | "record">
>;

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
  /** The schedule instant this run is for (scheduled runs and what they triggered). */
  scheduled_at: string | null;
  /** Runs of one DAG execution share it: `sched:<instant>` or `run:<root run id>`. */
  logical_run: string | null;
  /** Whether success triggers the pipelines downstream. */
  downstream: boolean;
  /** Waits until no other run of its pipeline is running (overlap "queue"). */
  exclusive: boolean;
  /** Only workers with this tag run it (the pipeline's `pool`); null: any worker. */
  pool: string | null;
  /** The worker that claimed it, while it runs (and after, for the record). */
  worker_id: string | null;
  /** Until when the worker's claim holds; renewed by its heartbeat. */
  lease_expires_at: string | null;
  /** Which sandbox layers and limits the (latest) attempt ran with; null before it starts. */
  sandbox: Json;
  /** What the (latest) attempt accessed per declared permission (Deno's audit log). */
  access: Json;
  /** The failure's diagnosis (`tau heal`), stored when the run ends failed. */
  diagnosis: Record<string, Json> | null;
}

/** Which runs of a pipeline `listRuns` returns, newest first (a page of them). */
export interface RunListOptions {
  /** @default {20} */
  limit?: number;
  /** Only runs in one of these statuses. */
  statuses?: RunStatus[];
  /** Only runs listed after this one (the next page): older, or as old with a smaller id. */
  before?: { created_at: string; run_id: string };
}

/** A failed or timed-out run, as `listErrors` returns it. */
export interface ErrorRun extends RunRecord {
  /** A later run of the same pipeline succeeded. */
  resolved: boolean;
}

export interface NewRun {
  run_id: string;
  pipeline: string;
  version: number;
  trigger: string;
  params: Record<string, Json>;
  max_attempts: number;
  permissions: Json;
  scheduled_at?: string | null;
  logical_run?: string | null;
  downstream?: boolean;
  exclusive?: boolean;
  pool?: string | null;
  /** `skipped` records a run that will not execute, with `error` saying why. @default {queued} */
  status?: "queued" | "skipped";
  error?: RunError | null;
}

/** A pipeline's schedule: a cron expression or an interval, with its bookkeeping. */
export interface ScheduleRecord {
  pipeline: string;
  cron: string | null;
  every_s: number | null;
  /** IANA zone for cron; null means `[scheduler] timezone`. */
  timezone: string | null;
  enabled: boolean;
  /** When the current spec took effect: intervals count from here, no tick before it fires. */
  anchor: string;
  /** The newest scheduled instant handled (fired, skipped or missed). */
  last_tick: string;
  /** Ticks passed over without a row of their own (beyond the catch-up bound). */
  missed: number;
  updated_at: string;
}

export interface ScheduleInput {
  cron: string | null;
  every_s: number | null;
  timezone: string | null;
}

/** What became of one scheduled instant. */
export interface TickRecord {
  pipeline: string;
  scheduled_at: string;
  /** `run`: a run was created; `skipped`: overlap policy; `missed`: catch-up policy. */
  outcome: "run" | "skipped" | "missed";
  run_id: string | null;
  detail: string | null;
  recorded_at: string;
}

export interface TickInput {
  pipeline: string;
  scheduled_at: string;
  outcome: TickRecord["outcome"];
  detail?: string | null;
  /** Created in the same transaction as the tick. */
  run?: NewRun;
}

/** What recording a tick did: false when its instant was already recorded (no run made). */
export interface TickResult {
  recorded: boolean;
  /** The run it created, if any (read it with getRun: the pass itself needs only the count). */
  run_id: string | null;
}

export interface DependencyEdge {
  pipeline: string;
  upstream: string;
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
    | "sandbox"
    | "access"
    | "worker_id"
    | "lease_expires_at"
    | "max_attempts"
  >
>;

/** Applies an update only while the run is still held by this worker (null otherwise). */
export interface RunGuard {
  worker_id: string;
}

export interface StepRecord {
  run_id: string;
  attempt: number;
  /** Order of the step's start within the attempt, from 0. */
  seq: number;
  name: string;
  /** A step still open when its run ended takes the run's status (`timed_out`, `cancelled`…). */
  status: "running" | "success" | "failed" | "timed_out" | "cancelled";
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

/** Who may do what through the API: `read` < `operate` < `admin`. */
export type ApiKeyScope = "read" | "operate" | "admin";

/** An API key as listed: never the key, never its digest. */
export interface ApiKeyRecord {
  id: string;
  name: string | null;
  scope: ApiKeyScope;
  created_at: string;
  last_used_at: string | null;
  revoked_at: string | null;
}

/** A key with the SHA-256 hex digest of the whole key, for verification only. */
export interface StoredApiKey extends ApiKeyRecord {
  hash: string;
}

export interface NewApiKey {
  id: string;
  name: string | null;
  scope: ApiKeyScope;
  /** SHA-256 hex digest of the whole key; the key itself is never stored. */
  hash: string;
  created_at: string;
}

export interface StoreStats {
  pipelines: number;
  runs: Record<RunStatus, number>;
}
