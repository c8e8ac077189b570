/**
 * Backfills in the store contract: one record per `tau backfill`, and one row per scheduled
 * instant it covers. Both engines implement {@link BackfillStore} (tests/store/backfill_contract.ts).
 * Records are snake_case because they are the wire shape the CLI and API print.
 */
import type { NewRun } from "./records.ts";

export type BackfillStatus = "running" | "completed" | "failed" | "cancelled";

/**
 * Where one instant of a backfill is: `pending` (no run yet), `active` (its run is queued or
 * running), `succeeded` / `failed` (how its run ended), `skipped` (a successful run at that
 * instant already existed), `cancelled` (the backfill was cancelled before it ran).
 */
export type InstantState =
  | "pending"
  | "active"
  | "succeeded"
  | "failed"
  | "skipped"
  | "cancelled";

export const INSTANT_STATES: readonly InstantState[] = [
  "pending",
  "active",
  "succeeded",
  "failed",
  "skipped",
  "cancelled",
];

/** How many instants are in each state. */
export type InstantCounts = Record<InstantState, number>;

export interface BackfillRecord {
  backfill_id: string;
  pipeline: string;
  /** The range: instants t with from <= t < to. */
  from: string;
  to: string;
  status: BackfillStatus;
  /** At most this many of its runs queued or running at once. */
  concurrency: number;
  /** Instants that already had a successful run are run again. */
  rerun: boolean;
  /** Its runs trigger the pipelines downstream (one logical run per instant). */
  downstream: boolean;
  /** How many instants it covers. */
  total: number;
  counts: InstantCounts;
  created_at: string;
  finished_at: string | null;
}

export interface NewBackfill {
  backfill_id: string;
  pipeline: string;
  from: string;
  to: string;
  concurrency: number;
  rerun: boolean;
  downstream: boolean;
  /** Oldest first; each `pending`, or `skipped` when it already has a successful run. */
  instants: { scheduled_at: string; state: "pending" | "skipped" }[];
}

/** One instant of a backfill, with the status of its run when it has one. */
export interface BackfillInstant {
  backfill_id: string;
  scheduled_at: string;
  state: InstantState;
  run_id: string | null;
  /** Runs made for it: more than 1 only when a run was lost to a daemon or worker crash. */
  attempts: number;
  /** The current status of `run_id` (null when it has none, or the run was deleted). */
  run_status: string | null;
  /** The run's error kind, when it has ended with one. */
  run_error_kind: string | null;
}

/** What starting one pending instant did. */
export type StartOutcome =
  /** Its run was created (in the same transaction as the instant became active). */
  | "started"
  /** A successful run at that instant exists (and the backfill does not rerun): skipped. */
  | "skipped"
  /** It was not pending any more (another driver took it, or the backfill was cancelled). */
  | "taken";

/** What an active instant can become. */
export type SettledState = "succeeded" | "failed" | "cancelled" | "pending";

export interface BackfillListOptions {
  pipeline?: string;
  statuses?: BackfillStatus[];
  /** Only running backfills and those with an active instant, oldest first. */
  live?: boolean;
  /** @default {20} (at most 100) */
  limit?: number;
}

export interface BackfillStore {
  /** Stores a backfill with its instants, in one transaction; `not_found` without the pipeline. */
  create(input: NewBackfill, now: Date): Promise<BackfillRecord>;
  get(id: string): Promise<BackfillRecord | null>;
  /**
   * Newest first; of one pipeline, or in some statuses. With `live`, only those the driver has
   * work on (running, or with an active instant), oldest first.
   */
  list(options?: BackfillListOptions): Promise<BackfillRecord[]>;
  /** Its instants oldest first, those in `states` (all by default), at most `limit`. */
  instants(
    id: string,
    options?: { states?: InstantState[]; limit?: number },
  ): Promise<BackfillInstant[]>;
  /**
   * The instants in [from, to) at which the pipeline has a successful run (any trigger).
   */
  succeededAt(pipeline: string, from: string, to: string): Promise<string[]>;
  /**
   * Starts a pending instant of a running backfill: the instant becomes `active` with the run,
   * and the run is inserted, in one transaction, so a crash never leaves one without the other.
   * Without `rerun`, an instant with a successful run of the pipeline already is `skipped`.
   */
  start(id: string, scheduledAt: string, run: NewRun, rerun: boolean): Promise<StartOutcome>;
  /**
   * Records how an active instant's run ended (`succeeded`, `failed`, `cancelled`), or puts it
   * back to
   * `pending` (its run was lost to a crash and is to be made again). False when it was not
   * active.
   */
  settle(id: string, scheduledAt: string, state: SettledState): Promise<boolean>;
  /**
   * Ends a running backfill (`completed`, `failed` or `cancelled`; cancelling also marks its
   * pending instants `cancelled`). Null when there is no such backfill; unchanged when it had
   * ended already.
   */
  finish(id: string, status: Exclude<BackfillStatus, "running">, now: Date): Promise<
    BackfillRecord | null
  >;
}
