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
 */

import postgres from "postgres";
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
import { redactUrl } from "./url.ts";

type Param = null | number | string | boolean;
type Row = Record<string, unknown>;

const ALL_STATUSES: readonly RunStatus[] = ["queued", "running", ...TERMINAL_STATUSES];
const DEFAULT_LIMIT = 20;
/** Pool size when the caller gives none. */
export const DEFAULT_POOL_SIZE = 10;

/**
 * First key of Tau's two-key advisory locks ("Tau" in ASCII); the second is per use. Both are
 * transaction-level locks, released by COMMIT or ROLLBACK, so a crashed holder never keeps one.
 */
const LOCK_CLASS = 0x546175;
/** Second key of the migration lock: the schema's name, so installations in other schemas of
 * one database do not wait on each other. */
const MIGRATION_LOCK =
  `SELECT pg_advisory_xact_lock(${LOCK_CLASS}, hashtext(coalesce(current_schema(), '')))`;
/** Second key of a deploy lock: the pipeline's name. */
const DEPLOY_LOCK = `SELECT pg_advisory_xact_lock(${LOCK_CLASS + 1}, hashtext($1))`;
/** Second key of a dependency-list lock: the pipeline's name. */
const DEPENDENCY_LOCK = `SELECT pg_advisory_xact_lock(${LOCK_CLASS + 2}, hashtext($1))`;

// Explicit column lists, in the SQLite tables' order: records have the same key order on both
// engines, and a later `ALTER TABLE` never changes what a cached prepared statement returns.
const PIPELINE_COLUMNS =
  "name, current_version, source_path, schedule, metadata, created_at, updated_at";
const VERSION_COLUMNS = `pipeline, version, hash, filename, code, metadata, created_at, source,
  parent, heal_id, promoted_at`;
const RUN_COLUMNS = `run_id, pipeline, version, status, trigger, params, attempt, max_attempts,
  created_at, started_at, finished_at, duration_ms, result, error, permissions, attempts, pid,
  scheduled_at, logical_run, downstream, exclusive, sandbox, access, pool, worker_id,
  lease_expires_at, diagnosis`;
const WORKER_COLUMNS =
  "id, host, pid, roles, tags, capacity, load, status, started_at, heartbeat_at";
/**
 * Queued runs one claim locks and looks at (oldest first), for `slots` free slots: enough for
 * admission to pass over blocked pipelines, few enough that concurrent claims find others.
 */
const claimWindow = (slots: number) => Math.min(200, slots * 3 + 10);
const STEP_COLUMNS = `run_id, attempt, seq, name, status, started_at, finished_at, duration_ms,
  rows_in, rows_out, metadata, error`;
const LOG_COLUMNS = "run_id, attempt, seq, ts, level, step, message";
const SCHEDULE_COLUMNS =
  "pipeline, cron, every_s, timezone, enabled, anchor, last_tick, missed, updated_at";
const TICK_COLUMNS = "pipeline, scheduled_at, outcome, run_id, detail, recorded_at";
const API_KEY_COLUMNS = "id, name, scope, hash, created_at, last_used_at, revoked_at";
const HEAL_COLUMNS = "id, pipeline, run_id, status, created_at, finished_at, expires_at, record";

/**
 * Type handling for every connection. JSON travels as text both ways: the store encodes before
 * writing and decodes after reading, as the SQLite store does, so the driver must neither
 * re-encode a string (its default would store `"{\"a\":1}"`) nor parse. BIGINT (and count(*))
 * come back as numbers rather than strings; every such column holds integers far below 2^53.
 */
const TYPES = {
  int8: {
    to: 20,
    from: [20],
    serialize: (x: unknown) => String(x),
    parse: (x: string) => Number(x),
  },
  json: {
    to: 114,
    from: [114, 3802],
    serialize: (x: unknown) => typeof x === "string" ? x : JSON.stringify(x),
    parse: (x: string) => x,
  },
};

function connect(url: string, max: number) {
  return postgres(url, {
    max,
    onnotice: () => {}, // "relation already exists, skipping" and the like
    types: TYPES,
    // Nothing here uses array parameters: skip the array-type lookup on every new connection.
    fetch_types: false,
    connect_timeout: 10,
    transform: { undefined: null },
    connection: { application_name: "taud" },
  });
}

type Sql = ReturnType<typeof connect>;
/** The pool or a transaction: anything that can run a query. */
type Db = Pick<Sql, "unsafe">;

function encode(value: unknown): string | null {
  return value === null || value === undefined ? null : JSON.stringify(value);
}

function decode<T>(text: unknown): T | null {
  return text === null || text === undefined ? null : JSON.parse(text as string) as T;
}

/** A LIMIT value: a non-negative integer, or null ("no limit" to PostgreSQL) for +Infinity. */
function count(n: number): number | null {
  if (n === Infinity) return null;
  return Number.isFinite(n) ? Math.max(0, Math.trunc(n)) : 0;
}

/**
 * Free text as PostgreSQL accepts it: TEXT cannot hold NUL, and a lone surrogate has no UTF-8
 * form. Both become U+FFFD (what a UTF-8 encoder makes of a lone surrogate anyway) instead of
 * failing the write, which for logs would lose a whole batch.
 */
function clean(text: string): string {
  return text.toWellFormed().replaceAll("\0", "\uFFFD");
}

function sqlState(err: unknown): string | null {
  return err instanceof postgres.PostgresError ? err.code : null;
}

