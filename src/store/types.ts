/**
 * The metadata store contract. Records are snake_case because they are the wire shape the
 * CLI and API print. SQLite and PostgreSQL implement the same interface (and pass the same
 * tests, `tests/store/store_contract.ts`), so nothing outside `src/store/` may depend on the
 * engine.
 */

import type { ClaimRequest, HeartbeatInput, WorkerInput, WorkerRecord } from "./queue_types.ts";
import type {
  ApiKeyRecord,
  CurrentVersion,
  DependencyEdge,
  DeployInput,
  DeployOutcome,
  ErrorRun,
  HealPatch,
  HealRecord,
  Json,
  LogRecord,
  NewApiKey,
  NewHeal,
  NewRun,
  NewVersion,
  PipelineRecord,
  PipelineVersion,
  RunGuard,
  RunListOptions,
  RunPatch,
  RunRecord,
  RunStatus,
  ScheduleInput,
  ScheduleRecord,
  StepRecord,
  StoredApiKey,
  StoreStats,
  TickInput,
  TickRecord,
  TickResult,
} from "./records.ts";

import type {
  AttemptOutcome,
  DeliveryAttempt,
  DeliveryClaim,
  DeliveryListOptions,
  DeliveryRecord,
  NewDelivery,
  UnannouncedEvents,
  WebhookRecord,
} from "./webhook_types.ts";
import type {
  StoredTriggerSecret,
  TriggerDelivery,
  TriggerOutcome,
  TriggerSecretRecord,
} from "./trigger_types.ts";
import type { LineageEntry, LineageFilter, LineageRecord } from "./lineage_types.ts";

export * from "./queue_types.ts";
export * from "./records.ts";
export * from "./webhook_types.ts";
export * from "./trigger_types.ts";
export * from "./lineage_types.ts";
export * from "./backfill_types.ts";

export interface Store {
  /** Which engine is behind the store (`tau status` reports it). */
  readonly kind: "sqlite" | "postgres";
  /** Backfills and their instants (`tau backfill`); see backfill_types.ts. */
  readonly backfills: import("./backfill_types.ts").BackfillStore;
  /** Applies pending migrations; safe to call on every start. */
  migrate(): Promise<void>;
  close(): Promise<void>;

  /** Stores a new version (or records `unchanged` when the hash matches the current one). */
  deploy(input: DeployInput): Promise<DeployOutcome>;
  getPipeline(name: string): Promise<PipelineRecord | null>;
  listPipelines(): Promise<PipelineRecord[]>;
  getVersion(name: string, version: number): Promise<PipelineVersion | null>;
  /**
   * The named pipelines that exist, each with its current version's hash, in one query: what
   * preparing their runs needs (a scheduler pass asks for a thousand at a time).
   */
  getCurrentVersions(names: string[]): Promise<Map<string, CurrentVersion>>;
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
  /** Newest first; a page of them, by status (see {@link RunListOptions}). */
  listRuns(pipeline: string, options?: RunListOptions): Promise<RunRecord[]>;
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
   * Changes when a schedule is created, changed, enabled, disabled or removed (not when it
   * ticks): a scheduler re-reads the schedules only when it moved, or when one is due.
   */
  scheduleStamp(): Promise<string>;
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
  recordTick(tick: TickInput): Promise<TickResult>;
  /**
   * {@link recordTick} for many ticks in one transaction (the scheduler's pass): results in the
   * same order. One tick that cannot be recorded fails them all; the caller retries one by one.
   */
  recordTicks(ticks: TickInput[]): Promise<TickResult[]>;
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

  // --- webhooks (src/webhooks/, records in webhook_types.ts) ---
  /** Stores a webhook added at run time; `conflict` when the name is taken. */
  createWebhook(webhook: WebhookRecord): Promise<WebhookRecord>;
  /** Stored webhooks by name (tau.toml's are not stored). */
  listWebhooks(): Promise<WebhookRecord[]>;
  deleteWebhook(name: string): Promise<boolean>;
  /**
   * Runs that ended, heals that promoted or failed, and missed ticks, at or after `since`,
   * whose events are not announced yet (oldest first, at most `limit` of each).
   */
  listUnannounced(since: Date, limit: number): Promise<UnannouncedEvents>;
  /**
   * Status of the last run of `pipeline` created before (`createdAt`, `runId`) that ran to an end
   * (success, failed or timed_out).
   */
  previousRunStatus(pipeline: string, createdAt: string, runId: string): Promise<RunStatus | null>;
  /**
   * In one transaction: inserts the deliveries (one whose `event_key` exists is ignored) and
   * marks the subjects announced. Returns how many deliveries were new.
   */
  announceEvents(subjects: string[], deliveries: NewDelivery[], now: Date): Promise<number>;
  /** Leases due pending deliveries to `holder` (`FOR UPDATE SKIP LOCKED` on PostgreSQL). */
  claimDeliveries(claim: DeliveryClaim): Promise<DeliveryRecord[]>;
  /** Records an attempt and its outcome, only while `holder` holds the lease; else false. */
  recordDeliveryAttempt(
    attempt: DeliveryAttempt,
    holder: string,
    outcome: AttemptOutcome,
  ): Promise<boolean>;
  /** Newest first. */
  listDeliveries(options?: DeliveryListOptions): Promise<DeliveryRecord[]>;
  /** The attempts of these deliveries, by delivery and number. */
  listDeliveryAttempts(ids: string[]): Promise<DeliveryAttempt[]>;
  /**
   * Deletes announcement marks older than `announcedBefore` and delivered or dead deliveries
   * (with their attempts) created before `deliveriesBefore`; returns the deliveries deleted.
   */
  pruneWebhooks(announcedBefore: Date, deliveriesBefore: Date): Promise<number>;

  // --- external triggers (src/triggers/, records in trigger_types.ts) ---
  /** The pipeline's trigger secret with the secret itself (for verifying only); null: none. */
  getTriggerSecret(pipeline: string): Promise<StoredTriggerSecret | null>;
  /** Null when the pipeline has one already; `not_found` when there is no such pipeline. */
  createTriggerSecret(
    pipeline: string,
    secret: string,
    now: Date,
  ): Promise<TriggerSecretRecord | null>;
  /** Replaces the secret (the old one stops verifying at once); null when there is none. */
  rotateTriggerSecret(
    pipeline: string,
    secret: string,
    now: Date,
  ): Promise<TriggerSecretRecord | null>;
  deleteTriggerSecret(pipeline: string): Promise<boolean>;
  /**
   * Records a verified delivery and creates its run, in one transaction, unless a delivery of
   * the pipeline with the same event id or signature is recorded: then it is a duplicate and
   * creates nothing. Forgets the pipeline's deliveries received before `forget_before` first.
   */
  recordTriggerDelivery(delivery: TriggerDelivery): Promise<TriggerOutcome>;

  // --- lineage (src/lineage/, records in lineage_types.ts) ---
  /** Replaces the tables a run read and wrote (deleted with the run). */
  saveLineage(runId: string, pipeline: string, entries: LineageEntry[]): Promise<void>;
  /** The tables a run read and wrote. */
  listRunLineage(runId: string): Promise<LineageRecord[]>;
  /**
   * The tables each pipeline's latest successful run read and wrote, by bare table name and/or
   * pipeline, ordered by pipeline, connection, schema, table and direction.
   */
  currentLineage(filter: LineageFilter): Promise<LineageRecord[]>;
}
