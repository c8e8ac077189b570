/**
 * The backfill driver: keeps each running backfill's queue topped up. Every pass (each second,
 * and at once when poked: a backfill created, one of its runs ended) it
 * 1. settles the instants whose run ended: `succeeded`, `failed` or `cancelled`; a run lost to a
 *    crash (kind `daemon_restart` or `worker_lost`) puts its instant back to `pending`, up to
 *    {@link MAX_INSTANT_ATTEMPTS} runs, since nothing of the pipeline's made it fail;
 * 2. starts pending instants, oldest first, until `concurrency` of its runs are queued or
 *    running. Runs are made by the RunManager's `prepare` and queued like any other, so the
 *    pipeline's `concurrency` and `[scheduler] max_concurrent` apply on top;
 * 3. ends it `completed` (every instant succeeded or was skipped) or `failed` (some did not)
 *    once no instant is pending or active.
 *
 * Everything it knows is in the store, so a restarted daemon goes on where the last one stopped:
 * an instant's run is inserted in the same transaction that makes it active, so no instant is
 * ever started twice, and finished instants are never run again. With several daemons, only the
 * holder of the scheduler lease drives.
 */
import type { RunRequest } from "../runner/options.ts";
import type { Clock } from "../scheduler/clock.ts";
import type { BackfillInstant, BackfillRecord, NewRun, SettledState, Store } from "../store/mod.ts";

/** Runs made for one instant at most, when runs keep being lost to crashes. */
export const MAX_INSTANT_ATTEMPTS = 3;
/** Error kinds of runs that ended through no fault of the pipeline: their instant runs again. */
const LOST_KINDS: ReadonlySet<string> = new Set(["daemon_restart", "worker_lost"]);
const PASS_EVERY_MS = 1_000;

export interface BackfillDriverDeps {
  store: Store;
  clock: Clock;
  prepare(name: string, request: RunRequest): Promise<NewRun>;
  dispatch(): Promise<void>;
  /** With several daemons, only the holder of this lease drives (the scheduler's). */
  leader?: { acquire(now: Date): Promise<boolean> };
  onError?(err: unknown): void;
}

export class BackfillDriver {
  #stop = new AbortController();
  #wake = new AbortController();
  #loop: Promise<void> | null = null;

  constructor(private readonly deps: BackfillDriverDeps) {}

  start(): void {
    this.#loop ??= this.#run();
  }

  async stop(): Promise<void> {
    this.#stop.abort();
    this.#wake.abort();
    await this.#loop;
  }

  /** Passes again now (a backfill was created, or one of its runs ended). */
  poke(): void {
    this.#wake.abort();
  }

  async #run(): Promise<void> {
    const { clock, leader } = this.deps;
    while (!this.#stop.signal.aborted) {
      this.#wake = new AbortController();
      try {
        if (!leader || await leader.acquire(clock.now())) await this.pass();
      } catch (err) {
        this.deps.onError?.(err);
      }
      if (!this.#stop.signal.aborted) await clock.sleep(PASS_EVERY_MS, this.#wake.signal);
    }
  }

  /** One pass over every backfill with work to do; returns the runs it created. */
  async pass(): Promise<number> {
    let created = 0;
    for (const backfill of await this.deps.store.backfills.list({ live: true, limit: 100 })) {
      try {
        created += await this.#drive(backfill);
      } catch (err) {
        this.deps.onError?.(err);
      }
    }
    if (created > 0) await this.deps.dispatch();
    return created;
  }

  async #drive(backfill: BackfillRecord): Promise<number> {
    const store = this.deps.store.backfills;
    const id = backfill.backfill_id;
    let active = 0;
    for (const instant of await store.instants(id, { states: ["active"] })) {
      const state = settledState(instant, backfill.status === "running");
      if (state === null) active++;
      else await store.settle(id, instant.scheduled_at, state);
    }
    if (backfill.status !== "running") return 0;
    let created = 0;
    for (let free = backfill.concurrency - active; free > 0;) {
      const pending = await store.instants(id, { states: ["pending"], limit: free });
      if (pending.length === 0) break;
      let moved = false;
      for (const instant of pending) {
        const at = instant.scheduled_at;
        const run = await this.deps.prepare(backfill.pipeline, {
          trigger: `backfill:${id}`,
          scheduled_at: at,
          // Its own logical run per instant: a downstream cascade of it never meets the
          // schedule's runs of that instant (`sched:<instant>`).
          logical_run: `backfill:${id}:${at}`,
          downstream: backfill.downstream,
        });
        const outcome = await store.start(id, at, run, backfill.rerun);
        if (outcome !== "taken") moved = true;
        if (outcome === "started") {
          created++;
          free--;
        }
      }
      if (!moved) break; // taken by another driver, or cancelled meanwhile
    }
    if (active === 0 && created === 0) await this.#finishIfDone(id);
    return created;
  }

  async #finishIfDone(id: string): Promise<void> {
    const store = this.deps.store.backfills;
    const fresh = await store.get(id);
    if (!fresh || fresh.status !== "running") return;
    const { pending, active, failed, cancelled } = fresh.counts;
    if (pending > 0 || active > 0) return;
    await store.finish(id, failed + cancelled > 0 ? "failed" : "completed", this.deps.clock.now());
  }
}

/**
 * What an active instant becomes given its run now: null while the run is queued or running.
 * A run that is gone (deleted with its history) counts as failed.
 */
export function settledState(instant: BackfillInstant, retry: boolean): SettledState | null {
  const status = instant.run_status;
  if (status === "queued" || status === "running") return null;
  if (status === "success") return "succeeded";
  if (status === "cancelled") return "cancelled";
  const lost = instant.run_error_kind !== null && LOST_KINDS.has(instant.run_error_kind);
  if (retry && lost && instant.attempts < MAX_INSTANT_ATTEMPTS) return "pending";
  return "failed";
}
