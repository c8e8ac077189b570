/**
 * Owns every run of this daemon: creates the record, runs attempts with retries and backoff,
 * cancels, lets callers wait for the end, and puts runs left behind by a dead daemon into a
 * truthful state on start.
 */
import { join } from "node:path";
import { TauError } from "../core/errors.ts";
import { newRunId } from "../core/ids.ts";
import { versionDir } from "../config/paths.ts";
import {
  effectiveMetadata,
  type PipelineMetadata,
  RUN_DEFAULTS,
  type RunDefaults,
} from "../metadata/schema.ts";
import type { Json, NewRun, PipelineRecord, RunRecord } from "../store/mod.ts";
import { fairOrder } from "../scheduler/admission.ts";
import { requirePipeline, TERMINAL_STATUSES } from "../store/mod.ts";
import { closeAbandonedSteps } from "./steps.ts";
import { systemErrors } from "./classify.ts";
import { type ShownPermissions, showPermissions } from "./run_permissions.ts";
import { effectiveLimits, NO_DECLARED_LIMITS, type RunLimits } from "../sandbox/limits.ts";
import { DEFAULT_LIMITS } from "../sandbox/permissions.ts";
import { executeRun } from "./execute.ts";
import { failInternal, finishRun, type RunContext, storeDiagnosis } from "./finish.ts";
import {
  DEFAULT_LEASE_MS,
  type RunManagerOptions,
  type RunRequest,
  type StopReason,
  stopRun,
} from "./options.ts";
import { type Clock, systemClock } from "../scheduler/clock.ts";

/** How often a wait for a run another process executes looks at the store. */
const WAIT_POLL_MS = 200;
/** Queued runs are looked for at least this often, even without a queue notification. */
const POLL_MS = 1_000;

export class RunManager {
  readonly #o: RunManagerOptions;
  readonly #active = new Map<
    string,
    { controller: AbortController; pipeline: string; task: Promise<void> }
  >();
  readonly #done = new EventTarget();
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
  readonly workerId: string;

  constructor(options: RunManagerOptions) {
    this.#o = options;
    this.#clock = options.clock ?? systemClock;
    this.#renewedAt = this.#clock.now().getTime();
    this.workerId = options.workerId ?? `${Deno.hostname()}-${Deno.pid}`;
  }

