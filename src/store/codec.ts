/**
 * Rows to records, shared by both store engines so their records agree to the field. Both keep
 * JSON columns as text (encoded before writing, decoded after reading) and return the columns
 * in one order; they differ only in flags, which SQLite stores as 0/1 and PostgreSQL as BOOLEAN.
 */
import {
  type ApiKeyRecord,
  type CurrentVersion,
  type ErrorRun,
  type HealRecord,
  type Json,
  type NewVersion,
  type PipelineRecord,
  type PipelineVersion,
  type RunRecord,
  type RunStatus,
  type ScheduleRecord,
  type StepRecord,
  type StoreStats,
  TERMINAL_STATUSES,
  type TickInput,
  type WorkerRecord,
} from "./types.ts";

/** A row as either driver returns it, JSON columns still text. */
export type Row = Record<string, unknown>;

/** Rows a listing returns when the caller gives no `limit`. */
export const DEFAULT_LIMIT = 20;

const ALL_STATUSES: readonly RunStatus[] = ["queued", "running", ...TERMINAL_STATUSES];

/** A JSON column's text; null stays SQL NULL. */
export function encode(value: unknown): string | null {
  return value === null || value === undefined ? null : JSON.stringify(value);
}

/** A JSON column's value; SQL NULL is null. */
export function decode<T>(text: unknown): T | null {
  return text === null || text === undefined ? null : JSON.parse(text as string) as T;
}

/** A flag column: SQLite's 0/1 or PostgreSQL's BOOLEAN. */
export function flag(value: unknown): boolean {
  return value === true || value === 1;
}

/** A pipeline row joined with its current version's `current_hash`. */
export function toCurrentVersion(row: Row): CurrentVersion {
  const { current_hash, ...pipeline } = row;
  return { pipeline: toPipeline(pipeline), hash: (current_hash as string | null) ?? null };
}

export function toPipeline(row: Row): PipelineRecord {
  return { ...row, metadata: decode(row.metadata) ?? {} } as PipelineRecord;
}

export function toVersion(row: Row): PipelineVersion {
  return { ...row, metadata: decode(row.metadata) ?? {} } as PipelineVersion;
}

export function toRun(row: Row): RunRecord {
  return {
    ...row,
    params: decode(row.params) ?? {},
    result: decode<Json>(row.result),
    error: decode(row.error),
    permissions: decode<Json>(row.permissions),
    attempts: decode(row.attempts) ?? [],
    downstream: flag(row.downstream),
    exclusive: flag(row.exclusive),
    sandbox: decode<Json>(row.sandbox),
    access: decode<Json>(row.access),
    diagnosis: decode(row.diagnosis),
  } as RunRecord;
}

/** A run row with its computed `resolved` column (`RESOLVED_SQL`). */
export function toErrorRun(row: Row): ErrorRun {
  return { ...toRun(row), resolved: flag(row.resolved) };
}

export function toStep(row: Row): StepRecord {
  return { ...row, metadata: decode(row.metadata) ?? {}, error: decode(row.error) } as StepRecord;
}

export function toHeal(row: Row): HealRecord {
  return { ...row, record: decode(row.record) ?? {} } as HealRecord;
}

export function toSchedule(row: Row): ScheduleRecord {
  return { ...row, enabled: flag(row.enabled) } as ScheduleRecord;
}

export function toWorker(row: Row): WorkerRecord {
  return { ...row, roles: decode(row.roles) ?? [], tags: decode(row.tags) ?? [] } as WorkerRecord;
}

/** An API key as listed: the digest stays in the database. */
export function toApiKey(row: Row): ApiKeyRecord {
  const { hash: _hash, ...record } = row;
  return record as unknown as ApiKeyRecord;
}

/** `stats()` from the pipeline count and `SELECT status, count(*) AS n … GROUP BY status`. */
export function toStats(pipelines: number, byStatus: Row[]): StoreStats {
  const runs = Object.fromEntries(ALL_STATUSES.map((s) => [s, 0])) as Record<RunStatus, number>;
  for (const row of byStatus) {
    if (typeof row.status === "string" && row.status in runs) {
      runs[row.status as RunStatus] = row.n as number;
    }
  }
  return { pipelines, runs };
}

/**
 * What scheduleStamp reads. A change moves the count (created, removed), the enabled count, or the
 * newest anchor or update time (the change's own time), so it shows unless two offsetting changes
 * share one millisecond; the scheduler's periodic full pass catches those.
 */
export const SCHEDULE_STAMP_SQL =
  "SELECT count(*) AS n, count(*) FILTER (WHERE enabled) AS on_, max(anchor) AS anchor, max(updated_at) AS at FROM schedules";

/** The columns of a tick row in {@link TICK_INSERT_COLUMNS} order (both engines write these). */
export function tickValues(tick: TickInput): (string | null)[] {
  return [
    tick.pipeline,
    tick.scheduled_at,
    tick.outcome,
    tick.run?.run_id ?? null,
    tick.detail ?? null,
    new Date().toISOString(),
  ];
}
export const TICK_INSERT_COLUMNS = "pipeline, scheduled_at, outcome, run_id, detail, recorded_at";

/** A new version's columns and values as stored, in one order (both engines write these). */
export function newVersionValues(
  input: NewVersion,
  version: number,
  now: string,
  promoted: boolean,
): [column: string, value: string | number | null][] {
  return [
    ["pipeline", input.name],
    ["version", version],
    ["hash", input.hash],
    ["filename", input.filename],
    ["code", input.code],
    ["metadata", JSON.stringify(input.metadata)],
    ["created_at", now],
    ["source", input.source],
    ["parent", input.parent],
    ["heal_id", input.heal_id ?? null],
    ["promoted_at", promoted ? now : null],
  ];
}
