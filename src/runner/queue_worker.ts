/**
 * The worker side of a RunManager: claims queued runs into its free slots (when any process
 * queues one, and every second), renews their leases by heartbeat, requeues or fails the runs
 * of workers whose leases lapsed, and drains at shutdown. Time comes from the manager's clock.
 */
import { closeAbandonedSteps } from "./steps.ts";
import { executeRun } from "./execute.ts";
import { failInternal, type RunContext, storeDiagnosis } from "./finish.ts";
import { DEFAULT_LEASE_MS, type StopReason, stopRun } from "./options.ts";
import { fairOrder } from "../scheduler/admission.ts";
import { type Clock, systemClock } from "../scheduler/clock.ts";

/** Queued runs are looked for at least this often, even without a queue notification. */
const POLL_MS = 1_000;

export class QueueWorker {
  /** What executing and finishing runs needs (the manager's options, id, limits, …). */
  readonly #ctx: RunContext;
  readonly #active = new Map<
    string,
    { controller: AbortController; pipeline: string; task: Promise<void> }
  >();
  readonly #tasks = new Set<Promise<void>>();
  #dispatching: Promise<void> = Promise.resolve();
  #draining = false;
  /** Stops the poll and lease recovery loops (at shutdown, at once). */
  readonly #loops = new AbortController();
  /** Stops the heartbeats (at shutdown, once the runs finishing have ended). */
  readonly #heartbeats = new AbortController();
  readonly #clock: Clock;
  /** When a heartbeat last renewed this worker's leases. */
  #renewedAt: number;
  #unwatch: (() => Promise<void>) | null = null;

  constructor(ctx: RunContext) {
    this.#ctx = ctx;
    this.#clock = ctx.o.clock ?? systemClock;
    this.#renewedAt = this.#clock.now().getTime();
  }

