/**
 * The scheduler: turns each schedule instant into exactly one recorded tick. Every pass it
 * looks at each enabled schedule's instants since its `last_tick`; the store's tick table (one
 * row per pipeline and instant, written in the same transaction as the run) is what makes an
 * instant fire at most once across restarts, redeploys and clock jumps.
 *
 * Instants older than the newest, or later than {@link GRACE_MS}, were missed (the daemon was
 * down or stalled) and follow the pipeline's `catchup`: `none` runs none of them, `latest` the
 * newest, `all` every one (at most {@link CATCHUP_LIMIT}, oldest first, one after another).
 * A tick that finds a run of its pipeline still active follows `overlap`: `skip` records a
 * skipped run, `queue` a run that waits for the active one, `allow` a run that may overlap.
 */
import { type PipelineMetadata, storedMetadata } from "../metadata/schema.ts";
import type { RunRequest } from "../runner/options.ts";
import type {
  NewRun,
  PipelineRecord,
  ScheduleRecord,
  Store,
  TickInput,
  TickResult,
} from "../store/mod.ts";
import type { Clock } from "./clock.ts";
import { type DueFires, dueFires, nextFire, type ScheduleSpec } from "./fire_times.ts";

/** How late an instant may be handled and still count as on time. */
export const GRACE_MS = 60_000;
/** Missed instants examined per schedule and pass; older ones are only counted. */
export const CATCHUP_LIMIT = 100;
const MAX_SLEEP_MS = 60_000;
/** Ticks recorded per transaction. */
const TICK_BATCH = 1_000;

export interface SchedulerDeps {
  store: Store;
  clock: Clock;
  /** `[scheduler] timezone`, for schedules that name none. */
  timezone: string;
  /** `known`: the pipeline's record, just read by the pass (saves reading it again). */
  prepare(name: string, request: RunRequest, known?: PipelineRecord): Promise<NewRun>;
  dispatch(): Promise<void>;
  onError?(err: unknown): void;
  /**
   * With several daemons, only the holder of a lease fires ticks: `acquire` takes or renews it
   * and is called at least every `renewEveryMs`. (Ticks are recorded once per instant anyway.)
   */
  leader?: { acquire(now: Date): Promise<boolean>; renewEveryMs: number };
}

export function specOf(schedule: ScheduleRecord, timezone: string): ScheduleSpec {
  return schedule.cron !== null
    ? { kind: "cron", expression: schedule.cron, timezone: schedule.timezone ?? timezone }
    : { kind: "every", seconds: schedule.every_s ?? 0, anchor: new Date(schedule.anchor) };
}

/**
 * dueFires for one pass at `now`. Pipelines on one pattern with one last tick (the usual case:
 * they fired together last time) share one computation.
 */
function dueMemo(timezone: string, now: Date): (schedule: ScheduleRecord) => DueFires {
  const memo = new Map<string, DueFires>();
  return (schedule) => {
    const spec = specOf(schedule, timezone);
    const key = JSON.stringify([spec, schedule.last_tick]);
    let due = memo.get(key);
    if (!due) {
      due = dueFires(spec, new Date(schedule.last_tick), now, CATCHUP_LIMIT);
      memo.set(key, due);
    }
    return due;
  };
}

/** When an enabled schedule fires next after `now` (null when disabled or never). */
export function nextFireOf(schedule: ScheduleRecord | null, timezone: string, now: Date) {
  if (!schedule?.enabled) return null;
  const after = new Date(Math.max(now.getTime(), Date.parse(schedule.last_tick)));
  return nextFire(specOf(schedule, timezone), after);
}

export class Scheduler {
  #stop = new AbortController();
  #wake = new AbortController();
  #loop: Promise<void> | null = null;

  constructor(private readonly deps: SchedulerDeps) {}

  start(): void {
    this.#loop ??= this.#run();
  }

  async stop(): Promise<void> {
    this.#stop.abort();
    this.#wake.abort();
    await this.#loop;
  }

  /** Re-reads the schedules now (after one was created, changed or enabled). */
  poke(): void {
    this.#wake.abort();
  }

  async #run(): Promise<void> {
    const { clock } = this.deps;
    while (!this.#stop.signal.aborted) {
      this.#wake = new AbortController();
      const leader = this.deps.leader;
      let sleep = leader?.renewEveryMs ?? MAX_SLEEP_MS;
      try {
        if (!leader || await leader.acquire(clock.now())) {
          await this.tick(clock.now());
          sleep = Math.min(sleep, await this.#untilNext(clock.now()));
        }
      } catch (err) {
        this.deps.onError?.(err);
      }
      if (sleep > 0) await clock.sleep(sleep, this.#wake.signal);
    }
  }

  async #untilNext(now: Date): Promise<number> {
    let soonest = now.getTime() + MAX_SLEEP_MS;
    for (const schedule of await this.deps.store.listSchedules()) {
      const next = nextFireOf(schedule, this.deps.timezone, now);
      if (next) soonest = Math.min(soonest, next.getTime());
    }
    return Math.max(0, soonest - now.getTime());
  }

