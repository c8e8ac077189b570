// node:sqlite is synchronous, but the Store interface is async so a PostgreSQL store can
// implement it later; the methods below are `async` only to return promises (and turn throws
// into rejections), so they have nothing to await.
// deno-lint-ignore-file require-await

/**
 * The SQLite implementation of `Store`, on `node:sqlite`. One file, WAL mode, so the daemon
 * and short-lived CLI processes can share it. JSON columns are TEXT, parsed on read.
 */

import { DatabaseSync, type StatementSync } from "node:sqlite";
import { TauError } from "../../core/errors.ts";
import {
  type ApiKeyRecord,
  type ClaimRequest,
  type DependencyEdge,
  type DeployInput,
  type DeployOutcome,
  type ErrorRun,
  type HealPatch,
  type HealRecord,
  type HeartbeatInput,
  type Json,
  type LogRecord,
  type NewApiKey,
  type NewHeal,
  type NewRun,
  type NewVersion,
  type PipelineRecord,
  type PipelineVersion,
  type RunGuard,
  type RunPatch,
  type RunRecord,
  type RunStatus,
  type ScheduleInput,
  type ScheduleRecord,
  type StepRecord,
  type Store,
  type StoredApiKey,
  type StoreStats,
  TERMINAL_STATUSES,
  type TickInput,
  type TickRecord,
  type WorkerInput,
  type WorkerRecord,
} from "../types.ts";
import { lostRunPatch, releasedRunPatch } from "../queue_rules.ts";
import { JSON_COLUMNS, PATCH_COLUMNS, RESOLVED_SQL } from "../run_columns.ts";
import { HEAL_INTERRUPTED, healUnderWay } from "../heal_rules.ts";
import { MIGRATIONS, SCHEMA_MIGRATIONS_DDL } from "./migrations.ts";

type Param = null | number | string;

const ALL_STATUSES: readonly RunStatus[] = ["queued", "running", ...TERMINAL_STATUSES];
const DEFAULT_LIMIT = 20;
const BUSY_TIMEOUT_MS = 5000;

// Raw row shapes as SQLite returns them (JSON columns still text).
interface PipelineRow {
  name: string;
  current_version: number;
  source_path: string | null;
  schedule: string | null;
  metadata: string;
  created_at: string;
  updated_at: string;
}
type VersionRow = Omit<PipelineVersion, "metadata"> & { metadata: string };
type HealRow = Omit<HealRecord, "record"> & { record: string };
type RunRow =
  & Omit<
    RunRecord,
    | "params"
    | "result"
    | "error"
    | "permissions"
    | "attempts"
    | "downstream"
    | "exclusive"
    | "sandbox"
    | "access"
    | "diagnosis"
  >
  & {
    params: string;
    result: string | null;
    error: string | null;
    permissions: string | null;
    attempts: string;
    downstream: number;
    exclusive: number;
    sandbox: string | null;
    access: string | null;
    diagnosis: string | null;
  };
type ScheduleRow = Omit<ScheduleRecord, "enabled"> & { enabled: number };
type StepRow = Omit<StepRecord, "metadata" | "error"> & { metadata: string; error: string | null };

/** Blocks the thread; only used in the (synchronous) constructor's rare lock retry. */
function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

function encode(value: unknown): string | null {
  return value === null || value === undefined ? null : JSON.stringify(value);
}

function decode<T>(text: string | null): T | null {
  return text === null ? null : JSON.parse(text) as T;
}

/** A LIMIT value: a non-negative integer, or -1 ("no limit" to SQLite) for +Infinity. */
function count(n: number): number {
  if (n === Infinity) return -1;
  return Number.isFinite(n) ? Math.max(0, Math.trunc(n)) : 0;
}

function toPipeline(row: PipelineRow): PipelineRecord {
  return { ...row, metadata: decode<Record<string, Json>>(row.metadata) ?? {} };
}

function toVersion(row: VersionRow): PipelineVersion {
  return { ...row, metadata: decode<Record<string, Json>>(row.metadata) ?? {} };
}

function toRun(row: RunRow): RunRecord {
  return {
    ...row,
    params: decode(row.params) ?? {},
    result: decode<Json>(row.result),
    error: decode(row.error),
    permissions: decode<Json>(row.permissions),
    attempts: decode(row.attempts) ?? [],
    downstream: row.downstream === 1,
    exclusive: row.exclusive === 1,
    sandbox: decode<Json>(row.sandbox),
    access: decode<Json>(row.access),
    diagnosis: decode(row.diagnosis),
  };
}

function toHeal(row: HealRow): HealRecord {
  return { ...row, record: decode(row.record) ?? {} };
}

type WorkerRow = Omit<WorkerRecord, "roles" | "tags"> & { roles: string; tags: string };

function toWorker(row: WorkerRow): WorkerRecord {
  return { ...row, roles: JSON.parse(row.roles), tags: JSON.parse(row.tags) };
}

/** Queued runs one claim looks at (oldest first); admission picks among them. */
const CLAIM_CANDIDATES = 200;