  get #o() {
    return this.#ctx.o;
  }

  get workerId(): string {
    return this.#ctx.workerId;
  }

  get #leaseMs(): number {
    return this.#o.leaseMs ?? DEFAULT_LEASE_MS;
  }

  #reportError(runId: string, err: unknown): void {
    this.#ctx.reportError(runId, err);
  }

  /** The controller of a run executing here, if it is. */
  controllerOf(runId: string): AbortController | undefined {
    return this.#active.get(runId)?.controller;
  }

  /**
   * Starts the worker side: claims runs when any process queues one (and every second), renews
   * the leases of its runs, and requeues or fails runs of workers whose leases lapsed.
   */
  async startWorker(): Promise<void> {
    const { store } = this.#o;
    await store.registerWorker({
      id: this.workerId,
      host: Deno.hostname(),
      pid: Deno.pid,
      roles: ["worker"],
      tags: this.#o.tags ?? [],
      capacity: this.#o.maxConcurrent ?? 10,
    }, this.#clock.now());
    this.#unwatch = await store.watchQueue(() => void this.dispatch());
    this.#every(POLL_MS, this.#loops.signal, "worker", () => this.dispatch());
    this.watchLeases();
    // Heartbeats go on while draining: the runs still finishing keep their leases.
    this.#every(this.#leaseMs / 3, this.#heartbeats.signal, "worker", () => this.#heartbeat());
    await this.dispatch();
  }

  /** Only recovers runs of dead workers (a scheduler process that executes nothing). */
  watchLeases(): void {
    this.#every(this.#leaseMs / 2, this.#loops.signal, "recover", () => this.recoverLost());
  }

  /** Calls `fn` every `ms` of the clock until `signal` aborts; a failure is reported, not fatal. */
  #every(ms: number, signal: AbortSignal, label: string, fn: () => Promise<unknown>): void {
    void (async () => {
      for (;;) {
        await this.#clock.sleep(ms, signal);
        if (signal.aborted) return;
        await fn().catch((err) => this.#reportError(label, err));
      }
    })();
  }

  /** Renews this worker's leases; a run it no longer holds (taken or cancelled) is stopped. */
  async #heartbeat(): Promise<void> {
    const beganAt = this.#clock.now().getTime();
    // Only runs active before the call can be judged by its answer: one claimed meanwhile is
    // not in it yet.
    const running = [...this.#active.keys()];
    let held: Set<string>;
    try {
      held = new Set(
        await this.#o.store.heartbeat(
          this.workerId,
          {
            status: this.#draining ? "draining" : "active",
            running,
          },
          this.#clock.now(),
          this.#leaseMs,
        ),
      );
    } catch (err) {
      // Unable to renew for a whole lease: others may be running these runs by now. Stop them.
      if (this.#clock.now().getTime() - this.#renewedAt > this.#leaseMs) this.#abortAll("lost");
      throw err;
    }
    this.#renewedAt = beganAt;
    for (const runId of running) {
      const active = this.#active.get(runId);
      if (active && !held.has(runId)) stopRun(active.controller, "lost");
    }
  }

  #abortAll(reason: StopReason): void {
    for (const { controller } of this.#active.values()) stopRun(controller, reason);
  }

  /** Requeues or fails runs whose worker stopped heartbeating (any process may do this). */
  async recoverLost(): Promise<void> {
    const { requeued, failed } = await this.#o.store.recoverLostRuns(this.#clock.now());
    for (const run of failed) {
      if (run.error) await closeAbandonedSteps(this.#o.store, run.run_id, run.error);
      await storeDiagnosis(this.#ctx, run);
      this.#ctx.done.dispatchEvent(new Event(run.run_id));
      await this.#o.onFinished?.(run).catch((err) => this.#reportError(run.run_id, err));
    }
    if (requeued.length > 0) await this.dispatch();
  }

  get activeCount(): number {
    return this.#active.size;
  }

  /** Starts the queued runs that fit the limits (see src/scheduler/admission.ts). */
  dispatch(): Promise<void> {
    const next = this.#dispatching.then(() => this.#dispatchOnce());
    this.#dispatching = next.catch((err) => this.#reportError("dispatch", err));
    return this.#dispatching;
  }

  async #dispatchOnce(): Promise<void> {
    if (this.#o.execute === false || this.#draining) return;
    const free = (this.#o.maxConcurrent ?? 10) - this.#active.size;
    if (free <= 0) return; // every slot taken: nothing to look up
    const claimed = await this.#o.store.claimRuns({
      worker_id: this.workerId,
      tags: this.#o.tags ?? [],
      slots: free,
      now: this.#clock.now(),
      lease_ms: this.#leaseMs,
      choose: fairOrder,
    });
    if (this.#draining && claimed.length > 0) {
      // The drain began while this claim was in flight: the runs go back unstarted.
      const ids = claimed.map((run) => run.run_id);
      return await this.#o.store.releaseRuns(this.workerId, ids, this.#clock.now());
    }
    for (const run of claimed) this.#start(run.run_id, run.pipeline);
  }

  /** Claims nothing more from now on (the first thing a stopping daemon does). */
  stopClaiming(): void {
    this.#draining = true;
  }

  /**
   * Stops claiming, lets active runs finish for up to `graceMs`, then stops the rest and gives
   * them back to the queue (another worker, or this daemon's next start, runs them again).
   */
  async shutdown(graceMs = 0): Promise<void> {
    this.#draining = true;
    this.#loops.abort();
    await this.#unwatch?.();
    const all = Promise.allSettled([...this.#tasks]);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const graceOver = new Promise((resolve) => timer = setTimeout(resolve, graceMs));
    await Promise.race([all, graceOver]);
    clearTimeout(timer);
    this.#abortAll("drain");
    await all;
    this.#heartbeats.abort();
    await this.#o.store
      .heartbeat(this.workerId, { status: "stopped", running: [] }, this.#clock.now(), 0)
      .catch(() => {});
  }

  #start(runId: string, pipeline: string): void {
    // Claimed again while still executing here: this worker's lease had lapsed, so the old
    // execution no longer owns the run. It stops before the new one begins.
    const previous = this.#active.get(runId);
    if (previous) stopRun(previous.controller, "lost");
    // Counted as active at once, so the next dispatch sees the slot taken.
    const controller = new AbortController();
    const entry = { controller, pipeline, task: Promise.resolve() };
    this.#active.set(runId, entry);
    const task = (previous?.task ?? Promise.resolve())
      .then(() => executeRun(this.#ctx, runId, controller))
      .catch((err) => failInternal(this.#ctx, runId, err))
      .finally(() => {
        if (this.#active.get(runId) === entry) this.#active.delete(runId);
        this.#tasks.delete(task);
        void this.dispatch();
      });
    entry.task = task;
    this.#tasks.add(task);
  }
}