  /** One pass: handles every instant due at `now`; returns the number of runs created. */
  async tick(now: Date): Promise<number> {
    const { store } = this.deps;
    const active = new Map<string, string>();
    for (const run of await store.listRunsByStatus(["queued", "running"])) {
      active.set(run.pipeline, run.run_id);
    }
    // Ticks are recorded TICK_BATCH to a transaction as the pass goes: 10,000 pipelines due at
    // one instant cost ten commits, not 10,000, and the first runs need not wait for the last.
    let ticks: TickInput[] = [];
    let created = 0;
    const due = dueMemo(this.deps.timezone, now);
    for (const schedule of await store.listSchedules()) {
      if (!schedule.enabled) continue;
      try {
        ticks.push(...await this.#plan(schedule, due(schedule), now, active));
      } catch (err) {
        this.deps.onError?.(err);
      }
      if (ticks.length >= TICK_BATCH) {
        created += await this.#record(ticks);
        ticks = [];
      }
    }
    created += await this.#record(ticks);
    if (created > 0) await this.deps.dispatch();
    return created;
  }

  /**
   * Records ticks in one transaction; if it fails they are retried one at a time, so a tick that
   * cannot be recorded holds up no other. Returns the runs created.
   */
  async #record(ticks: TickInput[]): Promise<number> {
    if (ticks.length === 0) return 0;
    const results = await this.deps.store.recordTicks(ticks)
      .catch(() => this.#recordAlone(ticks));
    return results.filter((r, i) => r.recorded && ticks[i]!.run).length;
  }

  async #recordAlone(batch: TickInput[]): Promise<TickResult[]> {
    const results: TickResult[] = [];
    for (const tick of batch) {
      results.push(
        await this.deps.store.recordTick(tick).catch((err) => {
          this.deps.onError?.(err);
          return { recorded: false, run_id: null };
        }),
      );
    }
    return results;
  }

  /** The ticks one schedule owes at `now`: runs, skipped runs and missed instants. */
  async #plan(
    schedule: ScheduleRecord,
    due: DueFires,
    now: Date,
    active: Map<string, string>,
  ): Promise<TickInput[]> {
    const { store } = this.deps;
    if (due.skipped > 0) await store.skipTicks(schedule.pipeline, schedule.last_tick, due.skipped);
    const newest = due.fires.at(-1);
    if (!newest) return []; // the common case: nothing due, so no pipeline lookup
    const pipeline = await store.getPipeline(schedule.pipeline);
    if (!pipeline) return [];
    const metadata = storedMetadata(pipeline);
    const onTime = now.getTime() - newest.getTime() <= GRACE_MS;
    const catchup = metadata.catchup ?? "latest";
    const fire = onTime || catchup === "latest" ? [newest] : catchup === "all" ? due.fires : [];
    const ticks: TickInput[] = [];
    for (const at of due.fires) {
      if (!fire.includes(at)) {
        ticks.push({
          pipeline: schedule.pipeline,
          scheduled_at: at.toISOString(),
          outcome: "missed",
          detail: `missed while the daemon was not running (catchup "${catchup}")`,
        });
        continue;
      }
      // Caught-up instants run one after another, oldest first.
      const serial = fire.length > 1 && at !== fire[0];
      ticks.push(await this.#fire(pipeline, metadata, at, active, serial));
    }
    return ticks;
  }

  async #fire(
    pipeline: PipelineRecord,
    metadata: PipelineMetadata,
    at: Date,
    active: Map<string, string>,
    serial: boolean,
  ): Promise<TickInput> {
    const name = pipeline.name;
    const scheduled_at = at.toISOString();
    const request: RunRequest = {
      trigger: "schedule",
      scheduled_at,
      logical_run: `sched:${scheduled_at}`,
      downstream: true,
    };
    const blocking = active.get(name);
    const overlap = metadata.overlap ?? "skip";
    if (blocking && overlap === "skip" && !serial) {
      const message = `Skipped: run ${blocking} of ${name} was still active (overlap "skip")`;
      return {
        pipeline: name,
        scheduled_at,
        outcome: "skipped",
        detail: message,
        run: await this.deps.prepare(
          name,
          { ...request, skipped: { kind: "overlap", message } },
          pipeline,
        ),
      };
    }
    const run = await this.deps.prepare(name, {
      ...request,
      exclusive: serial || (blocking !== undefined && overlap === "queue"),
    }, pipeline);
    // Later instants of this pass see it as active, as they would once it is recorded.
    active.set(name, run.run_id);
    return { pipeline: name, scheduled_at, outcome: "run", run };
  }
}
