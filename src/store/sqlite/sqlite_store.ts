// node:sqlite is synchronous, but the Store interface is async so the PostgreSQL store can
// implement it; the methods below are `async` only to return promises (and turn throws into
// rejections), so they have nothing to await.
// deno-lint-ignore-file require-await

/**
 * The SQLite implementation of `Store`, on `node:sqlite`. One file, WAL mode, so the daemon
 * and short-lived CLI processes can share it. JSON columns are TEXT, parsed on read.
 *
 * This class opens the database, migrates it and closes it; every query lives in the module of
 * its group (`pipelines.ts`, `runs.ts`, `steps_logs.ts`, `heals.ts`, `schedules.ts`,
 * `dependencies.ts`, `retention.ts`, `keys.ts`, `queue.ts`, `claim_runs.ts`), a synchronous
 * function that takes the connection (`Db`, `db.ts`) first.
 */

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
  RunStatus,
  ScheduleInput,
  StepRecord,
  Store,
  TickInput,
  WorkerInput,
} from "../types.ts";
import { claimRuns } from "./claim_runs.ts";
import { Db } from "./db.ts";
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
import { SqliteBackfills } from "./backfills.ts";
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

export class SqliteStore implements Store {
  readonly kind = "sqlite" as const;
  readonly path: string;
  #db: Db;
  #closed = false;

  readonly backfills: SqliteBackfills;

  /** Opens (creating if needed) the database at `path`, or ":memory:". Call `migrate()` next. */
  constructor(path: string) {
    this.path = path;
    this.#db = new Db(path);
    this.backfills = new SqliteBackfills(this.#db);
  }

  async migrate(): Promise<void> {
    const conn = this.#db.conn;
    conn.exec(SCHEMA_MIGRATIONS_DDL);
    const applied = new Set(
      conn.prepare("SELECT version FROM schema_migrations").all().map((r) => r.version),
    );
    const latest = Math.max(0, ...MIGRATIONS.map((m) => m.version));
    assertKnownSchema(this.path, Math.max(0, ...[...applied].map(Number)), latest);
    for (const migration of MIGRATIONS) {
      if (applied.has(migration.version)) continue;
      this.#db.tx(() => {
        // Claim the version first: if another process applied it since we looked, the
        // insert is ignored and we skip its SQL.
        const { changes } = conn
          .prepare(
            "INSERT OR IGNORE INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
          )
          .run(migration.version, migration.name, new Date().toISOString());
        if (Number(changes) === 1) conn.exec(migration.sql);
      });
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#db.close();
  }

  // --- pipelines and versions ---