function toSchedule(row: ScheduleRow): ScheduleRecord {
  return { ...row, enabled: row.enabled === 1 };
}

/** An API key as listed: the digest stays in the database. */
function toApiKey(row: StoredApiKey): ApiKeyRecord {
  const { hash: _hash, ...record } = row;
  return record;
}

function toStep(row: StepRow): StepRecord {
  return { ...row, metadata: decode(row.metadata) ?? {}, error: decode(row.error) };
}

export class SqliteStore implements Store {
  readonly kind = "sqlite" as const;
  readonly path: string;
  #db: DatabaseSync;
  #statements = new Map<string, StatementSync>();
  #closed = false;
  /** One process per SQLite database runs its queue, so a local event is all it needs. */
  #queueEvents = new EventTarget();

  /** Opens (creating if needed) the database at `path`, or ":memory:". Call `migrate()` next. */
  constructor(path: string) {
    this.path = path;
    this.#db = new DatabaseSync(path);
    try {
      // busy_timeout first, so the statements below wait on another process's lock.
      this.#db.exec(`PRAGMA busy_timeout = ${BUSY_TIMEOUT_MS}`);
      this.#enableWal();
      this.#db.exec("PRAGMA foreign_keys = ON");
      this.#db.exec("PRAGMA synchronous = NORMAL");
    } catch (err) {
      this.#db.close();
      throw err;
    }
  }

