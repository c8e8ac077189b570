/** The run columns both store engines share: what `updateRun` may set, and which hold JSON. */
import { encode } from "./codec.ts";
import type { NewRun, RunPatch } from "./types.ts";

/** The only columns `updateRun` may set, in a fixed order (one cached statement per key set). */
export const PATCH_COLUMNS = [
  "status",
  "attempt",
  "started_at",
  "finished_at",
  "duration_ms",
  "result",
  "error",
  "permissions",
  "attempts",
  "pid",
  "sandbox",
  "access",
  "worker_id",
  "lease_expires_at",
  "max_attempts",
] as const satisfies readonly (keyof RunPatch)[];
const JSON_COLUMNS: ReadonlySet<string> = new Set([
  "result",
  "error",
  "permissions",
  "attempts",
  "sandbox",
  "access",
]);

/**
 * What `updateRun` sets: the patch's columns in `PATCH_COLUMNS` order with their values as
 * stored (JSON columns encoded). Each engine writes its own placeholders around them.
 */
export function patchValues(patch: RunPatch): [column: string, value: null | number | string][] {
  const out: [string, null | number | string][] = [];
  for (const column of PATCH_COLUMNS) {
    const value = patch[column];
    if (value === undefined) continue;
    out.push([column, JSON_COLUMNS.has(column) ? encode(value) : value as null | number | string]);
  }
  return out;
}

/**
 * Whether a later run (in created order, ties by run id, as every listing sorts) of the same
 * pipeline succeeded, for a row of `runs`: one expression both engines evaluate alike.
 */
export const RESOLVED_SQL = `EXISTS (SELECT 1 FROM runs s WHERE s.pipeline = runs.pipeline
  AND s.status = 'success' AND (s.created_at > runs.created_at
    OR (s.created_at = runs.created_at AND s.run_id > runs.run_id)))`;

/**
 * A new run's columns and values as stored (queued, or skipped and finished at once), in one
 * order. Flags are booleans: PostgreSQL stores them as they are, SQLite as 0/1.
 */
export function newRunValues(run: NewRun, now: string): [column: string, value: Param][] {
  const skipped = run.status === "skipped";
  return [
    ["run_id", run.run_id],
    ["pipeline", run.pipeline],
    ["version", run.version],
    ["status", skipped ? "skipped" : "queued"],
    ["trigger", run.trigger],
    ["params", JSON.stringify(run.params)],
    ["attempt", 0],
    ["max_attempts", run.max_attempts],
    ["created_at", now],
    ["finished_at", skipped ? now : null],
    ["duration_ms", skipped ? 0 : null],
    ["result", null],
    ["error", encode(run.error ?? null)],
    ["permissions", encode(run.permissions)],
    ["attempts", "[]"],
    ["pid", null],
    ["scheduled_at", run.scheduled_at ?? null],
    ["logical_run", run.logical_run ?? null],
    ["downstream", run.downstream ?? false],
    ["exclusive", run.exclusive ?? false],
    ["pool", run.pool ?? null],
  ];
}

type Param = null | number | string | boolean;
