/**
 * The PostgreSQL implementation of `Store`, on postgres.js with a connection pool, for several
 * daemons sharing one database (DESIGN.md "Production shape"). Records are identical to the
 * SQLite store's: timestamps are the ISO strings the application wrote, JSON columns are parsed
 * on read, flags are booleans.
 *
 * What several processes must not do twice is decided by the database: migrations take an
 * advisory lock, a tick is a primary key (`ON CONFLICT DO NOTHING`, its run inserted in the same
 * transaction only when the tick row was), a dependency run a partial unique index, and deploys
 * of one pipeline serialize on an advisory lock of their own.
 *
 * This class opens the pool, migrates the database and closes it; every query lives in the
 * module of its group (`pipelines.ts`, `runs.ts`, `steps_logs.ts`, `heals.ts`, `schedules.ts`,
 * `dependencies.ts`, `retention.ts`, `keys.ts`, `queue.ts`, `claim_runs.ts`), a function that
 * takes the pool (`Sql`, when it opens a transaction) or any connection (`Db`) first.
 */

import { TauError } from "../../core/errors.ts";
import { assertKnownSchema } from "../schema_version.ts";
import type {
  ClaimRequest,
  DeployInput,
  HealPatch,
  HeartbeatInput,
  Json,
  LogRecord,
  NewApiKey,
  NewHeal,
  NewRun,
  NewVersion,
  RunGuard,
  RunListOptions,
  RunPatch,
  RunRecord,
  RunStatus,
  ScheduleInput,
  StepRecord,
  Store,
  TickInput,
  WorkerInput,
} from "../types.ts";
import { claimRuns } from "./claim_runs.ts";
import { connect, MIGRATION_LOCK, query, type Sql, tx } from "./db.ts";
import * as dependencies from "./dependencies.ts";
import * as heals from "./heals.ts";
import * as keys from "./keys.ts";
import { MIGRATIONS, SCHEMA_MIGRATIONS_DDL } from "./migrations.ts";
import * as pipelines from "./pipelines.ts";
import * as queue from "./queue.ts";
import { prune } from "./retention.ts";
import * as runs from "./runs.ts";
import * as schedules from "./schedules.ts";
import * as steps from "./steps_logs.ts";
import { PostgresBackfills } from "./backfills.ts";
import { redactUrl } from "./url.ts";
import * as webhooks from "./webhooks.ts";
import * as triggers from "./triggers.ts";
import * as lineage from "./lineage.ts";
import type { LineageEntry, LineageFilter } from "../lineage_types.ts";
import type { TriggerDelivery } from "../trigger_types.ts";
import type {
  AttemptOutcome,
  DeliveryAttempt,
  DeliveryClaim,
  DeliveryListOptions,
  NewDelivery,
  WebhookRecord,
} from "../webhook_types.ts";

/** Pool size when the caller gives none. */
export const DEFAULT_POOL_SIZE = 10;

export interface PostgresStoreOptions {
  /** Pool size. @default {10} */
  max?: number;
}

export class PostgresStore implements Store {
  readonly kind = "postgres" as const;
  /** The connection URL without its password. */
  readonly url: string;
  #sql: Sql;
  #closed = false;

  /** Creates the pool (connections open on first use). Call `migrate()` next. */
  constructor(url: string, options: PostgresStoreOptions = {}) {
    const max = options.max ?? DEFAULT_POOL_SIZE;
    if (!Number.isInteger(max) || max < 1) {
      throw new TauError("invalid_config", "The database pool size must be a positive integer");
    }
    this.url = redactUrl(url);
    this.#sql = connect(url, max);
    this.backfills = new PostgresBackfills(this.#sql);
  }

  readonly backfills: PostgresBackfills;

  async migrate(): Promise<void> {
    await tx(this.#sql, async (tx) => {
      // Under the lock, in one transaction: concurrent starts serialize here, and whoever comes
      // second re-reads schema_migrations after the first committed and finds nothing to do.
      await tx.unsafe(MIGRATION_LOCK);
      await tx.unsafe(SCHEMA_MIGRATIONS_DDL);
      const rows = await query(tx, "SELECT version FROM schema_migrations");
      const applied = new Set(rows.map((r) => Number(r.version)));
      const latest = Math.max(0, ...MIGRATIONS.map((m) => m.version));
      assertKnownSchema(this.url, Math.max(0, ...applied), latest);
      for (const migration of MIGRATIONS) {
        if (applied.has(migration.version)) continue;
        await tx.unsafe(migration.sql); // several statements: the simple protocol
        await query(
          tx,
          "INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)",
          [migration.version, migration.name, new Date().toISOString()],
        );
      }
    });
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#sql.end({ timeout: 5 });
  }

  // --- pipelines and versions ---