  async deploy(input: DeployInput) {
    return pipelines.deploy(this.#db, input);
  }

  async getPipeline(name: string) {
    return pipelines.getPipeline(this.#db, name);
  }

  async listPipelines() {
    return pipelines.listPipelines(this.#db);
  }

  async getVersion(name: string, version: number) {
    return pipelines.getVersion(this.#db, name, version);
  }

  async getCurrentVersions(names: string[]) {
    return pipelines.getCurrentVersions(this.#db, names);
  }

  async listVersions(name: string) {
    return pipelines.listVersions(this.#db, name);
  }

  async createVersion(input: NewVersion) {
    return pipelines.createVersion(this.#db, input);
  }

  async promoteVersion(name: string, version: number) {
    return pipelines.promoteVersion(this.#db, name, version);
  }

  async deletePipeline(name: string) {
    return pipelines.deletePipeline(this.#db, name);
  }

  // --- runs, steps and logs ---

  async createRun(run: NewRun) {
    return runs.insertRun(this.#db, run);
  }

  async updateRun(runId: string, patch: RunPatch, guard?: RunGuard) {
    return runs.updateRun(this.#db, runId, patch, guard);
  }

  async getRun(runId: string) {
    return runs.getRun(this.#db, runId);
  }

  async listRuns(pipeline: string, options: RunListOptions = {}) {
    return runs.listRuns(this.#db, pipeline, options);
  }

  async listRunsByStatus(statuses: RunStatus[]) {
    return runs.listRunsByStatus(this.#db, statuses);
  }

  async lastSuccessfulRun(pipeline: string) {
    return runs.lastSuccessfulRun(this.#db, pipeline);
  }

  async setDiagnosis(runId: string, diagnosis: Record<string, Json> | null) {
    return runs.setDiagnosis(this.#db, runId, diagnosis);
  }

  async listErrors(options: { limit?: number; unresolved?: boolean } = {}) {
    return runs.listErrors(this.#db, options);
  }

  async stats() {
    return runs.stats(this.#db);
  }

  async saveStep(step: StepRecord) {
    steps.saveStep(this.#db, step);
  }

  async listSteps(runId: string, attempt?: number) {
    return steps.listSteps(this.#db, runId, attempt);
  }

  async appendLogs(logs: LogRecord[]) {
    steps.appendLogs(this.#db, logs);
  }

  async listLogs(
    runId: string,
    options: { afterSeq?: number; limit?: number; tail?: number } = {},
  ) {
    return steps.listLogs(this.#db, runId, options);
  }

  // --- heals ---

  async createHeal(heal: NewHeal, now: Date) {
    return heals.createHeal(this.#db, heal, now);
  }

  async interruptHeals(now: Date, options: { all: boolean }) {
    return heals.interruptHeals(this.#db, now, options);
  }

  async updateHeal(id: string, patch: HealPatch) {
    return heals.updateHeal(this.#db, id, patch);
  }

  async getHeal(id: string) {
    return heals.getHeal(this.#db, id);
  }

  async listHeals(pipeline: string, options: { limit?: number; since?: Date } = {}) {
    return heals.listHeals(this.#db, pipeline, options);
  }

  // --- schedules and ticks ---

  async getSchedule(pipeline: string) {
    return schedules.getSchedule(this.#db, pipeline);
  }

  async listSchedules() {
    return schedules.listSchedules(this.#db);
  }

  async scheduleStamp() {
    return schedules.scheduleStamp(this.#db);
  }

  async setSchedule(pipeline: string, input: ScheduleInput | null, now: Date) {
    return schedules.setSchedule(this.#db, pipeline, input, now);
  }

  async setScheduleEnabled(pipeline: string, enabled: boolean, now: Date) {
    return schedules.setScheduleEnabled(this.#db, pipeline, enabled, now);
  }

  async recordTick(tick: TickInput) {
    return schedules.recordTicks(this.#db, [tick])[0]!;
  }

  async recordTicks(ticks: TickInput[]) {
    return schedules.recordTicks(this.#db, ticks);
  }

  async skipTicks(pipeline: string, lastTick: string, count: number) {
    schedules.skipTicks(this.#db, pipeline, lastTick, count);
  }

  async listTicks(pipeline: string, options: { limit?: number } = {}) {
    return schedules.listTicks(this.#db, pipeline, options);
  }

  // --- dependencies and retention ---

  async setDependencies(pipeline: string, upstreams: string[]) {
    dependencies.setDependencies(this.#db, pipeline, upstreams);
  }

  async listDependencies() {
    return dependencies.listDependencies(this.#db);
  }

  async listLogicalRun(logicalRun: string) {
    return dependencies.listLogicalRun(this.#db, logicalRun);
  }

  async createDependencyRun(run: NewRun) {
    return dependencies.createDependencyRun(this.#db, run);
  }

  async prune(options: { keepRuns: number; keepDays: number; now: Date }) {
    return prune(this.#db, options);
  }

  // --- API keys ---

  async createApiKey(key: NewApiKey) {
    return keys.createApiKey(this.#db, key);
  }

  async getApiKey(id: string) {
    return keys.getApiKey(this.#db, id);
  }

  async listApiKeys() {
    return keys.listApiKeys(this.#db);
  }

  async touchApiKey(id: string, now: Date) {
    keys.touchApiKey(this.#db, id, now);
  }

  async revokeApiKey(id: string, now: Date) {
    return keys.revokeApiKey(this.#db, id, now);
  }

  // --- workers, the queue and leases ---

  async registerWorker(worker: WorkerInput, now: Date) {
    return queue.registerWorker(this.#db, worker, now);
  }

  async heartbeat(workerId: string, beat: HeartbeatInput, now: Date, leaseMs: number) {
    return queue.heartbeat(this.#db, workerId, beat, now, leaseMs);
  }

  async listWorkers() {
    return queue.listWorkers(this.#db);
  }

  async claimRuns(request: ClaimRequest) {
    return claimRuns(this.#db, request);
  }

  async recoverLostRuns(now: Date) {
    return queue.recoverLostRuns(this.#db, now);
  }

  async releaseRuns(workerId: string, runIds: string[], now: Date) {
    queue.releaseRuns(this.#db, workerId, runIds, now);
  }

  async tryLease(name: string, holder: string, now: Date, ttlMs: number) {
    return queue.tryLease(this.#db, name, holder, now, ttlMs);
  }

  async releaseLease(name: string, holder: string) {
    queue.releaseLease(this.#db, name, holder);
  }

  async watchQueue(listener: () => void) {
    return queue.watchQueue(this.#db, listener);
  }

  // --- webhooks ---

  async createWebhook(webhook: WebhookRecord) {
    return webhooks.createWebhook(this.#db, webhook);
  }

  async listWebhooks() {
    return webhooks.listWebhooks(this.#db);
  }

  async deleteWebhook(name: string) {
    return webhooks.deleteWebhook(this.#db, name);
  }

  async listUnannounced(since: Date, limit: number) {
    return webhooks.listUnannounced(this.#db, since, limit);
  }

  async previousRunStatus(pipeline: string, createdAt: string, runId: string) {
    return webhooks.previousStatus(this.#db, pipeline, createdAt, runId) as RunStatus | null;
  }

  async announceEvents(subjects: string[], deliveries: NewDelivery[], now: Date) {
    return webhooks.announce(this.#db, subjects, deliveries, now);
  }

  async claimDeliveries(claim: DeliveryClaim) {
    return webhooks.claimDeliveries(this.#db, claim);
  }

  async recordDeliveryAttempt(attempt: DeliveryAttempt, holder: string, outcome: AttemptOutcome) {
    return webhooks.recordDeliveryAttempt(this.#db, attempt, holder, outcome);
  }

  async listDeliveries(options: DeliveryListOptions = {}) {
    return webhooks.listDeliveries(this.#db, options);
  }

  async listDeliveryAttempts(ids: string[]) {
    return webhooks.listDeliveryAttempts(this.#db, ids);
  }

  async pruneWebhooks(announcedBefore: Date, deliveriesBefore: Date) {
    return webhooks.pruneWebhooks(this.#db, announcedBefore, deliveriesBefore);
  }

  // --- external triggers ---

  async getTriggerSecret(pipeline: string) {
    return triggers.getTriggerSecret(this.#db, pipeline);
  }

  async createTriggerSecret(pipeline: string, secret: string, now: Date) {
    return triggers.createTriggerSecret(this.#db, pipeline, secret, now);
  }

  async rotateTriggerSecret(pipeline: string, secret: string, now: Date) {
    return triggers.rotateTriggerSecret(this.#db, pipeline, secret, now);
  }

  async deleteTriggerSecret(pipeline: string) {
    return triggers.deleteTriggerSecret(this.#db, pipeline);
  }

  async recordTriggerDelivery(delivery: TriggerDelivery) {
    return triggers.recordTriggerDelivery(this.#db, delivery);
  }

  // --- lineage ---

  async saveLineage(runId: string, pipeline: string, entries: LineageEntry[]) {
    return lineage.saveLineage(this.#db, runId, pipeline, entries);
  }

  async listRunLineage(runId: string) {
    return lineage.listRunLineage(this.#db, runId);
  }

  async currentLineage(filter: LineageFilter) {
    return lineage.currentLineage(this.#db, filter);
  }
}