  get #leaseMs(): number {
    return this.#o.leaseMs ?? DEFAULT_LEASE_MS;
  }

  get #guard() {
    return { worker_id: this.workerId };
  }

  /** What executing and finishing runs needs of this manager (runner/execute.ts, finish.ts). */
  get #ctx(): RunContext {
    return {
      o: this.#o,
      workerId: this.workerId,
      done: this.#done,
      reportError: (runId, err) => this.#reportError(runId, err),
      limits: (metadata) => this.#limits(metadata),
      effective: (metadata) => this.#effective(metadata),
    };
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
      this.#done.dispatchEvent(new Event(run.run_id));
      await this.#o.onFinished?.(run).catch((err) => this.#reportError(run.run_id, err));
    }
    if (requeued.length > 0) await this.dispatch();
  }

  get activeCount(): number {
    return this.#active.size;
  }

  /** Creates a run of the pipeline's current version; it starts as soon as a slot is free. */
  async submit(name: string, request: RunRequest = {}): Promise<RunRecord> {
    const run = await this.#o.store.createRun(await this.prepare(name, request));
    await this.dispatch();
    return (await this.#o.store.getRun(run.run_id)) ?? run;
  }

  /** What a run of the pipeline's current version would be given (`tau show`). */
  permissions(pipeline: PipelineRecord, hash: string): ShownPermissions {
    const entry = join(
      versionDir(this.#o.paths, pipeline.name, pipeline.current_version, hash),
      "entry.ts",
    );
    const metadata = this.#effective(pipeline.metadata);
    return showPermissions(this.#o.paths, metadata, {
      ...this.#o,
      limits: this.#limits(metadata),
      entry,
    });
  }

  /** The record of a new run of the pipeline's current (or `request.version`), not stored yet. */
  async prepare(name: string, request: RunRequest = {}): Promise<NewRun> {
    const { store, paths } = this.#o;
    const pipeline = await requirePipeline(store, name);
    const number = request.version ?? pipeline.current_version;
    const version = await store.getVersion(name, number);
    if (request.version !== undefined && !version) {
      throw new TauError("not_found", `Pipeline ${name} has no version ${number}`, {
        hint: `list its versions with tau versions ${name}`,
      });
    }
    // A run of another version gets that version's permissions, not the current one's.
    const metadata = this.#effective(
      request.version !== undefined ? version?.metadata : pipeline.metadata,
    );
    const runId = newRunId();
    const entry = join(
      versionDir(paths, name, number, version?.hash ?? "unknown"),
      "entry.ts",
    );
    return {
      run_id: runId,
      pipeline: name,
      version: number,
      trigger: request.trigger ?? "manual",
      params: request.params ?? {},
      max_attempts: metadata.retries + 1,
      permissions: showPermissions(paths, metadata, {
        ...this.#o,
        limits: this.#limits(metadata),
        runId,
        entry,
      }) as unknown as Json,
      scheduled_at: request.scheduled_at ?? null,
      logical_run: request.logical_run ?? `run:${runId}`,
      downstream: request.downstream ?? false,
      exclusive: request.exclusive ?? false,
      pool: metadata.pool ?? null,
      ...(request.skipped ? { status: "skipped" as const, error: request.skipped } : {}),
    };
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
    for (const run of claimed) this.#start(run.run_id, run.pipeline);
  }

  /** The limits a run of this pipeline gets: its own, else `[sandbox]`, capped by the ceiling. */
  #limits(metadata: PipelineMetadata & RunDefaults): RunLimits {
    const configured = this.#o.limits ?? { defaults: DEFAULT_LIMITS, ceiling: DEFAULT_LIMITS };
    return effectiveLimits(
      metadata.limits ?? NO_DECLARED_LIMITS,
      metadata.timeout_ms,
      configured.defaults,
      configured.ceiling,
    );
  }

  #effective(metadata: unknown): PipelineMetadata & RunDefaults {
    return effectiveMetadata(metadata as PipelineMetadata, this.#o.defaults ?? RUN_DEFAULTS);
  }

  #reportError(runId: string, err: unknown): void {
    (this.#o.onError ?? ((id, e) => console.error(`taud: run ${id} failed to execute:`, e)))(
      runId,
      err,
    );
  }

  /** Kills a running run (or drops a queued one); resolves with the final record. */
  async cancel(runId: string): Promise<RunRecord> {
    const run = await this.#o.store.getRun(runId);
    if (!run) {
      throw new TauError("not_found", `No run ${runId}`, { hint: "list runs with tau runs NAME" });
    }
    if (TERMINAL_STATUSES.includes(run.status)) {
      throw new TauError("conflict", `Run ${runId} already finished with status ${run.status}`, {
        hint: `nothing to cancel; see how it ended with tau inspect ${run.pipeline} --run ${runId}`,
        details: { status: run.status },
      });
    }
    const controller = this.#active.get(runId)?.controller;
    if (controller) {
      stopRun(controller, "cancel");
      await this.waitFor(runId, 30_000);
    } else {
      await finishRun(this.#ctx, run, "cancelled", null, systemErrors.cancelled(), run.attempts);
    }
    return (await this.#o.store.getRun(runId)) as RunRecord;
  }

  /** Resolves when the run reaches a final status, or after `timeoutMs`. */
  async waitFor(runId: string, timeoutMs: number): Promise<void> {
    const isDone = async () => {
      const run = await this.#o.store.getRun(runId);
      return !run || TERMINAL_STATUSES.includes(run.status);
    };
    // A run executed here announces its end; one executed by another worker is polled for.
    for (const deadline = Date.now() + timeoutMs; !(await isDone());) {
      const left = deadline - Date.now();
      if (left <= 0) return;
      await new Promise<void>((resolve) => {
        const finish = () => {
          clearTimeout(timer);
          this.#done.removeEventListener(runId, finish);
          resolve();
        };
        const timer = setTimeout(finish, Math.min(left, WAIT_POLL_MS));
        this.#done.addEventListener(runId, finish);
      });
    }
  }

  /**
   * After a crash: runs still marked `running` belong to a dead daemon. Their child (if it
   * survived) is killed and the run fails with kind `daemon_restart`; queued runs start again.
   */
  async recover(): Promise<{ failed: string[]; restarted: string[] }> {
    const { store } = this.#o;
    const failed: string[] = [];
    const restarted: string[] = [];
    for (const run of await store.listRunsByStatus(["running", "queued"])) {
      if (run.status === "queued") {
        restarted.push(run.run_id);
        continue;
      }
      if (run.pid) killOrphan(run.pid, run.run_id);
      const step = await closeAbandonedSteps(store, run.run_id, systemErrors.daemonStopped());
      const error = { ...systemErrors.daemonStopped(), ...(step ? { step } : {}) };
      const attempts = run.attempts.map((a) =>
        a.status === "running" ? { ...a, status: "failed" as const, error } : a
      );
      await finishRun(this.#ctx, run, "failed", null, error, attempts);
      failed.push(run.run_id);
    }
    await this.dispatch();
    return { failed, restarted };
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

/** Kills a child left by a dead daemon, but only if that pid is still one of our runs. */
function killOrphan(pid: number, runId: string): void {
  try {
    const cmdline = Deno.readTextFileSync(`/proc/${pid}/cmdline`);
    if (!cmdline.includes(`${runId}-`)) return;
    Deno.kill(pid, "SIGKILL");
  } catch { /* gone, or not on Linux */ }
}