  deploy(input: DeployInput) {
    return pipelines.deploy(this.#sql, input);
  }

  getPipeline(name: string) {
    return pipelines.getPipeline(this.#sql, name);
  }

  listPipelines() {
    return pipelines.listPipelines(this.#sql);
  }

  getVersion(name: string, version: number) {
    return pipelines.getVersion(this.#sql, name, version);
  }

  getCurrentVersions(names: string[]) {
    return pipelines.getCurrentVersions(this.#sql, names);
  }

  listVersions(name: string) {
    return pipelines.listVersions(this.#sql, name);
  }

  createVersion(input: NewVersion) {
    return pipelines.createVersion(this.#sql, input);
  }

  promoteVersion(name: string, version: number) {
    return pipelines.promoteVersion(this.#sql, name, version);
  }

  deletePipeline(name: string) {
    return pipelines.deletePipeline(this.#sql, name);
  }

  // --- runs, steps and logs ---

  async createRun(run: NewRun): Promise<RunRecord> {
    return (await runs.insertRun(this.#sql, run)) as RunRecord;
  }

  updateRun(runId: string, patch: RunPatch, guard?: RunGuard) {
    return runs.updateRun(this.#sql, runId, patch, guard);
  }

  getRun(runId: string) {
    return runs.getRun(this.#sql, runId);
  }

  listRuns(pipeline: string, options: RunListOptions = {}) {
    return runs.listRuns(this.#sql, pipeline, options);
  }

  listRunsByStatus(statuses: RunStatus[]) {
    return runs.listRunsByStatus(this.#sql, statuses);
  }

  lastSuccessfulRun(pipeline: string) {
    return runs.lastSuccessfulRun(this.#sql, pipeline);
  }

  setDiagnosis(runId: string, diagnosis: Record<string, Json> | null) {
    return runs.setDiagnosis(this.#sql, runId, diagnosis);
  }

  listErrors(options: { limit?: number; unresolved?: boolean } = {}) {
    return runs.listErrors(this.#sql, options);
  }

  stats() {
    return runs.stats(this.#sql);
  }

  saveStep(step: StepRecord) {
    return steps.saveStep(this.#sql, step);
  }

  listSteps(runId: string, attempt?: number) {
    return steps.listSteps(this.#sql, runId, attempt);
  }

  appendLogs(logs: LogRecord[]) {
    return steps.appendLogs(this.#sql, logs);
  }

  listLogs(runId: string, options: { afterSeq?: number; limit?: number; tail?: number } = {}) {
    return steps.listLogs(this.#sql, runId, options);
  }

  // --- heals ---

  createHeal(heal: NewHeal, now: Date) {
    return heals.createHeal(this.#sql, heal, now);
  }

  interruptHeals(now: Date, options: { all: boolean }) {
    return heals.interruptHeals(this.#sql, now, options);
  }

  updateHeal(id: string, patch: HealPatch) {
    return heals.updateHeal(this.#sql, id, patch);
  }

  getHeal(id: string) {
    return heals.getHeal(this.#sql, id);
  }

  listHeals(pipeline: string, options: { limit?: number; since?: Date } = {}) {
    return heals.listHeals(this.#sql, pipeline, options);
  }

  // --- schedules and ticks ---

  getSchedule(pipeline: string) {
    return schedules.getSchedule(this.#sql, pipeline);
  }

  listSchedules() {
    return schedules.listSchedules(this.#sql);
  }

  scheduleStamp() {
    return schedules.scheduleStamp(this.#sql);
  }

  setSchedule(pipeline: string, input: ScheduleInput | null, now: Date) {
    return schedules.setSchedule(this.#sql, pipeline, input, now);
  }

  setScheduleEnabled(pipeline: string, enabled: boolean, now: Date) {
    return schedules.setScheduleEnabled(this.#sql, pipeline, enabled, now);
  }

  async recordTick(tick: TickInput) {
    return (await schedules.recordTicks(this.#sql, [tick]))[0]!;
  }

  recordTicks(ticks: TickInput[]) {
    return schedules.recordTicks(this.#sql, ticks);
  }

  skipTicks(pipeline: string, lastTick: string, count: number) {
    return schedules.skipTicks(this.#sql, pipeline, lastTick, count);
  }

  listTicks(pipeline: string, options: { limit?: number } = {}) {
    return schedules.listTicks(this.#sql, pipeline, options);
  }

  // --- dependencies and retention ---

  setDependencies(pipeline: string, upstreams: string[]) {
    return dependencies.setDependencies(this.#sql, pipeline, upstreams);
  }

  listDependencies() {
    return dependencies.listDependencies(this.#sql);
  }

  listLogicalRun(logicalRun: string) {
    return dependencies.listLogicalRun(this.#sql, logicalRun);
  }

  createDependencyRun(run: NewRun) {
    return dependencies.createDependencyRun(this.#sql, run);
  }

  prune(options: { keepRuns: number; keepDays: number; now: Date }) {
    return prune(this.#sql, options);
  }

  // --- API keys ---

  createApiKey(key: NewApiKey) {
    return keys.createApiKey(this.#sql, key);
  }

  getApiKey(id: string) {
    return keys.getApiKey(this.#sql, id);
  }

  listApiKeys() {
    return keys.listApiKeys(this.#sql);
  }

  touchApiKey(id: string, now: Date) {
    return keys.touchApiKey(this.#sql, id, now);
  }

  revokeApiKey(id: string, now: Date) {
    return keys.revokeApiKey(this.#sql, id, now);
  }

  // --- workers, the queue and leases ---

  registerWorker(worker: WorkerInput, now: Date) {
    return queue.registerWorker(this.#sql, worker, now);
  }

  heartbeat(workerId: string, beat: HeartbeatInput, now: Date, leaseMs: number) {
    return queue.heartbeat(this.#sql, workerId, beat, now, leaseMs);
  }

  listWorkers() {
    return queue.listWorkers(this.#sql);
  }

  claimRuns(request: ClaimRequest) {
    return claimRuns(this.#sql, request);
  }

  recoverLostRuns(now: Date) {
    return queue.recoverLostRuns(this.#sql, now);
  }

  releaseRuns(workerId: string, runIds: string[], now: Date) {
    return queue.releaseRuns(this.#sql, workerId, runIds, now);
  }

  tryLease(name: string, holder: string, now: Date, ttlMs: number) {
    return queue.tryLease(this.#sql, name, holder, now, ttlMs);
  }

  releaseLease(name: string, holder: string) {
    return queue.releaseLease(this.#sql, name, holder);
  }

  watchQueue(listener: () => void) {
    return queue.watchQueue(this.#sql, listener);
  }

  // --- webhooks ---

  createWebhook(webhook: WebhookRecord) {
    return webhooks.createWebhook(this.#sql, webhook);
  }

  listWebhooks() {
    return webhooks.listWebhooks(this.#sql);
  }

  deleteWebhook(name: string) {
    return webhooks.deleteWebhook(this.#sql, name);
  }

  listUnannounced(since: Date, limit: number) {
    return webhooks.listUnannounced(this.#sql, since, limit);
  }

  async previousRunStatus(pipeline: string, createdAt: string, runId: string) {
    return await webhooks.previousStatus(this.#sql, pipeline, createdAt, runId) as RunStatus | null;
  }

  announceEvents(subjects: string[], deliveries: NewDelivery[], now: Date) {
    return webhooks.announce(this.#sql, subjects, deliveries, now);
  }

  claimDeliveries(claim: DeliveryClaim) {
    return webhooks.claimDeliveries(this.#sql, claim);
  }

  recordDeliveryAttempt(attempt: DeliveryAttempt, holder: string, outcome: AttemptOutcome) {
    return webhooks.recordDeliveryAttempt(this.#sql, attempt, holder, outcome);
  }

  listDeliveries(options: DeliveryListOptions = {}) {
    return webhooks.listDeliveries(this.#sql, options);
  }

  listDeliveryAttempts(ids: string[]) {
    return webhooks.listDeliveryAttempts(this.#sql, ids);
  }

  pruneWebhooks(announcedBefore: Date, deliveriesBefore: Date) {
    return webhooks.pruneWebhooks(this.#sql, announcedBefore, deliveriesBefore);
  }

  // --- external triggers ---

  getTriggerSecret(pipeline: string) {
    return triggers.getTriggerSecret(this.#sql, pipeline);
  }

  createTriggerSecret(pipeline: string, secret: string, now: Date) {
    return triggers.createTriggerSecret(this.#sql, pipeline, secret, now);
  }

  rotateTriggerSecret(pipeline: string, secret: string, now: Date) {
    return triggers.rotateTriggerSecret(this.#sql, pipeline, secret, now);
  }

  deleteTriggerSecret(pipeline: string) {
    return triggers.deleteTriggerSecret(this.#sql, pipeline);
  }

  recordTriggerDelivery(delivery: TriggerDelivery) {
    return triggers.recordTriggerDelivery(this.#sql, delivery);
  }

  // --- lineage ---

  saveLineage(runId: string, pipeline: string, entries: LineageEntry[]) {
    return lineage.saveLineage(this.#sql, runId, pipeline, entries);
  }

  listRunLineage(runId: string) {
    return lineage.listRunLineage(this.#sql, runId);
  }

  currentLineage(filter: LineageFilter) {
    return lineage.currentLineage(this.#sql, filter);
  }
}
