/**
 * The metadata store contract. Records are snake_case because they are the wire shape the
 * CLI and API print. SQLite and PostgreSQL implement the same interface (and pass the same
 * tests, `tests/store/store_contract.ts`), so nothing outside `src/store/` may depend on the
 * engine.
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

import type { RunErrorKind } from "../core/run_error_kinds.ts";

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

export interface Store {
  /** Which engine is behind the store (`tau status` reports it). */
  readonly kind: "sqlite" | "postgres";
  /** Applies pending migrations; safe to call on every start. */
  migrate(): Promise<void>;
  close(): Promise<void>;

  /** Stores a new version (or records `unchanged` when the hash matches the current one). */
  deploy(input: DeployInput): Promise<DeployOutcome>;
  getPipeline(name: string): Promise<PipelineRecord | null>;
  listPipelines(): Promise<PipelineRecord[]>;
  getVersion(name: string, version: number): Promise<PipelineVersion | null>;
  /** Every version of the pipeline, candidates included, oldest first. */
  listVersions(name: string): Promise<PipelineVersion[]>;
  /**
   * Stores a candidate version, numbered after the newest one, without making it current
   * (`promoted_at` stays null). `not_found` when the pipeline does not exist.
   */
  createVersion(input: NewVersion): Promise<PipelineVersion>;
  /**
   * Makes a stored version current: the pipeline takes its metadata and schedule, and the
   * version's `promoted_at` is set to now. Null when the pipeline or version does not exist.
   */
  promoteVersion(name: string, version: number): Promise<PipelineRecord | null>;
  /** Deletes a pipeline with its versions, runs, steps and logs; false when absent. */
  deletePipeline(name: string): Promise<boolean>;

  createRun(run: NewRun): Promise<RunRecord>;
  /** Updates a run; returns the updated record or null when it does not exist. */
  updateRun(runId: string, patch: RunPatch, guard?: RunGuard): Promise<RunRecord | null>;
  getRun(runId: string): Promise<RunRecord | null>;
  /** Newest first. */
  listRuns(pipeline: string, options?: { limit?: number }): Promise<RunRecord[]>;
  /** Runs in any of the given statuses, oldest first (recovery, queue). */
  listRunsByStatus(statuses: RunStatus[]): Promise<RunRecord[]>;
  lastSuccessfulRun(pipeline: string): Promise<RunRecord | null>;
  /** Stores (or with null clears) a run's diagnosis; false when the run does not exist. */
  setDiagnosis(runId: string, diagnosis: Record<string, Json> | null): Promise<boolean>;
  /**
   * Failed/timed-out runs across pipelines, newest first, each marked `resolved` when a later
   * run of its pipeline (in created order) succeeded; `unresolved` lists only the others.
   */
  listErrors(options?: { limit?: number; unresolved?: boolean }): Promise<ErrorRun[]>;

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

  /**
   * A running heal of a pipeline that has one running already is refused (`conflict`), unless
   * that one's lease ran out before `now`: it is closed as interrupted first.
   */
  createHeal(heal: NewHeal, now: Date): Promise<HealRecord>;
  /**
   * Closes running heals as `interrupted`: every one (`all`, a SQLite store's only daemon is
   * starting), else those whose lease ran out before `now`. Returns how many.
   */
  interruptHeals(now: Date, options: { all: boolean }): Promise<number>;
  /** Null when no heal has this id. */
  updateHeal(id: string, patch: HealPatch): Promise<HealRecord | null>;
  getHeal(id: string): Promise<HealRecord | null>;
  /** Newest first; `since` keeps heals created at or after it. */
  listHeals(pipeline: string, options?: { limit?: number; since?: Date }): Promise<HealRecord[]>;

  getSchedule(pipeline: string): Promise<ScheduleRecord | null>;
  listSchedules(): Promise<ScheduleRecord[]>;
  /**
   * Creates, changes or (with null) removes a schedule. A changed spec starts counting at
   * `now`, so no backlog from before the change ever fires; an unchanged one is left alone.
   */
  setSchedule(
    pipeline: string,
    input: ScheduleInput | null,
    now: Date,
  ): Promise<ScheduleRecord | null>;
  /** Enabling starts counting at `now` again: a disabled period is not caught up. */
  setScheduleEnabled(pipeline: string, enabled: boolean, now: Date): Promise<ScheduleRecord | null>;
  /**
   * Records a tick and its run in one transaction, once: false when this instant was already
   * recorded (the run is then not created). Advances the schedule's `last_tick`.
   */
  recordTick(tick: TickInput): Promise<{ recorded: boolean; run: RunRecord | null }>;
  /** Advances `last_tick` past `count` ticks that get no row of their own. */
  skipTicks(pipeline: string, lastTick: string, count: number): Promise<void>;
  /** Newest first. */
  listTicks(pipeline: string, options?: { limit?: number }): Promise<TickRecord[]>;

  /** Replaces the upstreams of a pipeline. */
  setDependencies(pipeline: string, upstreams: string[]): Promise<void>;
  listDependencies(): Promise<DependencyEdge[]>;
  /** Runs of one logical run (a DAG execution), oldest first. */
  listLogicalRun(logicalRun: string): Promise<RunRecord[]>;
  /** Creates a run unless one of this pipeline already belongs to the logical run. */
  createDependencyRun(run: NewRun): Promise<RunRecord | null>;
  /**
   * Deletes finished runs beyond the newest `keepRuns` of each pipeline or older than
   * `keepDays`, and ticks older than `keepDays`; returns the number of runs deleted.
   */
  prune(options: { keepRuns: number; keepDays: number; now: Date }): Promise<number>;

  /** Stores a new API key (its digest only); returns it as listed. */
  createApiKey(key: NewApiKey): Promise<ApiKeyRecord>;
  /** The key with its digest, revoked or not; null when no key has this id. */
  getApiKey(id: string): Promise<StoredApiKey | null>;
  /** Every key, revoked ones too, oldest first; never a digest. */
  listApiKeys(): Promise<ApiKeyRecord[]>;
  /** Records a use of the key at `now`. */
  touchApiKey(id: string, now: Date): Promise<void>;
  /** Revokes a key (keeping the first revocation time); null when no key has this id. */
  revokeApiKey(id: string, now: Date): Promise<ApiKeyRecord | null>;

  /** Creates or refreshes a worker's row (also what `POST /workers/register` records). */
  registerWorker(worker: WorkerInput, now: Date): Promise<WorkerRecord>;
  /**
   * A worker's heartbeat: records its status and load and extends the leases of the runs it is
   * executing; returns those it still holds (a run missing there was taken from it). A run
   * claimed by a worker that does not name it here is left to lapse.
   */
  heartbeat(workerId: string, beat: HeartbeatInput, now: Date, leaseMs: number): Promise<string[]>;
  listWorkers(): Promise<WorkerRecord[]>;
  /**
   * Claims queued runs for a worker in one transaction: candidates are locked with
   * `FOR UPDATE SKIP LOCKED` (PostgreSQL), `choose` applies the admission rule, and the chosen
   * ones become `running` under the worker's lease.
   */
  claimRuns(request: ClaimRequest): Promise<RunRecord[]>;
  /**
   * Runs whose lease lapsed (their worker died): requeued while attempts remain, else failed
   * with kind `worker_lost`. Returns both lists.
   */
  recoverLostRuns(now: Date): Promise<{ requeued: RunRecord[]; failed: RunRecord[] }>;
  /** Gives runs back to the queue (a draining worker); their interrupted attempt is not counted. */
  releaseRuns(workerId: string, runIds: string[], now: Date): Promise<void>;
  /** Takes or renews a named lease (e.g. `scheduler`); false while another holder has it. */
  tryLease(name: string, holder: string, now: Date, ttlMs: number): Promise<boolean>;
  releaseLease(name: string, holder: string): Promise<void>;
  /** Calls `listener` when runs may have been queued (by any process); returns an unsubscribe. */
  watchQueue(listener: () => void): Promise<() => Promise<void>>;
}

export type WorkerStatus = "active" | "draining" | "stopped";

export interface WorkerInput {
  id: string;
  host: string;
  pid: number | null;
  /** `api`, `worker`, `scheduler`. */
  roles: string[];
  tags: string[];
  /** Runs it executes at once. */
  capacity: number;
  status?: WorkerStatus;
}

export interface WorkerRecord extends Required<WorkerInput> {
  load: number;
  started_at: string;
  heartbeat_at: string;
}

export interface HeartbeatInput {
  status: WorkerStatus;
  /** The runs the worker is executing: only their leases are extended. */
  running: string[];
}

export interface ClaimRequest {
  worker_id: string;
  tags: string[];
  /** Free slots of the worker: at most this many runs are claimed. */
  slots: number;
  now: Date;
  lease_ms: number;
  /**
   * The admission rule: from the queued candidates (oldest first) and the number of running
   * runs per pipeline (across all workers), which to start now.
   */
  choose(
    queued: RunRecord[],
    running: Map<string, number>,
    concurrency: Map<string, number | null>,
  ): RunRecord[];
}