function toPipeline(row: Row): PipelineRecord {
  return { ...row, metadata: decode(row.metadata) ?? {} } as PipelineRecord;
}

function toVersion(row: Row): PipelineVersion {
  return { ...row, metadata: decode(row.metadata) ?? {} } as PipelineVersion;
}

function toRun(row: Row): RunRecord {
  return {
    ...row,
    params: decode(row.params) ?? {},
    result: decode<Json>(row.result),
    error: decode(row.error),
    permissions: decode<Json>(row.permissions),
    attempts: decode(row.attempts) ?? [],
    sandbox: decode<Json>(row.sandbox),
    access: decode<Json>(row.access),
    diagnosis: decode(row.diagnosis),
  } as RunRecord;
}

function toHeal(row: Row): HealRecord {
  return { ...row, record: decode(row.record) ?? {} } as HealRecord;
}

function toStep(row: Row): StepRecord {
  return { ...row, metadata: decode(row.metadata) ?? {}, error: decode(row.error) } as StepRecord;
}

function toWorker(row: Row): WorkerRecord {
  return { ...row, roles: decode(row.roles) ?? [], tags: decode(row.tags) ?? [] } as WorkerRecord;
}

/** An API key as listed: the digest stays in the database. */
function toApiKey(row: Row): ApiKeyRecord {
  const { hash: _hash, ...record } = row;
  return record as unknown as ApiKeyRecord;
}

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
  }

  /** Runs one statement (prepared, cached per connection) with `$n` parameters. */
  async #query(db: Db, text: string, params: Param[] = []): Promise<Row[]> {
    const result = await db.unsafe(text, params as never[], { prepare: true });
    return [...result] as Row[]; // a plain array, not the driver's Result
  }

  /** Runs `fn` in a transaction on one pooled connection; any throw rolls it back. */
  #tx<T>(fn: (tx: Db) => Promise<T>): Promise<T> {
    return this.#sql.begin((tx) => fn(tx)) as Promise<T>;
  }

  async migrate(): Promise<void> {
    await this.#tx(async (tx) => {
      // Under the lock, in one transaction: concurrent starts serialize here, and whoever comes
      // second re-reads schema_migrations after the first committed and finds nothing to do.
      await tx.unsafe(MIGRATION_LOCK);
      await tx.unsafe(SCHEMA_MIGRATIONS_DDL);
      const rows = await this.#query(tx, "SELECT version FROM schema_migrations");
      const applied = new Set(rows.map((r) => Number(r.version)));
      const latest = MIGRATIONS.at(-1)?.version ?? 0;
      const newest = Math.max(0, ...applied);
      if (newest > latest) {
        throw new TauError(
          "internal",
          `The database ${this.url} has schema version ${newest}; this Tau knows up to ${latest}`,
          { hint: "Upgrade Tau, or point it at another database" },
        );
      }
      for (const migration of MIGRATIONS) {
        if (applied.has(migration.version)) continue;
        await tx.unsafe(migration.sql); // several statements: the simple protocol
        await this.#query(
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

  // --- pipelines ---

  async #getPipeline(db: Db, name: string): Promise<PipelineRecord | null> {
    const [row] = await this.#query(
      db,
      `SELECT ${PIPELINE_COLUMNS} FROM pipelines WHERE name = $1`,
      [name],
    );
    return row ? toPipeline(row) : null;
  }

  async #getVersion(db: Db, name: string, version: number): Promise<PipelineVersion | null> {
    const [row] = await this.#query(
      db,
      `SELECT ${VERSION_COLUMNS} FROM pipeline_versions WHERE pipeline = $1 AND version = $2`,
      [name, version],
    );
    return row ? toVersion(row) : null;
  }

  deploy(input: DeployInput): Promise<DeployOutcome> {
    return this.#tx(async (tx) => {
      // Two deploys of one pipeline would both compute the same next version number.
      await this.#query(tx, DEPLOY_LOCK, [input.name]);
      const now = new Date().toISOString();
      const metadata = JSON.stringify(input.metadata);
      const existing = await this.#getPipeline(tx, input.name);
      const current = existing
        ? await this.#getVersion(tx, input.name, existing.current_version)
        : null;

      if (existing && current && current.hash === input.hash) {
        const [row] = await this.#query(
          tx,
          `UPDATE pipelines SET source_path = $1, schedule = $2, metadata = $3, updated_at = $4
           WHERE name = $5 RETURNING ${PIPELINE_COLUMNS}`,
          [input.source_path, input.schedule, metadata, now, input.name],
        );
        return { pipeline: toPipeline(row as Row), version: current, unchanged: true };
      }

      const version = await this.#nextVersion(tx, input.name);
      // Upsert the pipeline first: the version row's foreign key needs it.
      const [pipeline] = await this.#query(
        tx,
        `INSERT INTO pipelines (name, current_version, source_path, schedule, metadata,
           created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (name) DO UPDATE SET current_version = excluded.current_version,
           source_path = excluded.source_path, schedule = excluded.schedule,
           metadata = excluded.metadata, updated_at = excluded.updated_at
         RETURNING ${PIPELINE_COLUMNS}`,
        [input.name, version, input.source_path, input.schedule, metadata, now, now],
      );
      const created = await this.#insertVersion(
        tx,
        {
          ...input,
          source: input.source ?? "deploy",
          parent: input.parent !== undefined ? input.parent : existing?.current_version ?? null,
        },
        version,
        now,
        true,
      );
      return { pipeline: toPipeline(pipeline as Row), version: created, unchanged: false };
    });
  }

  async #nextVersion(db: Db, name: string): Promise<number> {
    const [row] = await this.#query(
      db,
      "SELECT coalesce(max(version), 0) + 1 AS n FROM pipeline_versions WHERE pipeline = $1",
      [name],
    );
    return Number(row?.n);
  }

  /** Inserts a version made at `now`, current (`promoted`) or a candidate. */
  async #insertVersion(
    db: Db,
    input: NewVersion,
    version: number,
    now: string,
    promoted: boolean,
  ): Promise<PipelineVersion> {
    const [row] = await this.#query(
      db,
      `INSERT INTO pipeline_versions (${VERSION_COLUMNS})
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING ${VERSION_COLUMNS}`,
      [
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
      ],
    );
    return toVersion(row as Row);
  }

  async listVersions(name: string): Promise<PipelineVersion[]> {
    const rows = await this.#query(
      this.#sql,
      `SELECT ${VERSION_COLUMNS} FROM pipeline_versions WHERE pipeline = $1 ORDER BY version`,
      [name],
    );
    return rows.map(toVersion);
  }

  createVersion(input: NewVersion): Promise<PipelineVersion> {
    return this.#tx(async (tx) => {
      // The same lock as deploy: both number a version after the newest.
      await this.#query(tx, DEPLOY_LOCK, [input.name]);
      if (!(await this.#getPipeline(tx, input.name))) {
        throw new TauError("not_found", `Pipeline ${input.name} does not exist`, {
          hint: "deploy it first with tau deploy FILE",
        });
      }
      const now = new Date().toISOString();
      return this.#insertVersion(tx, input, await this.#nextVersion(tx, input.name), now, false);
    });
  }

  promoteVersion(name: string, version: number): Promise<PipelineRecord | null> {
    return this.#tx(async (tx) => {
      await this.#query(tx, DEPLOY_LOCK, [name]);
      const stored = await this.#getVersion(tx, name, version);
      if (!stored) return null;
      const now = new Date().toISOString();
      await this.#query(
        tx,
        "UPDATE pipeline_versions SET promoted_at = $1 WHERE pipeline = $2 AND version = $3",
        [now, name, version],
      );
      const schedule = stored.metadata.schedule;
      const [row] = await this.#query(
        tx,
        `UPDATE pipelines SET current_version = $1, metadata = $2, schedule = $3, updated_at = $4
         WHERE name = $5 RETURNING ${PIPELINE_COLUMNS}`,
        [
          version,
          JSON.stringify(stored.metadata),
          typeof schedule === "string" ? schedule : null,
          now,
          name,
        ],
      );
      return row ? toPipeline(row) : null;
    });
  }

  getPipeline(name: string): Promise<PipelineRecord | null> {
    return this.#getPipeline(this.#sql, name);
  }

  async listPipelines(): Promise<PipelineRecord[]> {
    const rows = await this.#query(
      this.#sql,
      `SELECT ${PIPELINE_COLUMNS} FROM pipelines ORDER BY name`,
    );
    return rows.map(toPipeline);
  }

  getVersion(name: string, version: number): Promise<PipelineVersion | null> {
    return this.#getVersion(this.#sql, name, version);
  }

  async deletePipeline(name: string): Promise<boolean> {
    // Versions, runs (with their steps and logs), schedules, ticks and dependency edges go by
    // ON DELETE CASCADE.
    const rows = await this.#query(
      this.#sql,
      "DELETE FROM pipelines WHERE name = $1 RETURNING name",
      [name],
    );
    return rows.length > 0;
  }

  // --- runs ---

  async #runs(sql: string, params: Param[]): Promise<RunRecord[]> {
    return (await this.#query(this.#sql, sql, params)).map(toRun);
  }

  /**
   * Inserts a run. With `ifAbsent`, a conflict on any unique key (for dependency runs, the
   * partial index on (logical_run, pipeline)) inserts nothing and returns null.
   */
  async #insertRun(db: Db, run: NewRun, ifAbsent = false): Promise<RunRecord | null> {
    const now = new Date().toISOString();
    const skipped = run.status === "skipped";
    try {
      const [row] = await this.#query(
        db,
        `INSERT INTO runs (run_id, pipeline, version, status, trigger, params, attempt,
           max_attempts, created_at, finished_at, duration_ms, result, error, permissions, attempts,
           pid, scheduled_at, logical_run, downstream, exclusive, pool)
         VALUES ($1, $2, $3, $4, $5, $6, 0, $7, $8, $9, $10, NULL, $11, $12, '[]', NULL, $13, $14,
           $15, $16, $17)
         ${ifAbsent ? "ON CONFLICT DO NOTHING" : ""}
         RETURNING ${RUN_COLUMNS}`,
        [
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
          run.downstream ?? false,
          run.exclusive ?? false,
          run.pool ?? null,
        ],
      );
      return row ? toRun(row) : null;
    } catch (err) {
      if (sqlState(err) === "23503") { // foreign_key_violation
        throw new TauError("not_found", `Pipeline ${run.pipeline} does not exist`, { cause: err });
      }
      throw err;
    }
  }

  async createRun(run: NewRun): Promise<RunRecord> {
    return (await this.#insertRun(this.#sql, run)) as RunRecord;
  }

  updateRun(runId: string, patch: RunPatch, guard?: RunGuard): Promise<RunRecord | null> {
    return this.#updateRun(this.#sql, runId, patch, guard);
  }

  async #updateRun(
    db: Db,
    runId: string,
    patch: RunPatch,
    guard?: RunGuard,
  ): Promise<RunRecord | null> {
    const sets: string[] = [];
    const values: Param[] = [];
    for (const column of PATCH_COLUMNS) {
      const value = patch[column];
      if (value === undefined) continue;
      values.push(JSON_COLUMNS.has(column) ? encode(value) : value as Param);
      sets.push(`${column} = $${values.length}`); // column comes from the whitelist
    }
    if (sets.length === 0) return this.getRun(runId);
    const owned = guard ? ` AND worker_id = $${values.length + 2} AND status = 'running'` : "";
    const [row] = await this.#query(
      db,
      `UPDATE runs SET ${sets.join(", ")} WHERE run_id = $${values.length + 1}${owned}
       RETURNING ${RUN_COLUMNS}`,
      [...values, runId, ...(guard ? [guard.worker_id] : [])],
    );
    return row ? toRun(row) : null;
  }

  async getRun(runId: string): Promise<RunRecord | null> {
    const [run] = await this.#runs(`SELECT ${RUN_COLUMNS} FROM runs WHERE run_id = $1`, [runId]);
    return run ?? null;
  }

  async setDiagnosis(runId: string, diagnosis: Record<string, Json> | null): Promise<boolean> {
    const rows = await this.#query(
      this.#sql,
      "UPDATE runs SET diagnosis = $1 WHERE run_id = $2 RETURNING run_id",
      [encode(diagnosis), runId],
    );
    return rows.length > 0;
  }

  // --- heals ---

  async createHeal(heal: NewHeal, now: Date): Promise<HealRecord> {
    try {
      const [row] = await this.#tx(async (tx) => {
        if ((heal.status ?? "running") === "running") {
          await this.#interruptHeals(tx, now, false, heal.pipeline);
        }
        return await this.#query(
          tx,
          `INSERT INTO heals (${HEAL_COLUMNS}) VALUES ($1, $2, $3, $4, $5, NULL, $6, $7)
           RETURNING ${HEAL_COLUMNS}`,
          [
            heal.id,
            heal.pipeline,
            heal.run_id,
            heal.status ?? "running",
            now.toISOString(),
            heal.expires_at ?? null,
            JSON.stringify(heal.record ?? {}),
          ],
        );
      });
      return toHeal(row as Row);
    } catch (err) {
      if (sqlState(err) === "23503") { // foreign_key_violation
        throw new TauError("not_found", `Pipeline ${heal.pipeline} does not exist`, { cause: err });
      }
      if (sqlState(err) === "23505") throw healUnderWay(heal.pipeline, err); // unique_violation
      throw err;
    }
  }

  async interruptHeals(now: Date, options: { all: boolean }): Promise<number> {
    return (await this.#interruptHeals(this.#sql, now, options.all)).length;
  }

  #interruptHeals(db: Db, now: Date, all: boolean, pipeline?: string): Promise<Row[]> {
    const at = now.toISOString();
    return this.#query(
      db,
      `UPDATE heals SET status = 'interrupted', finished_at = $1,
         record = (record::jsonb || jsonb_build_object('error', $2::jsonb))::json
       WHERE status = 'running' AND ($3 OR expires_at < $1)
         AND ($4::text IS NULL OR pipeline = $4) RETURNING id`,
      [at, JSON.stringify(HEAL_INTERRUPTED), all, pipeline ?? null],
    );
  }

  async updateHeal(id: string, patch: HealPatch): Promise<HealRecord | null> {
    // One statement for any patch: a field left out keeps its value.
    const [row] = await this.#query(
      this.#sql,
      `UPDATE heals SET status = coalesce($1, status),
         finished_at = CASE WHEN $2 THEN $3 ELSE finished_at END,
         expires_at = CASE WHEN $4 THEN $5 ELSE expires_at END,
         record = coalesce($6::json, record)
       WHERE id = $7 RETURNING ${HEAL_COLUMNS}`,
      [
        patch.status ?? null,
        patch.finished_at !== undefined,
        patch.finished_at ?? null,
        patch.expires_at !== undefined,
        patch.expires_at ?? null,
        patch.record ? JSON.stringify(patch.record) : null,
        id,
      ],
    );
    return row ? toHeal(row) : null;
  }

  async getHeal(id: string): Promise<HealRecord | null> {
    const [row] = await this.#query(
      this.#sql,
      `SELECT ${HEAL_COLUMNS} FROM heals WHERE id = $1`,
      [id],
    );
    return row ? toHeal(row) : null;
  }

  async listHeals(
    pipeline: string,
    options: { limit?: number; since?: Date } = {},
  ): Promise<HealRecord[]> {
    const rows = await this.#query(
      this.#sql,
      `SELECT ${HEAL_COLUMNS} FROM heals WHERE pipeline = $1 AND created_at >= $2
       ORDER BY created_at DESC, id DESC LIMIT $3`,
      [pipeline, options.since?.toISOString() ?? "", count(options.limit ?? DEFAULT_LIMIT)],
    );
    return rows.map(toHeal);
  }

  listRuns(pipeline: string, options: { limit?: number } = {}): Promise<RunRecord[]> {
    return this.#runs(
      `SELECT ${RUN_COLUMNS} FROM runs WHERE pipeline = $1
       ORDER BY created_at DESC, run_id DESC LIMIT $2`,
      [pipeline, count(options.limit ?? DEFAULT_LIMIT)],
    );
  }

  async listRunsByStatus(statuses: RunStatus[]): Promise<RunRecord[]> {
    if (statuses.length === 0) return [];
    // One statement for any number of statuses: the list travels as a JSON array.
    return await this.#runs(
      `SELECT ${RUN_COLUMNS} FROM runs
       WHERE status IN (SELECT json_array_elements_text($1::json))
       ORDER BY created_at ASC, run_id ASC`,
      [JSON.stringify(statuses)],
    );
  }

  async lastSuccessfulRun(pipeline: string): Promise<RunRecord | null> {
    const [run] = await this.#runs(
      `SELECT ${RUN_COLUMNS} FROM runs WHERE pipeline = $1 AND status = 'success'
       ORDER BY created_at DESC, run_id DESC LIMIT 1`,
      [pipeline],
    );
    return run ?? null;
  }

  async listErrors(
    options: { limit?: number; unresolved?: boolean } = {},
  ): Promise<ErrorRun[]> {
    const rows = await this.#query(
      this.#sql,
      `SELECT * FROM (SELECT ${RUN_COLUMNS}, ${RESOLVED_SQL} AS resolved FROM runs
         WHERE status IN ('failed', 'timed_out')) errors
       WHERE NOT $1 OR NOT resolved
       ORDER BY created_at DESC, run_id DESC LIMIT $2`,
      [options.unresolved ?? false, count(options.limit ?? DEFAULT_LIMIT)],
    );
    return rows.map((row) => ({ ...toRun(row), resolved: row.resolved === true }));
  }

  // --- steps and logs ---

  async saveStep(step: StepRecord): Promise<void> {
    await this.#query(
      this.#sql,
      `INSERT INTO steps (${STEP_COLUMNS})
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
       ON CONFLICT (run_id, attempt, seq) DO UPDATE SET name = excluded.name,
         status = excluded.status, started_at = excluded.started_at,
         finished_at = excluded.finished_at, duration_ms = excluded.duration_ms,
         rows_in = excluded.rows_in, rows_out = excluded.rows_out,
         metadata = excluded.metadata, error = excluded.error`,
      [
        step.run_id,
        step.attempt,
        step.seq,
        clean(step.name),
        step.status,
        step.started_at,
        step.finished_at,
        step.duration_ms,
        step.rows_in,
        step.rows_out,
        JSON.stringify(step.metadata),
        encode(step.error),
      ],
    );
  }

  async listSteps(runId: string, attempt?: number): Promise<StepRecord[]> {
    const rows = attempt === undefined
      ? await this.#query(
        this.#sql,
        `SELECT ${STEP_COLUMNS} FROM steps WHERE run_id = $1 ORDER BY attempt, seq`,
        [runId],
      )
      : await this.#query(
        this.#sql,
        `SELECT ${STEP_COLUMNS} FROM steps WHERE run_id = $1 AND attempt = $2 ORDER BY seq`,
        [runId, attempt],
      );
    return rows.map(toStep);
  }

  async appendLogs(logs: LogRecord[]): Promise<void> {
    if (logs.length === 0) return;
    // The whole batch is one statement (one parameter, whatever its size). DO NOTHING:
    // (run_id, seq) identifies a line, so re-sending a batch is harmless.
    const batch = logs.map((log) => ({
      run_id: log.run_id,
      attempt: log.attempt,
      seq: log.seq,
      ts: log.ts,
      level: log.level,
      step: log.step === null ? null : clean(log.step),
      message: clean(log.message),
    }));
    await this.#query(
      this.#sql,
      `INSERT INTO logs (${LOG_COLUMNS})
       SELECT ${LOG_COLUMNS} FROM json_to_recordset($1::json) AS batch(run_id text,
         attempt integer, seq bigint, ts text, level text, step text, message text)
       ON CONFLICT (run_id, seq) DO NOTHING`,
      [JSON.stringify(batch)],
    );
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
    const rows = options.tail !== undefined
      ? await this.#query(
        this.#sql,
        `SELECT ${LOG_COLUMNS} FROM (SELECT ${LOG_COLUMNS} FROM logs
           WHERE run_id = $1 AND seq > $2 ORDER BY seq DESC LIMIT $3) AS tail ORDER BY seq ASC`,
        [runId, after, count(Math.min(options.tail, options.limit ?? Infinity))],
      )
      : await this.#query(
        this.#sql,
        `SELECT ${LOG_COLUMNS} FROM logs WHERE run_id = $1 AND seq > $2 ORDER BY seq ASC
         LIMIT $3`,
        [runId, after, options.limit === undefined ? null : count(options.limit)],
      );
    return rows.map((row) => ({ ...row }) as unknown as LogRecord);
  }

  async stats(): Promise<StoreStats> {
    const [pipelines] = await this.#query(this.#sql, "SELECT count(*) AS n FROM pipelines");
    const runs = Object.fromEntries(ALL_STATUSES.map((s) => [s, 0])) as Record<RunStatus, number>;
    const rows = await this.#query(
      this.#sql,
      "SELECT status, count(*) AS n FROM runs GROUP BY status",
    );
    for (const row of rows) {
      if (typeof row.status === "string" && row.status in runs) {
        runs[row.status as RunStatus] = row.n as number;
      }
    }
    return { pipelines: pipelines?.n as number, runs };
  }

  // --- schedules and ticks ---

  async #getSchedule(db: Db, pipeline: string, lock = false): Promise<ScheduleRecord | null> {
    const [row] = await this.#query(
      db,
      `SELECT ${SCHEDULE_COLUMNS} FROM schedules WHERE pipeline = $1${lock ? " FOR UPDATE" : ""}`,
      [pipeline],
    );
    return (row ?? null) as ScheduleRecord | null;
  }

  getSchedule(pipeline: string): Promise<ScheduleRecord | null> {
    return this.#getSchedule(this.#sql, pipeline);
  }

  async listSchedules(): Promise<ScheduleRecord[]> {
    const rows = await this.#query(
      this.#sql,
      `SELECT ${SCHEDULE_COLUMNS} FROM schedules ORDER BY pipeline`,
    );
    return rows as unknown as ScheduleRecord[];
  }

  setSchedule(
    pipeline: string,
    input: ScheduleInput | null,
    now: Date,
  ): Promise<ScheduleRecord | null> {
    return this.#tx(async (tx) => {
      if (input === null) {
        await this.#query(tx, "DELETE FROM schedules WHERE pipeline = $1", [pipeline]);
        return null;
      }
      const current = await this.#getSchedule(tx, pipeline, true);
      const same = current && current.cron === input.cron &&
        current.every_s === input.every_s && current.timezone === input.timezone;
      if (same) return current;
      const at = now.toISOString();
      const [row] = await this.#query(
        tx,
        `INSERT INTO schedules (pipeline, cron, every_s, timezone, enabled, anchor, last_tick,
           missed, updated_at)
         VALUES ($1, $2, $3, $4, true, $5, $5, 0, $5)
         ON CONFLICT (pipeline) DO UPDATE SET cron = excluded.cron, every_s = excluded.every_s,
           timezone = excluded.timezone, anchor = excluded.anchor,
           last_tick = GREATEST(schedules.last_tick, excluded.last_tick),
           updated_at = excluded.updated_at
         RETURNING ${SCHEDULE_COLUMNS}`,
        [pipeline, input.cron, input.every_s, input.timezone, at],
      );
      return (row ?? null) as ScheduleRecord | null;
    });
  }

  async setScheduleEnabled(
    pipeline: string,
    enabled: boolean,
    now: Date,
  ): Promise<ScheduleRecord | null> {
    // Re-enabling moves last_tick to now (never back): a disabled period is not caught up.
    const [row] = await this.#query(
      this.#sql,
      `UPDATE schedules SET enabled = $1, updated_at = $2,
         last_tick = CASE WHEN $1 AND NOT enabled THEN GREATEST(last_tick, $2) ELSE last_tick END
       WHERE pipeline = $3
       RETURNING ${SCHEDULE_COLUMNS}`,
      [enabled, now.toISOString(), pipeline],
    );
    return (row ?? null) as ScheduleRecord | null;
  }

  recordTick(tick: TickInput): Promise<{ recorded: boolean; run: RunRecord | null }> {
    return this.#tx(async (tx) => {
      // A second process inserting the same instant waits here on the first one's uncommitted
      // row, then inserts nothing once it commits (or takes over if it rolled back).
      const inserted = await this.#query(
        tx,
        `INSERT INTO ticks (pipeline, scheduled_at, outcome, run_id, detail, recorded_at)
         VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (pipeline, scheduled_at) DO NOTHING RETURNING pipeline`,
        [
          tick.pipeline,
          tick.scheduled_at,
          tick.outcome,
          tick.run?.run_id ?? null,
          tick.detail ?? null,
          new Date().toISOString(),
        ],
      );
      if (inserted.length === 0) return { recorded: false, run: null };
      await this.#query(
        tx,
        "UPDATE schedules SET last_tick = GREATEST(last_tick, $1) WHERE pipeline = $2",
        [tick.scheduled_at, tick.pipeline],
      );
      return { recorded: true, run: tick.run ? await this.#insertRun(tx, tick.run) : null };
    });
  }

  async skipTicks(pipeline: string, lastTick: string, count: number): Promise<void> {
    await this.#query(
      this.#sql,
      `UPDATE schedules SET last_tick = GREATEST(last_tick, $1), missed = missed + $2
       WHERE pipeline = $3`,
      [lastTick, count, pipeline],
    );
  }

  async listTicks(pipeline: string, options: { limit?: number } = {}): Promise<TickRecord[]> {
    const rows = await this.#query(
      this.#sql,
      `SELECT ${TICK_COLUMNS} FROM ticks WHERE pipeline = $1 ORDER BY scheduled_at DESC LIMIT $2`,
      [pipeline, count(options.limit ?? DEFAULT_LIMIT)],
    );
    return rows as unknown as TickRecord[];
  }

  // --- dependencies ---

  async setDependencies(pipeline: string, upstreams: string[]): Promise<void> {
    await this.#tx(async (tx) => {
      // Two replacements at once would both delete, then both insert the same edges.
      await this.#query(tx, DEPENDENCY_LOCK, [pipeline]);
      await this.#query(tx, "DELETE FROM dependencies WHERE pipeline = $1", [pipeline]);
      if (upstreams.length === 0) return;
      await this.#query(
        tx,
        `INSERT INTO dependencies (pipeline, upstream)
         SELECT $1, upstream FROM json_array_elements_text($2::json) AS edge(upstream)`,
        [pipeline, JSON.stringify(upstreams)],
      );
    });
  }

  async listDependencies(): Promise<DependencyEdge[]> {
    const rows = await this.#query(
      this.#sql,
      "SELECT pipeline, upstream FROM dependencies ORDER BY pipeline, upstream",
    );
    return rows as unknown as DependencyEdge[];
  }

  listLogicalRun(logicalRun: string): Promise<RunRecord[]> {
    return this.#runs(
      `SELECT ${RUN_COLUMNS} FROM runs WHERE logical_run = $1
       ORDER BY created_at ASC, run_id ASC`,
      [logicalRun],
    );
  }

  createDependencyRun(run: NewRun): Promise<RunRecord | null> {
    // The partial unique index on (logical_run, pipeline) for dependency runs decides, in the
    // database, which of several evaluations creates the run; the others get null.
    return this.#insertRun(this.#sql, run, true);
  }

  prune(options: { keepRuns: number; keepDays: number; now: Date }): Promise<number> {
    const cutoff = new Date(options.now.getTime() - options.keepDays * 86_400_000).toISOString();
    return this.#tx(async (tx) => {
      // Steps and logs go with their runs (ON DELETE CASCADE).
      const deleted = await this.#query(
        tx,
        `DELETE FROM runs
         WHERE status IN ('success', 'failed', 'timed_out', 'cancelled', 'skipped')
           AND (created_at < $1 OR run_id IN (
             SELECT run_id FROM (
               SELECT run_id, row_number() OVER (
                 PARTITION BY pipeline ORDER BY created_at DESC, run_id DESC) AS n
               FROM runs) AS ranked
             WHERE n > $2))
         RETURNING run_id`,
        [cutoff, count(options.keepRuns)],
      );
      await this.#query(tx, "DELETE FROM ticks WHERE scheduled_at < $1", [cutoff]);
      return deleted.length;
    });
  }

  // --- API keys ---

  async createApiKey(key: NewApiKey): Promise<ApiKeyRecord> {
    const [row] = await this.#query(
      this.#sql,
      `INSERT INTO api_keys (id, name, scope, hash, created_at) VALUES ($1, $2, $3, $4, $5)
       RETURNING ${API_KEY_COLUMNS}`,
      [key.id, key.name, key.scope, key.hash, key.created_at],
    );
    return toApiKey(row as Row);
  }

  async getApiKey(id: string): Promise<StoredApiKey | null> {
    const [row] = await this.#query(
      this.#sql,
      `SELECT ${API_KEY_COLUMNS} FROM api_keys WHERE id = $1`,
      [id],
    );
    return (row ?? null) as StoredApiKey | null;
  }

  async listApiKeys(): Promise<ApiKeyRecord[]> {
    const rows = await this.#query(
      this.#sql,
      `SELECT ${API_KEY_COLUMNS} FROM api_keys ORDER BY created_at, id`,
    );
    return rows.map(toApiKey);
  }

  async touchApiKey(id: string, now: Date): Promise<void> {
    await this.#query(this.#sql, "UPDATE api_keys SET last_used_at = $1 WHERE id = $2", [
      now.toISOString(),
      id,
    ]);
  }

  async revokeApiKey(id: string, now: Date): Promise<ApiKeyRecord | null> {
    const [row] = await this.#query(
      this.#sql,
      `UPDATE api_keys SET revoked_at = coalesce(revoked_at, $1) WHERE id = $2
       RETURNING ${API_KEY_COLUMNS}`,
      [now.toISOString(), id],
    );
    return row ? toApiKey(row) : null;
  }

  // --- workers, the queue and leases ---

  async registerWorker(worker: WorkerInput, now: Date): Promise<WorkerRecord> {
    const at = now.toISOString();
    const [row] = await this.#query(
      this.#sql,
      `INSERT INTO workers (${WORKER_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, 0, $7, $8, $8)
       ON CONFLICT (id) DO UPDATE SET host = EXCLUDED.host, pid = EXCLUDED.pid,
         roles = EXCLUDED.roles, tags = EXCLUDED.tags, capacity = EXCLUDED.capacity,
         status = EXCLUDED.status, heartbeat_at = EXCLUDED.heartbeat_at
       RETURNING ${WORKER_COLUMNS}`,
      [
        worker.id,
        worker.host,
        worker.pid,
        JSON.stringify(worker.roles),
        JSON.stringify(worker.tags),
        worker.capacity,
        worker.status ?? "active",
        at,
      ],
    );
    return toWorker(row as Row);
  }

  async heartbeat(
    workerId: string,
    beat: HeartbeatInput,
    now: Date,
    leaseMs: number,
  ): Promise<string[]> {
    return await this.#tx(async (tx) => {
      await this.#query(
        tx,
        "UPDATE workers SET load = $1, status = $2, heartbeat_at = $3 WHERE id = $4",
        [beat.running.length, beat.status, now.toISOString(), workerId],
      );
      const rows = await this.#query(
        tx,
        `UPDATE runs SET lease_expires_at = $1 WHERE worker_id = $2 AND status = 'running'
           AND run_id IN (SELECT json_array_elements_text($3::json))
         RETURNING run_id`,
        [new Date(now.getTime() + leaseMs).toISOString(), workerId, JSON.stringify(beat.running)],
      );
      return rows.map((r) => String(r.run_id));
    });
  }

  async listWorkers(): Promise<WorkerRecord[]> {
    return (await this.#query(
      this.#sql,
      `SELECT ${WORKER_COLUMNS} FROM workers ORDER BY started_at, id`,
    )).map(toWorker);
  }

  async claimRuns(request: ClaimRequest): Promise<RunRecord[]> {
    if (request.slots <= 0) return [];
    return await this.#tx(async (tx) => {
      // Candidates another worker is claiming right now are skipped, not waited for.
      const queued = (await this.#query(
        tx,
        `SELECT ${RUN_COLUMNS} FROM runs WHERE status = 'queued'
           AND (pool IS NULL OR pool IN (SELECT json_array_elements_text($1::json)))
         ORDER BY created_at, run_id LIMIT $2 FOR UPDATE SKIP LOCKED`,
        [JSON.stringify(request.tags), claimWindow(request.slots)],
      )).map(toRun);
      if (queued.length === 0) return [];
      const names = JSON.stringify([...new Set(queued.map((r) => r.pipeline))]);
      const limits = await this.#query(
        tx,
        `SELECT name, metadata->>'concurrency' AS concurrency, metadata->>'overlap' AS overlap
         FROM pipelines WHERE name IN (SELECT json_array_elements_text($1::json))`,
        [names],
      );
      // Pipelines whose runs limit each other are claimed one worker at a time: their rows are
      // locked, so the running counts below cannot change until this claim commits.
      const guarded = limits.filter((p) => p.concurrency !== null || p.overlap === "queue")
        .map((p) => String(p.name)).sort();
      if (guarded.length > 0) {
        await this.#query(
          tx,
          `SELECT name FROM pipelines WHERE name IN (SELECT json_array_elements_text($1::json))
           ORDER BY name FOR UPDATE`,
          [JSON.stringify(guarded)],
        );
      }
      const running = new Map(
        (await this.#query(
          tx,
          `SELECT pipeline, count(*) AS n FROM runs WHERE status = 'running'
             AND pipeline IN (SELECT json_array_elements_text($1::json)) GROUP BY pipeline`,
          [names],
        )).map((r) => [String(r.pipeline), Number(r.n)]),
      );
      const concurrency = new Map(
        limits.map((p) => [String(p.name), p.concurrency === null ? null : Number(p.concurrency)]),
      );
      const chosen = request.choose(queued, running, concurrency).slice(0, request.slots);
      if (chosen.length === 0) return [];
      return (await this.#query(
        tx,
        `UPDATE runs SET status = 'running', worker_id = $1, lease_expires_at = $2
         WHERE run_id IN (SELECT json_array_elements_text($3::json))
         RETURNING ${RUN_COLUMNS}`,
        [
          request.worker_id,
          new Date(request.now.getTime() + request.lease_ms).toISOString(),
          JSON.stringify(chosen.map((r) => r.run_id)),
        ],
      )).map(toRun).sort((a, b) =>
        a.created_at.localeCompare(b.created_at) || a.run_id.localeCompare(b.run_id)
      );
    });
  }

  async recoverLostRuns(now: Date): Promise<{ requeued: RunRecord[]; failed: RunRecord[] }> {
    return await this.#tx(async (tx) => {
      const lost = (await this.#query(
        tx,
        `SELECT ${RUN_COLUMNS} FROM runs WHERE status = 'running'
           AND lease_expires_at IS NOT NULL AND lease_expires_at < $1
         FOR UPDATE SKIP LOCKED`,
        [now.toISOString()],
      )).map(toRun);
      const requeued: RunRecord[] = [], failed: RunRecord[] = [];
      for (const run of lost) {
        const updated = await this.#updateRun(tx, run.run_id, lostRunPatch(run, now)) as RunRecord;
        (updated.status === "queued" ? requeued : failed).push(updated);
      }
      return { requeued, failed };
    });
  }

  async releaseRuns(workerId: string, runIds: string[], now: Date): Promise<void> {
    await this.#tx(async (tx) => {
      for (const runId of runIds) {
        const [row] = await this.#query(
          tx,
          `SELECT ${RUN_COLUMNS} FROM runs WHERE run_id = $1 AND worker_id = $2
             AND status = 'running' FOR UPDATE`,
          [runId, workerId],
        );
        if (!row) continue;
        await this.#updateRun(tx, runId, releasedRunPatch(toRun(row), now), {
          worker_id: workerId,
        });
      }
    });
  }

  async tryLease(name: string, holder: string, now: Date, ttlMs: number): Promise<boolean> {
    const [row] = await this.#query(
      this.#sql,
      `INSERT INTO leases (name, holder, expires_at) VALUES ($1, $2, $3)
       ON CONFLICT (name) DO UPDATE SET holder = EXCLUDED.holder, expires_at = EXCLUDED.expires_at
         WHERE leases.holder = EXCLUDED.holder OR leases.expires_at < $4
       RETURNING holder`,
      [name, holder, new Date(now.getTime() + ttlMs).toISOString(), now.toISOString()],
    );
    return row?.holder === holder;
  }

  async releaseLease(name: string, holder: string): Promise<void> {
    await this.#query(this.#sql, "DELETE FROM leases WHERE name = $1 AND holder = $2", [
      name,
      holder,
    ]);
  }

  async watchQueue(listener: () => void): Promise<() => Promise<void>> {
    // postgres.js keeps one dedicated connection for LISTEN and re-listens after reconnecting.
    const { unlisten } = await this.#sql.listen("tau_queue", () => listener());
    return unlisten;
  }
}
