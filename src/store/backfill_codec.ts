/** Backfill rows to records, shared by both store engines so their records agree to the field. */
import type {
  BackfillInstant,
  BackfillRecord,
  InstantCounts,
  NewBackfill,
} from "./backfill_types.ts";
import { INSTANT_STATES } from "./backfill_types.ts";
import { flag, type Row } from "./codec.ts";

/** Listings return at most this many backfills. */
export const MAX_BACKFILL_LIST = 100;

/** The columns of a backfill row, in one order. */
export const BACKFILL_COLUMNS =
  "id, pipeline, from_at, to_at, status, concurrency, rerun, downstream, created_at, finished_at";

/** An instant row joined with its run's status and error (`INSTANT_SELECT`). */
export const INSTANT_SELECT = `SELECT i.backfill_id, i.scheduled_at, i.state, i.run_id,
  i.attempts, r.status AS run_status, r.error AS run_error
  FROM backfill_instants i LEFT JOIN runs r ON r.run_id = i.run_id`;

/** The values of a new backfill's row in {@link BACKFILL_COLUMNS} order. */
export function backfillValues(
  input: NewBackfill,
  now: Date,
): (string | number | boolean | null)[] {
  return [
    input.backfill_id,
    input.pipeline,
    input.from,
    input.to,
    "running",
    input.concurrency,
    input.rerun,
    input.downstream,
    now.toISOString(),
    null,
  ];
}

/** A backfill row with the `state, n` rows of its instants grouped by state. */
export function toBackfill(row: Row, grouped: Row[]): BackfillRecord {
  const counts = Object.fromEntries(INSTANT_STATES.map((s) => [s, 0])) as InstantCounts;
  let total = 0;
  for (const { state, n } of grouped) {
    if (typeof state === "string" && state in counts) {
      counts[state as keyof InstantCounts] = Number(n);
      total += Number(n);
    }
  }
  return {
    backfill_id: row.id as string,
    pipeline: row.pipeline as string,
    from: row.from_at as string,
    to: row.to_at as string,
    status: row.status as BackfillRecord["status"],
    concurrency: Number(row.concurrency),
    rerun: flag(row.rerun),
    downstream: flag(row.downstream),
    total,
    counts,
    created_at: row.created_at as string,
    finished_at: (row.finished_at as string | null) ?? null,
  };
}

export function toInstant(row: Row): BackfillInstant {
  let kind: string | null = null;
  try {
    const error = typeof row.run_error === "string" ? JSON.parse(row.run_error) : null;
    kind = typeof error?.kind === "string" ? error.kind : null;
  } catch { /* not JSON: no kind */ }
  return {
    backfill_id: row.backfill_id as string,
    scheduled_at: row.scheduled_at as string,
    state: row.state as BackfillInstant["state"],
    run_id: (row.run_id as string | null) ?? null,
    attempts: Number(row.attempts),
    run_status: (row.run_status as string | null) ?? null,
    run_error_kind: kind,
  };
}

/** A listing's LIMIT: 20 by default, at most {@link MAX_BACKFILL_LIST}. */
export function listLimit(limit: number | undefined): number {
  if (limit === undefined || !Number.isFinite(limit)) return 20;
  return Math.max(1, Math.min(MAX_BACKFILL_LIST, Math.trunc(limit)));
}
