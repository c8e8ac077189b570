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
  CurrentVersion,
  NewRun,
  ScheduleRecord,
  Store,
  TickInput,
  TickResult,
} from "../store/mod.ts";
import type { Clock } from "./clock.ts";
import type { DueFires } from "./fire_times.ts";
import { duePerSchedule, soonestFire } from "./schedule_times.ts";

export { nextFireOf, specOf } from "./schedule_times.ts";

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
  /** `known`: the pipeline and its version's hash, just read by the pass. */
  prepare(name: string, request: RunRequest, known?: CurrentVersion): Promise<NewRun>;
  dispatch(): Promise<void>;
  onError?(err: unknown): void;
  /**
   * With several daemons, only the holder of a lease fires ticks: `acquire` takes or renews it
   * and is called at least every `renewEveryMs`. (Ticks are recorded once per instant anyway.)
   */
  leader?: { acquire(now: Date): Promise<boolean>; renewEveryMs: number };
}

export class Scheduler {
  #stop = new AbortController();
  #wake = new AbortController();
  #poked = false;
  /** Set when part of a pass failed, so the next wake passes again rather than waiting. */
  #failed = false;
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
    this.#poked = true;
    this.#wake.abort();
  }

  /**
   * Wakes at least every lease renewal, but passes over the schedules only when one is due,
   * when poked, on becoming the leader, when the store's schedule stamp moved (a change made
   * through another daemon) or after MAX_SLEEP_MS: reading 10,000 schedules costs ~50 ms.
   */
  async #run(): Promise<void> {
    const { clock, store } = this.deps;
    let leading = false;
    let stamp = "";
    let nextPass = 0;
    while (!this.#stop.signal.aborted) {
      this.#wake = new AbortController();
      const leader = this.deps.leader;
      let sleep = leader?.renewEveryMs ?? MAX_SLEEP_MS;
      try {
        const now = clock.now();
        const wasLeading = leading;
        leading = !leader || await leader.acquire(now);
        if (leading) {
          const current = await store.scheduleStamp();
          const owed = !wasLeading || this.#poked || this.#failed || current !== stamp ||
            now.getTime() >= nextPass;
          if (owed) {
            this.#poked = this.#failed = false;
            stamp = current;
            nextPass = await this.#pass(now);
          }
          sleep = Math.min(sleep, nextPass - clock.now().getTime());
        }
      } catch (err) {
        this.#failed = true;
        this.deps.onError?.(err);
      }
      if (sleep > 0) await clock.sleep(sleep, this.#wake.signal);
    }
  }

  /** A pass of the loop: tick, then when the next one is owed (ms since the epoch). */
  async #pass(now: Date): Promise<number> {
    const { schedules } = await this.#tick(now);
    const after = this.deps.clock.now();
    const next = soonestFire(schedules, this.deps.timezone, after)?.getTime() ?? Infinity;
    return Math.min(next, after.getTime() + MAX_SLEEP_MS);
  }

  /** One pass: handles every instant due at `now`; returns the number of runs created. */
  async tick(now: Date): Promise<number> {
    return (await this.#tick(now)).created;
  }

  async #tick(now: Date): Promise<{ created: number; schedules: ScheduleRecord[] }> {
    const { store } = this.deps;
    const active = new Map<string, string>();
    for (const run of await store.listRunsByStatus(["queued", "running"])) {
      // A backfill's runs are about past instants: a live tick does not give way to them.
      if (!run.trigger.startsWith("backfill:")) active.set(run.pipeline, run.run_id);
    }
    // Ticks are recorded TICK_BATCH to a transaction as the pass goes: 10,000 pipelines due at
    // one instant cost ten commits, not 10,000, and the first runs need not wait for the last.
    let ticks: TickInput[] = [];
    let created = 0;
    const schedules = await store.listSchedules();
    const due = duePerSchedule(schedules, this.deps.timezone, now, CATCHUP_LIMIT);
    const owing = schedules.filter((s) => {
      const owed = due.get(s.pipeline); // none when disabled
      return owed && (owed.fires.length > 0 || owed.skipped > 0);
    });
    for (let i = 0; i < owing.length; i += TICK_BATCH) {
      const chunk = owing.slice(i, i + TICK_BATCH);
      // The pipelines with an instant to fire, read in one query per chunk.
      const current = await store.getCurrentVersions(
        chunk.filter((s) => due.get(s.pipeline)!.fires.length > 0).map((s) => s.pipeline),
      );
      for (const schedule of chunk) {
        try {
          const owed = due.get(schedule.pipeline)!;
          ticks.push(
            ...await this.#plan(schedule, owed, now, active, current.get(schedule.pipeline)),
          );
        } catch (err) {
          this.#failed = true;
          this.deps.onError?.(err);
        }
        if (ticks.length >= TICK_BATCH) {
          created += await this.#record(ticks);
          ticks = [];
        }
      }
    }
    created += await this.#record(ticks);
    if (created > 0) await this.deps.dispatch();
    return { created, schedules };
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
          this.#failed = true;
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
    current: CurrentVersion | undefined,
  ): Promise<TickInput[]> {
    const { store } = this.deps;
    if (due.skipped > 0) await store.skipTicks(schedule.pipeline, schedule.last_tick, due.skipped);
    const newest = due.fires.at(-1);
    if (!newest || !current) return []; // nothing due, or the pipeline is gone
    const metadata = storedMetadata(current.pipeline);
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
      ticks.push(await this.#fire(current, metadata, at, active, serial));
    }
    return ticks;
  }

  async #fire(
    current: CurrentVersion,
    metadata: PipelineMetadata,
    at: Date,
    active: Map<string, string>,
    serial: boolean,
  ): Promise<TickInput> {
    const name = current.pipeline.name;
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
          current,
        ),
      };
    }
    const run = await this.deps.prepare(name, {
      ...request,
      exclusive: serial || (blocking !== undefined && overlap === "queue"),
    }, current);
    // Later instants of this pass see it as active, as they would once it is recorded.
    active.set(name, run.run_id);
    return { pipeline: name, scheduled_at, outcome: "run", run };
  }
}
