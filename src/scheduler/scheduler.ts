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
import type { NewRun, ScheduleRecord, Store } from "../store/mod.ts";
import type { Clock } from "./clock.ts";
import { dueFires, nextFire, type ScheduleSpec } from "./fire_times.ts";

/** How late an instant may be handled and still count as on time. */
export const GRACE_MS = 60_000;
/** Missed instants examined per schedule and pass; older ones are only counted. */
export const CATCHUP_LIMIT = 100;
const MAX_SLEEP_MS = 60_000;

export interface SchedulerDeps {
  store: Store;
  clock: Clock;
  /** `[scheduler] timezone`, for schedules that name none. */
  timezone: string;
  prepare(name: string, request: RunRequest): Promise<NewRun>;
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
    let created = 0;
    for (const schedule of await store.listSchedules()) {
      if (!schedule.enabled) continue;
      try {
        created += await this.#handle(schedule, now, active);
      } catch (err) {
        this.deps.onError?.(err);
      }
    }
    if (created > 0) await this.deps.dispatch();
    return created;
  }

  async #handle(schedule: ScheduleRecord, now: Date, active: Map<string, string>) {
    const { store } = this.deps;
    const due = dueFires(
      specOf(schedule, this.deps.timezone),
      new Date(schedule.last_tick),
      now,
      CATCHUP_LIMIT,
    );
    if (due.skipped > 0) await store.skipTicks(schedule.pipeline, schedule.last_tick, due.skipped);
    const newest = due.fires.at(-1);
    if (!newest) return 0; // the common case: nothing due, so no pipeline lookup
    const pipeline = await store.getPipeline(schedule.pipeline);
    if (!pipeline) return 0;
    const metadata = storedMetadata(pipeline);
    const onTime = now.getTime() - newest.getTime() <= GRACE_MS;
    const catchup = metadata.catchup ?? "latest";
    const fire = onTime || catchup === "latest" ? [newest] : catchup === "all" ? due.fires : [];
    let created = 0;
    for (const at of due.fires) {
      if (!fire.includes(at)) {
        await store.recordTick({
          pipeline: schedule.pipeline,
          scheduled_at: at.toISOString(),
          outcome: "missed",
          detail: `missed while the daemon was not running (catchup "${catchup}")`,
        });
        continue;
      }
      // Caught-up instants run one after another, oldest first.
      const serial = fire.length > 1 && at !== fire[0];
      created += await this.#fire(schedule.pipeline, metadata, at, active, serial);
    }
    return created;
  }

  async #fire(
    name: string,
    metadata: PipelineMetadata,
    at: Date,
    active: Map<string, string>,
    serial: boolean,
  ): Promise<number> {
    const { store } = this.deps;
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
      const { recorded } = await store.recordTick({
        pipeline: name,
        scheduled_at,
        outcome: "skipped",
        detail: message,
        run: await this.deps.prepare(name, { ...request, skipped: { kind: "overlap", message } }),
      });
      return recorded ? 1 : 0;
    }
    const run = await this.deps.prepare(name, {
      ...request,
      exclusive: serial || (blocking !== undefined && overlap === "queue"),
    });
    const { recorded } = await store.recordTick({
      pipeline: name,
      scheduled_at,
      outcome: "run",
      run,
    });
    if (!recorded) return 0;
    active.set(name, run.run_id);
    return 1;
  }
}
