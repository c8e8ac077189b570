/**
 * Owns every run of this daemon: creates the record (submit), cancels, lets callers wait for the
 * end, and puts runs left behind by a dead daemon into a truthful state on start. Claiming,
 * heartbeats and draining are its worker's (queue_worker.ts); executing a claimed run with
 * retries and backoff is execute.ts, and finishing it finish.ts.
 */
import { join } from "node:path";
import { errorText, TauError } from "../core/errors.ts";
import { log } from "../core/log.ts";
import { newRunId } from "../core/ids.ts";
import { versionDir } from "../config/paths.ts";
import {
  effectiveMetadata,
  type PipelineMetadata,
  RUN_DEFAULTS,
  type RunDefaults,
} from "../metadata/schema.ts";
import type { CurrentVersion, Json, NewRun, PipelineRecord, RunRecord } from "../store/mod.ts";
import { requirePipeline, TERMINAL_STATUSES } from "../store/mod.ts";
import { closeAbandonedSteps } from "./steps.ts";
import { systemErrors } from "./classify.ts";
import { type ShownPermissions, showPermissions } from "./run_permissions.ts";
import { effectiveLimits, NO_DECLARED_LIMITS, type RunLimits } from "../sandbox/limits.ts";
import { DEFAULT_LIMITS } from "../sandbox/permissions.ts";
import { finishRun, type RunContext } from "./finish.ts";
import { type RunManagerOptions, type RunRequest, stopRun } from "./options.ts";
import { QueueWorker } from "./queue_worker.ts";
import { discardRunChild, startRunChild } from "./run_child.ts";
import { WarmPool, type WarmPoolStatus } from "./warm_pool.ts";

/** How often a wait for a run another process executes looks at the store. */
const WAIT_POLL_MS = 200;

export class RunManager {
  readonly #o: RunManagerOptions;
  readonly #done = new EventTarget();
  readonly #worker: QueueWorker;
  readonly #pool: WarmPool | null;
  readonly workerId: string;

  constructor(options: RunManagerOptions) {
    this.#o = options;
    this.workerId = options.workerId ?? `${Deno.hostname()}-${Deno.pid}`;
    const warm = options.execute === false ? undefined : options.warmPool;
    this.#pool = warm
      ? new WarmPool({
        ...warm,
        start: (spec) => startRunChild(options.paths, spec, true),
        discard: discardRunChild,
        currentVersion: async (name) =>
          (await options.store.getPipeline(name))?.current_version ?? null,
        onError: (err) => log("warm_pool_error", { error: errorText(err) }),
      })
      : null;
    this.#worker = new QueueWorker(this.#ctx);
  }

  /** The warm pool as `tau status` shows it; null when this process executes no runs. */
  warmPoolStatus(): WarmPoolStatus | null {
    return this.#pool?.status() ?? null;
  }

  /**
   * Starts the worker side: claims runs when any process queues one (and every second), renews
   * the leases of its runs, and requeues or fails runs of workers whose leases lapsed.
   */
  startWorker(): Promise<void> {
    return this.#worker.startWorker();
  }

  /** Only recovers runs of dead workers (a scheduler process that executes nothing). */
  watchLeases(): void {
    this.#worker.watchLeases();
  }

  /** Requeues or fails runs whose worker stopped heartbeating (any process may do this). */
  recoverLost(): Promise<void> {
    return this.#worker.recoverLost();
  }

  get activeCount(): number {
    return this.#worker.activeCount;
  }

  /** Starts the queued runs that fit the limits (see src/scheduler/admission.ts). */
  dispatch(): Promise<void> {
    return this.#worker.dispatch();
  }

  /**
   * Stops claiming, lets active runs finish for up to `graceMs`, then stops the rest and gives
   * them back to the queue (another worker, or this daemon's next start, runs them again).
   */
  /** Claims no more runs; `shutdown` then drains the ones under way. */
  stopClaiming(): void {
    this.#worker.stopClaiming();
  }

  async shutdown(graceMs = 0): Promise<void> {
    await this.#worker.shutdown(graceMs);
    await this.#pool?.close();
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
      pool: this.#pool,
    };
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

  /**
   * The record of a new run of the pipeline's current (or `request.version`), not stored yet.
   * `known` is the pipeline with its version's hash when the caller has just read them (the
   * scheduler's pass).
   */
  async prepare(name: string, request: RunRequest = {}, known?: CurrentVersion): Promise<NewRun> {
    const { store, paths } = this.#o;
    const current = known?.pipeline.name === name ? known : await this.#current(name);
    const number = request.version ?? current.pipeline.current_version;
    // A run of another version gets that version's permissions, not the current one's; a run of
    // the current one needs only its hash (the pipeline's record holds its metadata).
    const version = request.version === undefined ? null : await store.getVersion(name, number);
    if (request.version !== undefined && !version) {
      throw new TauError("not_found", `Pipeline ${name} has no version ${number}`, {
        hint: `list its versions with tau versions ${name}`,
      });
    }
    const hash = version?.hash ?? current.hash;
    const metadata = this.#effective(version?.metadata ?? current.pipeline.metadata);
    const runId = newRunId();
    const entry = join(versionDir(paths, name, number, hash ?? "unknown"), "entry.ts");
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

  async #current(name: string): Promise<CurrentVersion> {
    const current = (await this.#o.store.getCurrentVersions([name])).get(name);
    if (current) return current;
    return { pipeline: await requirePipeline(this.#o.store, name), hash: null }; // its not_found
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
    const controller = this.#worker.controllerOf(runId);
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
}

/** Kills a child left by a dead daemon, but only if that pid is still one of our runs. */
function killOrphan(pid: number, runId: string): void {
  try {
    const cmdline = Deno.readTextFileSync(`/proc/${pid}/cmdline`);
    if (!cmdline.includes(`${runId}-`)) return;
    Deno.kill(pid, "SIGKILL");
  } catch { /* gone, or not on Linux */ }
}
