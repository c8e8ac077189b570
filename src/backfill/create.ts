/**
 * `tau backfill NAME --from T1 --to T2`: works out the instants of the pipeline's schedule in the
 * range, which of them already succeeded, and (unless it is a dry run) stores the backfill for
 * the driver to run.
 */
import { TauError } from "../core/errors.ts";
import { specError } from "../scheduler/fire_times.ts";
import { specOf } from "../scheduler/schedule_times.ts";
import type { BackfillRecord, Store } from "../store/mod.ts";
import { requirePipeline } from "../store/mod.ts";
import { instantsIn, MAX_INSTANTS, parseInstant } from "./instants.ts";

/** The most runs one backfill keeps queued or running at once. */
export const MAX_CONCURRENCY = 100;

/** What `POST /pipelines/:name/backfills` asks for (snake_case, as on the wire). */
export interface BackfillRequest {
  from: string;
  to: string;
  /** @default {1} */
  concurrency?: number;
  /** Run instants that already have a successful run again. @default {false} */
  rerun?: boolean;
  /** Each run triggers the pipelines downstream of it. @default {false} */
  downstream?: boolean;
  /** Only say what it would do. @default {false} */
  dry_run?: boolean;
}

/** A dry run's answer: the instants it would run and those it would skip. */
export interface BackfillPlan {
  dry_run: true;
  pipeline: string;
  from: string;
  to: string;
  concurrency: number;
  rerun: boolean;
  downstream: boolean;
  total: number;
  instants: string[];
  skipped: string[];
}

export interface CreateDeps {
  store: Store;
  /** `[scheduler] timezone`, for cron schedules that name none. */
  timezone: string;
  now?: () => Date;
}

/** Validates the request, plans it, and stores it unless `dry_run`. */
export async function createBackfill(
  deps: CreateDeps,
  name: string,
  request: BackfillRequest,
): Promise<BackfillPlan | BackfillRecord> {
  const { store } = deps;
  const concurrency = request.concurrency ?? 1;
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > MAX_CONCURRENCY) {
    throw new TauError(
      "invalid_params",
      `--concurrency must be a whole number from 1 to ${MAX_CONCURRENCY}, got ${concurrency}`,
      {
        hint:
          "e.g. --concurrency 4; the pipeline's own concurrency and the daemon's limit apply too",
      },
    );
  }
  const from = parseInstant(request.from, "--from");
  const to = parseInstant(request.to, "--to");
  await requirePipeline(store, name);
  const schedule = await store.getSchedule(name);
  if (!schedule) {
    throw new TauError("invalid_params", `Pipeline ${name} has no schedule to backfill`, {
      hint: `a backfill runs the instants of the pipeline's schedule: set one with ` +
        `tau schedule ${name} "0 * * * *" (or schedule: in its file), then backfill again`,
    });
  }
  const spec = specOf(schedule, deps.timezone);
  const invalid = specError(spec);
  if (invalid) {
    throw new TauError("invalid_schedule", `The schedule of ${name} cannot be used: ${invalid}`, {
      hint: `fix it with tau schedule ${name}`,
    });
  }
  const instants = instantsIn(spec, from, to, MAX_INSTANTS).map((t) => t.toISOString());
  if (instants.length === 0) {
    throw new TauError(
      "invalid_params",
      `The schedule of ${name} has no instant from ${from.toISOString()} to ${to.toISOString()}`,
      { hint: "widen the range (--to is excluded); tau show NAME prints the schedule" },
    );
  }
  const rerun = request.rerun ?? false;
  const done = rerun
    ? new Set<string>()
    : new Set(await store.backfills.succeededAt(name, instants[0]!, to.toISOString()));
  const skipped = instants.filter((t) => done.has(t));
  const shape = {
    pipeline: name,
    from: from.toISOString(),
    to: to.toISOString(),
    concurrency,
    rerun,
    downstream: request.downstream ?? false,
  };
  if (request.dry_run) {
    const toRun = instants.filter((t) => !done.has(t));
    return { dry_run: true, ...shape, total: instants.length, instants: toRun, skipped };
  }
  return await store.backfills.create({
    backfill_id: newBackfillId(),
    ...shape,
    instants: instants.map((t) => ({
      scheduled_at: t,
      state: done.has(t) ? "skipped" as const : "pending" as const,
    })),
  }, deps.now?.() ?? new Date());
}

/** Backfill ids sort by creation time: `bf_` + base36 time + random suffix. */
export function newBackfillId(now = Date.now()): string {
  const random = crypto.getRandomValues(new Uint8Array(5));
  return `bf_${now.toString(36)}${
    Array.from(random, (b) => b.toString(16).padStart(2, "0")).join("")
  }`;
}