  /**
   * Switches to WAL, retrying while locked: when several processes open a new file at once,
   * the switch can fail with "database is locked" without waiting on busy_timeout.
   */
  #enableWal(): void {
    const deadline = Date.now() + BUSY_TIMEOUT_MS;
    for (let delay = 5;; delay = Math.min(delay * 2, 100)) {
      try {
        this.#db.exec("PRAGMA journal_mode = WAL");
        return;
      } catch (err) {
        const locked = err instanceof Error && /database is locked/.test(err.message);
        if (!locked || Date.now() > deadline) throw err;
        sleepSync(delay);
      }
    }
  }

  /** A statement prepared on first use and reused afterwards. */
  #stmt(sql: string): StatementSync {
    let stmt = this.#statements.get(sql);
    if (!stmt) {
      stmt = this.#db.prepare(sql);
      this.#statements.set(sql, stmt);
    }
    return stmt;
  }

  /** Runs `fn` in a write transaction. `fn` must be synchronous (no await inside). */
  #tx<T>(fn: () => T): T {
    this.#db.exec("BEGIN IMMEDIATE");
    try {
      const out = fn();
      this.#db.exec("COMMIT");
      return out;
    } catch (err) {
      if (this.#db.isTransaction) this.#db.exec("ROLLBACK");
      throw err;
    }
  }

  async migrate(): Promise<void> {
    this.#db.exec(SCHEMA_MIGRATIONS_DDL);
    const applied = new Set(
      this.#db.prepare("SELECT version FROM schema_migrations").all().map((r) => r.version),
    );
    const latest = MIGRATIONS.at(-1)?.version ?? 0;
    const newest = Math.max(0, ...[...applied].map(Number));
    if (newest > latest) {
      throw new TauError(
        "internal",
        `The database ${this.path} has schema version ${newest}; this Tau knows up to ${latest}`,
        { hint: "Upgrade Tau, or point it at another database" },
      );
    }
    for (const migration of MIGRATIONS) {
      if (applied.has(migration.version)) continue;
      this.#tx(() => {
        // Claim the version first: if another process applied it since we looked, the
        // insert is ignored and we skip its SQL.
        const { changes } = this.#db
          .prepare(
            "INSERT OR IGNORE INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
          )
          .run(migration.version, migration.name, new Date().toISOString());
        if (Number(changes) === 1) this.#db.exec(migration.sql);
      });
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#statements.clear();
    this.#db.close();
  }

  // --- pipelines ---

  async deploy(input: DeployInput): Promise<DeployOutcome> {
    return this.#tx(() => {
      const now = new Date().toISOString();
      const metadata = JSON.stringify(input.metadata);
      const existing = this.#getPipeline(input.name);
      const current = existing ? this.#getVersion(input.name, existing.current_version) : null;

      if (existing && current && current.hash === input.hash) {
        this.#stmt(
          "UPDATE pipelines SET source_path = ?, schedule = ?, metadata = ?, updated_at = ? WHERE name = ?",
        ).run(input.source_path, input.schedule, metadata, now, input.name);
        return { pipeline: this.#mustPipeline(input.name), version: current, unchanged: true };
      }

      const version = this.#nextVersion(input.name);
      // Upsert the pipeline first: the version row's foreign key needs it.
      this.#stmt(
        `INSERT INTO pipelines (name, current_version, source_path, schedule, metadata, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (name) DO UPDATE SET current_version = excluded.current_version,
           source_path = excluded.source_path, schedule = excluded.schedule,
           metadata = excluded.metadata, updated_at = excluded.updated_at`,
      ).run(input.name, version, input.source_path, input.schedule, metadata, now, now);
      const stored = this.#insertVersion(
        {
          ...input,
          source: input.source ?? "deploy",
          parent: input.parent !== undefined ? input.parent : existing?.current_version ?? null,
        },
        version,
        now,
        true,
      );
      return { pipeline: this.#mustPipeline(input.name), version: stored, unchanged: false };
    });
  }

  #nextVersion(name: string): number {
    const row = this.#stmt(
      "SELECT coalesce(max(version), 0) + 1 AS n FROM pipeline_versions WHERE pipeline = ?",
    ).get(name) as { n: number };
    return row.n;
  }

  /** Inserts a version made at `now`, current (`promoted`) or a candidate. */
  #insertVersion(
    input: NewVersion,
    version: number,
    now: string,
    promoted: boolean,
  ): PipelineVersion {
    const row = this.#stmt(
      `INSERT INTO pipeline_versions (pipeline, version, hash, filename, code, metadata,
         created_at, source, parent, heal_id, promoted_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING *`,
    ).get(
      input.name,
      version,
      input.hash,
      input.filename,
      input.code,
      JSON.stringify(input.metadata),
      now,
      input.source,
      input.parent,
      input.heal_id ?? null,
      promoted ? now : null,
    );
    return toVersion(row as unknown as VersionRow);
  }

  async listVersions(name: string): Promise<PipelineVersion[]> {
    return this.#stmt("SELECT * FROM pipeline_versions WHERE pipeline = ? ORDER BY version")
      .all(name).map((row) => toVersion(row as unknown as VersionRow));
  }

  async createVersion(input: NewVersion): Promise<PipelineVersion> {
    return this.#tx(() => {
      if (!this.#getPipeline(input.name)) {
        throw new TauError("not_found", `Pipeline ${input.name} does not exist`, {
          hint: "deploy it first with tau deploy FILE",
        });
      }
      const now = new Date().toISOString();
      return this.#insertVersion(input, this.#nextVersion(input.name), now, false);
    });
  }

  async promoteVersion(name: string, version: number): Promise<PipelineRecord | null> {
    return this.#tx(() => {
      const stored = this.#getVersion(name, version);
      if (!stored) return null;
      const now = new Date().toISOString();
      this.#stmt(
        "UPDATE pipeline_versions SET promoted_at = ? WHERE pipeline = ? AND version = ?",
      ).run(now, name, version);
      const schedule = stored.metadata.schedule;
      this.#stmt(
        `UPDATE pipelines SET current_version = ?, metadata = ?, schedule = ?, updated_at = ?
         WHERE name = ?`,
      ).run(
        version,
        JSON.stringify(stored.metadata),
        typeof schedule === "string" ? schedule : null,
        now,
        name,
      );
      return this.#getPipeline(name);
    });
  }

  #getPipeline(name: string): PipelineRecord | null {
    const row = this.#stmt("SELECT * FROM pipelines WHERE name = ?").get(name);
    return row ? toPipeline(row as unknown as PipelineRow) : null;
  }

  #mustPipeline(name: string): PipelineRecord {
    const pipeline = this.#getPipeline(name);
    if (!pipeline) throw new TauError("internal", `Pipeline ${name} vanished`);
    return pipeline;
  }

  #getVersion(name: string, version: number): PipelineVersion | null {
    const row = this.#stmt("SELECT * FROM pipeline_versions WHERE pipeline = ? AND version = ?")
      .get(name, version);
    return row ? toVersion(row as unknown as VersionRow) : null;
  }

  async getPipeline(name: string): Promise<PipelineRecord | null> {
    return this.#getPipeline(name);
  }

  async listPipelines(): Promise<PipelineRecord[]> {
    const rows = this.#stmt("SELECT * FROM pipelines ORDER BY name").all();
    return rows.map((row) => toPipeline(row as unknown as PipelineRow));
  }

  async getVersion(name: string, version: number): Promise<PipelineVersion | null> {
    return this.#getVersion(name, version);
  }

  async deletePipeline(name: string): Promise<boolean> {
    // Versions, runs, and (through runs) steps and logs go by ON DELETE CASCADE.
    const { changes } = this.#stmt("DELETE FROM pipelines WHERE name = ?").run(name);
    return Number(changes) > 0;
  }

  // --- runs ---

  #getRun(runId: string): RunRecord | null {
    const row = this.#stmt("SELECT * FROM runs WHERE run_id = ?").get(runId);
    return row ? toRun(row as unknown as RunRow) : null;
  }

  #runs(sql: string, ...params: Param[]): RunRecord[] {
    return this.#stmt(sql).all(...params).map((row) => toRun(row as unknown as RunRow));
  }

  async createRun(run: NewRun): Promise<RunRecord> {
    return this.#insertRun(run);
  }

  #insertRun(run: NewRun): RunRecord {
    const now = new Date().toISOString();
    const skipped = run.status === "skipped";
    try {
      const row = this.#stmt(
        `INSERT INTO runs (run_id, pipeline, version, status, trigger, params, attempt, max_attempts,
           created_at, finished_at, duration_ms, result, error, permissions, attempts, pid,
           scheduled_at, logical_run, downstream, exclusive, pool)
         VALUES (?, ?, ?, ?, ?, ?, 0, ?, ?, ?, ?, NULL, ?, ?, '[]', NULL, ?, ?, ?, ?, ?) RETURNING *`,
      ).get(
        run.run_id,
        run.pipeline,
        run.version,
        skipped ? "skipped" : "queued",
        run.trigger,
        JSON.stringify(run.params),
        run.max_attempts,
        now,
        skipped ? now : null,
        skipped ? 0 : null,
        encode(run.error ?? null),
        encode(run.permissions),
        run.scheduled_at ?? null,
        run.logical_run ?? null,
        run.downstream ? 1 : 0,
        run.exclusive ? 1 : 0,
        run.pool ?? null,
      );
      if (!skipped) this.#queueChanged();
      return toRun(row as unknown as RunRow);
    } catch (err) {
      if (err instanceof Error && /FOREIGN KEY constraint failed/.test(err.message)) {
        throw new TauError("not_found", `Pipeline ${run.pipeline} does not exist`, { cause: err });
      }
      throw err;
    }
  }

  updateRun(runId: string, patch: RunPatch, guard?: RunGuard): Promise<RunRecord | null> {
    return Promise.resolve(this.#updateRun(runId, patch, guard));
  }

  #updateRun(runId: string, patch: RunPatch, guard?: RunGuard): RunRecord | null {
    const sets: string[] = [];
    const values: Param[] = [];
    for (const column of PATCH_COLUMNS) {
      const value = patch[column];
      if (value === undefined) continue;
      sets.push(`${column} = ?`); // column comes from the whitelist, never from the caller
      values.push(JSON_COLUMNS.has(column) ? encode(value) : value as Param);
    }
    if (sets.length === 0) return this.#getRun(runId);
    const owned = guard ? " AND worker_id = ? AND status = 'running'" : "";
    const row = this.#stmt(
      `UPDATE runs SET ${sets.join(", ")} WHERE run_id = ?${owned} RETURNING *`,
    ).get(...values, runId, ...(guard ? [guard.worker_id] : []));
    return row ? toRun(row as unknown as RunRow) : null;
  }

  async getRun(runId: string): Promise<RunRecord | null> {
    return this.#getRun(runId);
  }

  async setDiagnosis(runId: string, diagnosis: Record<string, Json> | null): Promise<boolean> {
    const { changes } = this.#stmt("UPDATE runs SET diagnosis = ? WHERE run_id = ?")
      .run(encode(diagnosis), runId);
    return Number(changes) > 0;
  }

  async listRuns(pipeline: string, options: { limit?: number } = {}): Promise<RunRecord[]> {
    return this.#runs(
      "SELECT * FROM runs WHERE pipeline = ? ORDER BY created_at DESC, run_id DESC LIMIT ?",
      pipeline,
      count(options.limit ?? DEFAULT_LIMIT),
    );
  }

  async listRunsByStatus(statuses: RunStatus[]): Promise<RunRecord[]> {
    if (statuses.length === 0) return [];
    // One statement for any number of statuses: the list travels as a JSON array.
    return this.#runs(
      `SELECT * FROM runs WHERE status IN (SELECT value FROM json_each(?))
       ORDER BY created_at ASC, run_id ASC`,
      JSON.stringify(statuses),
    );
  }

  async lastSuccessfulRun(pipeline: string): Promise<RunRecord | null> {
    const [run] = this.#runs(
      `SELECT * FROM runs WHERE pipeline = ? AND status = 'success'
       ORDER BY created_at DESC, run_id DESC LIMIT 1`,
      pipeline,
    );
    return run ?? null;
  }

  async listErrors(options: { limit?: number; unresolved?: boolean } = {}): Promise<ErrorRun[]> {
    const rows = this.#stmt(
      `SELECT * FROM (SELECT *, ${RESOLVED_SQL} AS resolved FROM runs
         WHERE status IN ('failed', 'timed_out'))
       WHERE ? = 0 OR resolved = 0
       ORDER BY created_at DESC, run_id DESC LIMIT ?`,
    ).all(options.unresolved ? 1 : 0, count(options.limit ?? DEFAULT_LIMIT));
    return rows.map((row) => ({
      ...toRun(row as unknown as RunRow),
      resolved: row.resolved === 1,
    }));
  }

  // --- steps and logs ---

  async saveStep(step: StepRecord): Promise<void> {
    this.#stmt(
      `INSERT INTO steps (run_id, attempt, seq, name, status, started_at, finished_at, duration_ms,
         rows_in, rows_out, metadata, error)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (run_id, attempt, seq) DO UPDATE SET name = excluded.name,
         status = excluded.status, started_at = excluded.started_at,
         finished_at = excluded.finished_at, duration_ms = excluded.duration_ms,
         rows_in = excluded.rows_in, rows_out = excluded.rows_out,
         metadata = excluded.metadata, error = excluded.error`,
    ).run(
      step.run_id,
      step.attempt,
      step.seq,
      step.name,
      step.status,
      step.started_at,
      step.finished_at,
      step.duration_ms,
      step.rows_in,
      step.rows_out,
      JSON.stringify(step.metadata),
      encode(step.error),
    );
  }

  async listSteps(runId: string, attempt?: number): Promise<StepRecord[]> {
    const rows = attempt === undefined
      ? this.#stmt("SELECT * FROM steps WHERE run_id = ? ORDER BY attempt, seq").all(runId)
      : this.#stmt("SELECT * FROM steps WHERE run_id = ? AND attempt = ? ORDER BY seq")
        .all(runId, attempt);
    return rows.map((row) => toStep(row as unknown as StepRow));
  }

  async appendLogs(logs: LogRecord[]): Promise<void> {
    if (logs.length === 0) return;
    // OR IGNORE: (run_id, seq) identifies a line, so re-sending a batch is harmless.
    const insert = this.#stmt(
      `INSERT OR IGNORE INTO logs (run_id, attempt, seq, ts, level, step, message)
       VALUES (?, ?, ?, ?, ?, ?, ?)`,
    );
    this.#tx(() => {
      for (const log of logs) {
        insert.run(log.run_id, log.attempt, log.seq, log.ts, log.level, log.step, log.message);
      }
    });
  }

  /**
   * `afterSeq` keeps lines with a greater seq; `tail` keeps the last N of those; `limit` caps
   * the count (with `tail`, the last min(tail, limit) lines). Always ascending seq.
   */
  async listLogs(
    runId: string,
    options: { afterSeq?: number; limit?: number; tail?: number } = {},
  ): Promise<LogRecord[]> {
    const after = options.afterSeq ?? -1;
    const columns = "run_id, attempt, seq, ts, level, step, message";
    let rows;
    if (options.tail !== undefined) {
      const n = count(Math.min(options.tail, options.limit ?? Infinity));
      rows = this.#stmt(
        `SELECT * FROM (SELECT ${columns} FROM logs WHERE run_id = ? AND seq > ?
           ORDER BY seq DESC LIMIT ?) ORDER BY seq ASC`,
      ).all(runId, after, n);
    } else {
      const n = options.limit === undefined ? -1 : count(options.limit);
      rows = this.#stmt(
        `SELECT ${columns} FROM logs WHERE run_id = ? AND seq > ? ORDER BY seq ASC LIMIT ?`,
      ).all(runId, after, n);
    }
    return rows.map((row) => ({ ...row }) as unknown as LogRecord);
  }

  async stats(): Promise<StoreStats> {
    const pipelines = this.#stmt("SELECT count(*) AS n FROM pipelines").get() as { n: number };
    const runs = Object.fromEntries(ALL_STATUSES.map((s) => [s, 0])) as Record<RunStatus, number>;
    const rows = this.#stmt("SELECT status, count(*) AS n FROM runs GROUP BY status").all();
    for (const row of rows as unknown as { status: string; n: number }[]) {
      if (row.status in runs) runs[row.status as RunStatus] = row.n;
    }
    return { pipelines: pipelines.n, runs };
  }

  // --- heals ---

  async createHeal(heal: NewHeal, now: Date): Promise<HealRecord> {
    let row;
    try {
      row = this.#tx(() => {
        if ((heal.status ?? "running") === "running") {
          this.#interruptHeals(now, false, heal.pipeline);
        }
        return this.#stmt(
          `INSERT INTO heals (id, pipeline, run_id, status, created_at, finished_at, expires_at,
             record) VALUES (?, ?, ?, ?, ?, NULL, ?, ?) RETURNING *`,
        ).get(
          heal.id,
          heal.pipeline,
          heal.run_id,
          heal.status ?? "running",
          now.toISOString(),
          heal.expires_at ?? null,
          JSON.stringify(heal.record ?? {}),
        );
      });
    } catch (err) {
      if (err instanceof Error && /FOREIGN KEY constraint failed/.test(err.message)) {
        throw new TauError("not_found", `Pipeline ${heal.pipeline} does not exist`, { cause: err });
      }
      if (err instanceof Error && /UNIQUE constraint failed: heals.pipeline/.test(err.message)) {
        throw healUnderWay(heal.pipeline, err);
      }
      throw err;
    }
    return toHeal(row as unknown as HealRow);
  }

  async interruptHeals(now: Date, options: { all: boolean }): Promise<number> {
    return this.#tx(() => this.#interruptHeals(now, options.all));
  }

  #interruptHeals(now: Date, all: boolean, pipeline?: string): number {
    const at = now.toISOString();
    return this.#stmt(
      `UPDATE heals SET status = 'interrupted', finished_at = ?,
         record = json_set(record, '$.error', json(?))
       WHERE status = 'running' AND (? OR expires_at < ?)
         AND (? IS NULL OR pipeline = ?)`,
    ).run(at, JSON.stringify(HEAL_INTERRUPTED), all ? 1 : 0, at, pipeline ?? null, pipeline ?? null)
      .changes as number;
  }

  async updateHeal(id: string, patch: HealPatch): Promise<HealRecord | null> {
    // One statement for any patch: a field left out keeps its value.
    const row = this.#stmt(
      `UPDATE heals SET status = coalesce(?, status),
         finished_at = CASE WHEN ? THEN ? ELSE finished_at END,
         expires_at = CASE WHEN ? THEN ? ELSE expires_at END, record = coalesce(?, record)
       WHERE id = ? RETURNING *`,
    ).get(
      patch.status ?? null,
      patch.finished_at !== undefined ? 1 : 0,
      patch.finished_at ?? null,
      patch.expires_at !== undefined ? 1 : 0,
      patch.expires_at ?? null,
      patch.record ? JSON.stringify(patch.record) : null,
      id,
    );
    return row ? toHeal(row as unknown as HealRow) : null;
  }

  async getHeal(id: string): Promise<HealRecord | null> {
    const row = this.#stmt("SELECT * FROM heals WHERE id = ?").get(id);
    return row ? toHeal(row as unknown as HealRow) : null;
  }

  async listHeals(
    pipeline: string,
    options: { limit?: number; since?: Date } = {},
  ): Promise<HealRecord[]> {
    return this.#stmt(
      `SELECT * FROM heals WHERE pipeline = ? AND created_at >= ?
       ORDER BY created_at DESC, id DESC LIMIT ?`,
    ).all(pipeline, options.since?.toISOString() ?? "", count(options.limit ?? DEFAULT_LIMIT))
      .map((row) => toHeal(row as unknown as HealRow));
  }

  // --- schedules and ticks ---

  #getSchedule(pipeline: string): ScheduleRecord | null {
    const row = this.#stmt("SELECT * FROM schedules WHERE pipeline = ?").get(pipeline);
    return row ? toSchedule(row as unknown as ScheduleRow) : null;
  }

  async getSchedule(pipeline: string): Promise<ScheduleRecord | null> {
    return this.#getSchedule(pipeline);
  }

  async listSchedules(): Promise<ScheduleRecord[]> {
    return this.#stmt("SELECT * FROM schedules ORDER BY pipeline").all()
      .map((row) => toSchedule(row as unknown as ScheduleRow));
  }

  async setSchedule(
    pipeline: string,
    input: ScheduleInput | null,
    now: Date,
  ): Promise<ScheduleRecord | null> {
    return this.#tx(() => {
      if (input === null) {
        this.#stmt("DELETE FROM schedules WHERE pipeline = ?").run(pipeline);
        return null;
      }
      const current = this.#getSchedule(pipeline);
      const same = current && current.cron === input.cron &&
        current.every_s === input.every_s && current.timezone === input.timezone;
      if (same) return current;
      const at = now.toISOString();
      this.#stmt(
        `INSERT INTO schedules (pipeline, cron, every_s, timezone, enabled, anchor, last_tick,
           missed, updated_at)
         VALUES (?, ?, ?, ?, 1, ?, ?, 0, ?)
         ON CONFLICT (pipeline) DO UPDATE SET cron = excluded.cron, every_s = excluded.every_s,
           timezone = excluded.timezone, anchor = excluded.anchor,
           last_tick = max(schedules.last_tick, excluded.last_tick),
           updated_at = excluded.updated_at`,
      ).run(pipeline, input.cron, input.every_s, input.timezone, at, at, at);
      return this.#getSchedule(pipeline);
    });
  }

  async setScheduleEnabled(
    pipeline: string,
    enabled: boolean,
    now: Date,
  ): Promise<ScheduleRecord | null> {
    const at = now.toISOString();
    // Re-enabling moves last_tick to now (never back): a disabled period is not caught up.
    this.#stmt(
      `UPDATE schedules SET enabled = ?, updated_at = ?,
         last_tick = CASE WHEN ? = 1 AND enabled = 0 THEN max(last_tick, ?) ELSE last_tick END
       WHERE pipeline = ?`,
    ).run(enabled ? 1 : 0, at, enabled ? 1 : 0, at, pipeline);
    return this.#getSchedule(pipeline);
  }

  async recordTick(tick: TickInput): Promise<{ recorded: boolean; run: RunRecord | null }> {
    return this.#tx(() => {
      const { changes } = this.#stmt(
        `INSERT OR IGNORE INTO ticks (pipeline, scheduled_at, outcome, run_id, detail, recorded_at)
         VALUES (?, ?, ?, ?, ?, ?)`,
      ).run(
        tick.pipeline,
        tick.scheduled_at,
        tick.outcome,
        tick.run?.run_id ?? null,
        tick.detail ?? null,
        new Date().toISOString(),
      );
      if (Number(changes) === 0) return { recorded: false, run: null };
      this.#stmt(
        "UPDATE schedules SET last_tick = max(last_tick, ?) WHERE pipeline = ?",
      ).run(tick.scheduled_at, tick.pipeline);
      return { recorded: true, run: tick.run ? this.#insertRun(tick.run) : null };
    });
  }

  async skipTicks(pipeline: string, lastTick: string, count: number): Promise<void> {
    this.#stmt(
      "UPDATE schedules SET last_tick = max(last_tick, ?), missed = missed + ? WHERE pipeline = ?",
    ).run(lastTick, count, pipeline);
  }

  async listTicks(pipeline: string, options: { limit?: number } = {}): Promise<TickRecord[]> {
    return this.#stmt(
      "SELECT * FROM ticks WHERE pipeline = ? ORDER BY scheduled_at DESC LIMIT ?",
    ).all(pipeline, count(options.limit ?? DEFAULT_LIMIT)).map((row) =>
      ({ ...row }) as unknown as TickRecord
    );
  }

  // --- dependencies ---

  async setDependencies(pipeline: string, upstreams: string[]): Promise<void> {
    this.#tx(() => {
      this.#stmt("DELETE FROM dependencies WHERE pipeline = ?").run(pipeline);
      const insert = this.#stmt("INSERT INTO dependencies (pipeline, upstream) VALUES (?, ?)");
      for (const upstream of upstreams) insert.run(pipeline, upstream);
    });
  }

  async listDependencies(): Promise<DependencyEdge[]> {
    return this.#stmt("SELECT pipeline, upstream FROM dependencies ORDER BY pipeline, upstream")
      .all().map((row) => ({ ...row }) as unknown as DependencyEdge);
  }

  async listLogicalRun(logicalRun: string): Promise<RunRecord[]> {
    return this.#runs(
      "SELECT * FROM runs WHERE logical_run = ? ORDER BY created_at ASC, run_id ASC",
      logicalRun,
    );
  }

  async createDependencyRun(run: NewRun): Promise<RunRecord | null> {
    try {
      return this.#insertRun(run);
    } catch (err) {
      // The unique index on (logical_run, pipeline) for dependency runs: already triggered.
      if (err instanceof Error && /UNIQUE constraint failed/.test(err.message)) return null;
      throw err;
    }
  }

  async prune(options: { keepRuns: number; keepDays: number; now: Date }): Promise<number> {
    const cutoff = new Date(options.now.getTime() - options.keepDays * 86_400_000).toISOString();
    return this.#tx(() => {
      // Steps and logs go with their runs (ON DELETE CASCADE).
      const { changes } = this.#stmt(
        `DELETE FROM runs WHERE status IN ('success', 'failed', 'timed_out', 'cancelled', 'skipped')
           AND (created_at < ? OR run_id IN (
             SELECT run_id FROM (
               SELECT run_id, row_number() OVER (
                 PARTITION BY pipeline ORDER BY created_at DESC, run_id DESC) AS n
               FROM runs) WHERE n > ?))`,
      ).run(cutoff, count(options.keepRuns));
      this.#stmt("DELETE FROM ticks WHERE scheduled_at < ?").run(cutoff);
      return Number(changes);
    });
  }

  // --- API keys ---

  #getApiKey(id: string): StoredApiKey | null {
    const row = this.#stmt("SELECT * FROM api_keys WHERE id = ?").get(id);
    return row ? { ...row } as unknown as StoredApiKey : null;
  }

  async createApiKey(key: NewApiKey): Promise<ApiKeyRecord> {
    const row = this.#stmt(
      `INSERT INTO api_keys (id, name, scope, hash, created_at) VALUES (?, ?, ?, ?, ?)
       RETURNING *`,
    ).get(key.id, key.name, key.scope, key.hash, key.created_at);
    return toApiKey(row as unknown as StoredApiKey);
  }

  async getApiKey(id: string): Promise<StoredApiKey | null> {
    return this.#getApiKey(id);
  }

  async listApiKeys(): Promise<ApiKeyRecord[]> {
    return this.#stmt("SELECT * FROM api_keys ORDER BY created_at, id").all()
      .map((row) => toApiKey(row as unknown as StoredApiKey));
  }

  async touchApiKey(id: string, now: Date): Promise<void> {
    this.#stmt("UPDATE api_keys SET last_used_at = ? WHERE id = ?").run(now.toISOString(), id);
  }

  async revokeApiKey(id: string, now: Date): Promise<ApiKeyRecord | null> {
    const row = this.#stmt(
      "UPDATE api_keys SET revoked_at = coalesce(revoked_at, ?) WHERE id = ? RETURNING *",
    ).get(now.toISOString(), id);
    return row ? toApiKey(row as unknown as StoredApiKey) : null;
  }

  #queueChanged(): void {
    this.#queueEvents.dispatchEvent(new Event("queued"));
  }

  async watchQueue(listener: () => void): Promise<() => Promise<void>> {
    this.#queueEvents.addEventListener("queued", listener);
    return () => {
      this.#queueEvents.removeEventListener("queued", listener);
      return Promise.resolve();
    };
  }

  async registerWorker(worker: WorkerInput, now: Date): Promise<WorkerRecord> {
    const at = now.toISOString();
    const row = this.#stmt(
      `INSERT INTO workers (id, host, pid, roles, tags, capacity, load, status, started_at,
         heartbeat_at)
       VALUES (?, ?, ?, ?, ?, ?, 0, ?, ?, ?)
       ON CONFLICT (id) DO UPDATE SET host = excluded.host, pid = excluded.pid,
         roles = excluded.roles, tags = excluded.tags, capacity = excluded.capacity,
         status = excluded.status, heartbeat_at = excluded.heartbeat_at
       RETURNING *`,
    ).get(
      worker.id,
      worker.host,
      worker.pid,
      JSON.stringify(worker.roles),
      JSON.stringify(worker.tags),
      worker.capacity,
      worker.status ?? "active",
      at,
      at,
    );
    return toWorker(row as unknown as WorkerRow);
  }

  async heartbeat(
    workerId: string,
    beat: HeartbeatInput,
    now: Date,
    leaseMs: number,
  ): Promise<string[]> {
    return this.#tx(() => {
      this.#stmt("UPDATE workers SET load = ?, status = ?, heartbeat_at = ? WHERE id = ?")
        .run(beat.running.length, beat.status, now.toISOString(), workerId);
      const until = new Date(now.getTime() + leaseMs).toISOString();
      return this.#stmt(
        `UPDATE runs SET lease_expires_at = ? WHERE worker_id = ? AND status = 'running'
           AND run_id IN (SELECT value FROM json_each(?))
         RETURNING run_id`,
      ).all(until, workerId, JSON.stringify(beat.running)).map((r) => String(r.run_id));
    });
  }

  async listWorkers(): Promise<WorkerRecord[]> {
    return this.#stmt("SELECT * FROM workers ORDER BY started_at, id").all()
      .map((row) => toWorker(row as unknown as WorkerRow));
  }

  async claimRuns(request: ClaimRequest): Promise<RunRecord[]> {
    if (request.slots <= 0) return [];
    const claimed = this.#tx(() => {
      const queued = this.#runs(
        `SELECT * FROM runs WHERE status = 'queued'
           AND (pool IS NULL OR pool IN (SELECT value FROM json_each(?)))
         ORDER BY created_at, run_id LIMIT ?`,
        JSON.stringify(request.tags),
        CLAIM_CANDIDATES,
      );
      if (queued.length === 0) return [];
      const running = new Map(
        this.#stmt(
          "SELECT pipeline, count(*) AS n FROM runs WHERE status = 'running' GROUP BY pipeline",
        ).all().map((r) => [String(r.pipeline), Number(r.n)]),
      );
      const concurrency = new Map(
        this.#stmt(
          `SELECT name, json_extract(metadata, '$.concurrency') AS c FROM pipelines
           WHERE name IN (SELECT value FROM json_each(?))`,
        ).all(JSON.stringify([...new Set(queued.map((r) => r.pipeline))]))
          .map((r) => [String(r.name), r.c === null ? null : Number(r.c)]),
      );
      const chosen = request.choose(queued, running, concurrency).slice(0, request.slots);
      const until = new Date(request.now.getTime() + request.lease_ms).toISOString();
      return chosen.map((run) =>
        this.#updateRun(run.run_id, {
          status: "running",
          worker_id: request.worker_id,
          lease_expires_at: until,
        }) as RunRecord
      );
    });
    return claimed;
  }

  async recoverLostRuns(now: Date): Promise<{ requeued: RunRecord[]; failed: RunRecord[] }> {
    const out = this.#tx(() => {
      const lost = this.#runs(
        `SELECT * FROM runs WHERE status = 'running' AND lease_expires_at IS NOT NULL
           AND lease_expires_at < ?`,
        now.toISOString(),
      );
      const requeued: RunRecord[] = [], failed: RunRecord[] = [];
      for (const run of lost) {
        const updated = this.#updateRun(run.run_id, lostRunPatch(run, now)) as RunRecord;
        (updated.status === "queued" ? requeued : failed).push(updated);
      }
      return { requeued, failed };
    });
    if (out.requeued.length > 0) this.#queueChanged();
    return out;
  }

  async releaseRuns(workerId: string, runIds: string[], now: Date): Promise<void> {
    this.#tx(() => {
      for (const runId of runIds) {
        const run = this.#getRun(runId);
        if (!run || run.status !== "running" || run.worker_id !== workerId) continue;
        this.#updateRun(runId, releasedRunPatch(run, now), { worker_id: workerId });
      }
    });
    if (runIds.length > 0) this.#queueChanged();
  }

  async tryLease(name: string, holder: string, now: Date, ttlMs: number): Promise<boolean> {
    const row = this.#stmt(
      `INSERT INTO leases (name, holder, expires_at) VALUES (?, ?, ?)
       ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
         WHERE leases.holder = excluded.holder OR leases.expires_at < ?
       RETURNING holder`,
    ).get(name, holder, new Date(now.getTime() + ttlMs).toISOString(), now.toISOString());
    return row?.holder === holder;
  }

  async releaseLease(name: string, holder: string): Promise<void> {
    this.#stmt("DELETE FROM leases WHERE name = ? AND holder = ?").run(name, holder);
  }
}
