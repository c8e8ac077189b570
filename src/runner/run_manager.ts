/**
 * Owns every run of this daemon: creates the record, runs attempts with retries and backoff,
 * cancels, lets callers wait for the end, and puts runs left behind by a dead daemon into a
 * truthful state on start.
 */
import { join } from "node:path";
import { TauError } from "../core/errors.ts";
import { newRunId } from "../core/ids.ts";
import { type TauPaths, versionDir } from "../config/paths.ts";
import { materializeVersion } from "../deploy/code_files.ts";
import {
  effectiveMetadata,
  type PipelineMetadata,
  RUN_DEFAULTS,
  type RunDefaults,
} from "../metadata/schema.ts";
import type {
  AttemptRecord,
  Json,
  NewRun,
  PipelineRecord,
  RunRecord,
  RunStatus,
  StepRecord,
  Store,
} from "../store/mod.ts";
import { fairOrder } from "../scheduler/admission.ts";
import { referAttempts, referSteps, requirePipeline, TERMINAL_STATUSES } from "../store/mod.ts";
import { runAttempt } from "./attempt.ts";
import { closeAbandonedSteps } from "./steps.ts";
import { systemErrors } from "./classify.ts";
import { makeRedactor } from "./redact.ts";
import { type ShownPermissions, showPermissions } from "./run_permissions.ts";
import type { Connection } from "../connections/registry.ts";
import { resolveConnections, type ResolvedConnections } from "../connections/resolve.ts";
import { runRequests } from "../connections/run_requests.ts";
import { effectiveLimits, NO_DECLARED_LIMITS, type RunLimits } from "../sandbox/limits.ts";
import { NO_OS_BOUNDARY, type OsBoundary } from "../sandbox/os_boundary.ts";
import { DEFAULT_LIMITS } from "../sandbox/permissions.ts";
import { diagnosisOnFailure, type HealMode } from "../heal/mod.ts";

export interface RunManagerOptions {
  store: Store;
  paths: TauPaths;
  daemonPort: number;
  /** The addresses the API listens on (denied to runs on its port). */
  daemonAddresses?: string[];
  /** `[sandbox]` defaults and ceilings. @default {DEFAULT_LIMITS for both} */
  limits?: { defaults: RunLimits; ceiling: RunLimits };
  /** Layer 3 as detected at start. @default {none} */
  boundary?: OsBoundary;
  /** Where declared secrets are read from. @default {Deno.env} */
  env?: { get(name: string): string | undefined };
  /** Named connections from tau.toml. @default {empty} */
  connections?: Map<string, Connection>;
  /** Called when a run could not be executed at all (a bug or a store failure). */
  onError?: (runId: string, err: unknown) => void;
  /** Retries and timeouts for pipelines that declare none (`[scheduler]`). */
  defaults?: RunDefaults;
  /** Runs executing at once, daemon-wide; the rest wait as `queued`. @default {10} */
  maxConcurrent?: number;
  /** Called once a run has reached its final status (the DAG cascade listens here). */
  onFinished?: (run: RunRecord) => Promise<void>;
  /** What a failed run gets when its pipeline declares no `heal` (`[ai] on_failure`). @default {"diagnose"} */
  onFailure?: HealMode;
  /** This process executes runs (role `worker`); otherwise it only queues them. @default {true} */
  execute?: boolean;
  /** Identifies this process in the queue (`runs.worker_id`, `tau workers`). */
  workerId?: string;
  /** Pools this worker serves (runs of a pipeline with `pool` need the tag). @default {[]} */
  tags?: string[];
  /** How long a claim holds without a heartbeat; heartbeats come every third of it. */
  leaseMs?: number;
}

/** A claim lapses this long after the worker's last heartbeat. */
export const DEFAULT_LEASE_MS = 15_000;
/** How often a wait for a run another process executes looks at the store. */
const WAIT_POLL_MS = 200;
/** Queued runs are looked for at least this often, even without a queue notification. */
const POLL_MS = 1_000;

/** How a run comes to be: who asked, for which instant, and what it belongs to. */
export interface RunRequest {
  params?: Record<string, Json>;
  /** `manual`, `schedule`, `dependency`, `api`… @default {"manual"} */
  trigger?: string;
  scheduled_at?: string | null;
  /** The DAG execution the run belongs to. @default {`run:<its own id>`} */
  logical_run?: string;
  /** Trigger the pipelines downstream on success. @default {false} */
  downstream?: boolean;
  /** Wait until no other run of the pipeline is running. @default {false} */
  exclusive?: boolean;
  /** Record the run as `skipped` with this reason instead of queueing it. */
  skipped?: RunRecord["error"];
  /**
   * Run this stored version (a heal's candidate replay) instead of the current one. Trusted
   * callers only: the public run API never sets it. @default {the current version}
   */
  version?: number;
}

const MAX_BACKOFF_MS = 10 * 60 * 1000;

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
  #timers: ReturnType<typeof setInterval>[] = [];
  #heartbeatTimer: ReturnType<typeof setInterval> | undefined;
  /** When a heartbeat last renewed this worker's leases. */
  #renewedAt = Date.now();
  #unwatch: (() => Promise<void>) | null = null;
  readonly workerId: string;

  constructor(options: RunManagerOptions) {
    this.#o = options;
    this.workerId = options.workerId ?? `${Deno.hostname()}-${Deno.pid}`;
  }

  get #leaseMs(): number {
    return this.#o.leaseMs ?? DEFAULT_LEASE_MS;
  }

  get #guard() {
    return { worker_id: this.workerId };
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
    }, new Date());
    this.#unwatch = await store.watchQueue(() => void this.dispatch());
    const every = (ms: number, fn: () => Promise<unknown>) =>
      setInterval(() => fn().catch((e) => this.#reportError("worker", e)), ms);
    this.#timers.push(every(POLL_MS, () => this.dispatch()));
    this.#timers.push(every(this.#leaseMs / 2, () => this.recoverLost()));
    // Heartbeats go on while draining: the runs still finishing keep their leases.
    this.#heartbeatTimer = every(this.#leaseMs / 3, () => this.#heartbeat());
    await this.dispatch();
  }

  /** Only recovers runs of dead workers (a scheduler process that executes nothing). */
  watchLeases(): void {
    this.#timers.push(
      setInterval(
        () => this.recoverLost().catch((e) => this.#reportError("recover", e)),
        this.#leaseMs / 2,
      ),
    );
  }

  /** Renews this worker's leases; a run it no longer holds (taken or cancelled) is stopped. */
  async #heartbeat(): Promise<void> {
    const beganAt = Date.now();
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
          new Date(),
          this.#leaseMs,
        ),
      );
    } catch (err) {
      // Unable to renew for a whole lease: others may be running these runs by now. Stop them.
      if (Date.now() - this.#renewedAt > this.#leaseMs) this.#abortAll("lost");
      throw err;
    }
    this.#renewedAt = beganAt;
    for (const runId of running) {
      if (!held.has(runId)) this.#active.get(runId)?.controller.abort("lost");
    }
  }

  #abortAll(reason: string): void {
    for (const { controller } of this.#active.values()) controller.abort(reason);
  }

  /** Requeues or fails runs whose worker stopped heartbeating (any process may do this). */
  async recoverLost(): Promise<void> {
    const { requeued, failed } = await this.#o.store.recoverLostRuns(new Date());
    for (const run of failed) {
      if (run.error) await closeAbandonedSteps(this.#o.store, run.run_id, run.error);
      await this.#storeDiagnosis(run);
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
      now: new Date(),
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
      controller.abort("cancel");
      await this.waitFor(runId, 30_000);
    } else {
      await this.#finish(run, "cancelled", null, systemErrors.cancelled(), run.attempts);
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
      await this.#finish(run, "failed", null, error, attempts);
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
    for (const timer of this.#timers) clearInterval(timer);
    await this.#unwatch?.();
    const all = Promise.allSettled([...this.#tasks]);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const graceOver = new Promise((resolve) => timer = setTimeout(resolve, graceMs));
    await Promise.race([all, graceOver]);
    clearTimeout(timer);
    this.#abortAll("drain");
    await all;
    clearInterval(this.#heartbeatTimer);
    await this.#o.store.heartbeat(this.workerId, { status: "stopped", running: [] }, new Date(), 0)
      .catch(() => {});
  }

  #start(runId: string, pipeline: string): void {
    // Claimed again while still executing here: this worker's lease had lapsed, so the old
    // execution no longer owns the run. It stops before the new one begins.
    const previous = this.#active.get(runId);
    previous?.controller.abort("lost");
    // Counted as active at once, so the next dispatch sees the slot taken.
    const controller = new AbortController();
    const entry = { controller, pipeline, task: Promise.resolve() };
    this.#active.set(runId, entry);
    const task = (previous?.task ?? Promise.resolve())
      .then(() => this.#execute(runId, controller))
      .catch((err) => this.#failInternal(runId, err))
      .finally(() => {
        if (this.#active.get(runId) === entry) this.#active.delete(runId);
        this.#tasks.delete(task);
        void this.dispatch();
      });
    entry.task = task;
    this.#tasks.add(task);
  }

  async #execute(runId: string, controller: AbortController): Promise<void> {
    const { store, paths } = this.#o;
    let run = await store.getRun(runId);
    if (!run || run.status !== "running" || run.worker_id !== this.workerId) return;
    const version = await store.getVersion(run.pipeline, run.version);
    if (!version) {
      await this.#finish(run, "failed", null, {
        kind: "internal",
        message: `Version ${run.version} of ${run.pipeline} is missing`,
      }, run.attempts);
      return;
    }
    const metadata = this.#effective(version.metadata);
    const entry = await materializeVersion(paths, version);
    const secretValues = readSecrets(metadata.secrets, this.#o.env ?? Deno.env);
    const registry = this.#o.connections ?? new Map<string, Connection>();
    let connections: ResolvedConnections;
    try {
      connections = await resolveConnections(metadata.connections, registry, paths.home);
    } catch (err) {
      const error = err instanceof TauError ? err : new TauError("invalid_config", String(err));
      await this.#finish(run, "failed", null, {
        kind: "unknown_connection",
        message: error.message,
        hint: error.hint ?? null,
      }, run.attempts);
      return;
    }
    const redact = makeRedactor([
      ...Object.entries(secretValues),
      ...connections.redact.map((value): [string, string] => ["connection", value]),
    ]);
    const lastSuccess = await store.lastSuccessfulRun(run.pipeline);
    const limits = this.#limits(metadata);
    const attempts: AttemptRecord[] = [...run.attempts];
    const tail = await store.listLogs(runId, { tail: 1 });
    let logSeq = (tail[0]?.seq ?? -1) + 1;
    const startedAt = run.started_at ?? new Date().toISOString();
    let last: { status: RunStatus; result: Json; error: RunRecord["error"] } = {
      status: "failed",
      result: null,
      error: null,
    };

    for (let attempt = run.attempt + 1; attempt <= run.max_attempts; attempt++) {
      const attemptStart = new Date();
      const current: AttemptRecord = {
        attempt,
        status: "running",
        started_at: attemptStart.toISOString(),
        finished_at: null,
        duration_ms: null,
        error: null,
      };
      const started = await store.updateRun(runId, {
        status: "running",
        attempt,
        started_at: startedAt,
        attempts: [...attempts, current],
      }, this.#guard);
      if (!started) return; // taken from this worker (cancelled, or its lease lapsed)
      run = started;
      const outcome = await runAttempt(store, paths, {
        runId,
        attempt,
        pipeline: run.pipeline,
        filename: version.filename,
        entry,
        metadata,
        params: run.params,
        lastSuccessfulRun: lastSuccess?.finished_at ?? null,
        secretValues,
        redact,
        firstLogSeq: logSeq,
        daemonPort: this.#o.daemonPort,
        daemonAddresses: this.#o.daemonAddresses,
        limits,
        boundary: this.#o.boundary ?? NO_OS_BOUNDARY,
        signal: controller.signal,
        onStart: (pid) =>
          void store.updateRun(runId, { pid }, this.#guard)
            .catch((err) => this.#reportError(runId, err)),
        connectionHosts: connections.hosts,
        connectionHostsByName: connections.hostsByName,
        connections: connections.forRun,
        requests: ({ scratchDir, scratchView }) =>
          runRequests({
            declared: metadata.connections,
            registry,
            home: paths.home,
            scratchDir,
            scratchView,
            limits,
            boundary: this.#o.boundary ?? NO_OS_BOUNDARY,
          }),
      });
      logSeq = outcome.nextLogSeq;
      await store.updateRun(runId, {
        sandbox: outcome.sandbox as unknown as Json,
        access: outcome.access as unknown as Json,
      }, this.#guard);
      const finished = new Date();
      attempts.push({
        ...current,
        status: outcome.status,
        finished_at: finished.toISOString(),
        duration_ms: finished.getTime() - attemptStart.getTime(),
        error: outcome.error,
      });
      last = outcome;
      const retryable = outcome.status === "failed" || outcome.status === "timed_out";
      if (!retryable || attempt === run.max_attempts || controller.signal.aborted) break;
      const delay = backoff(metadata.retry_delay_ms, attempt);
      await store.appendLogs([{
        run_id: runId,
        attempt,
        seq: logSeq++,
        ts: new Date().toISOString(),
        level: "system",
        step: null,
        message: `attempt ${attempt} ended ${outcome.status}; retrying in ${delay} ms`,
      }]);
      await store.updateRun(runId, { attempts, pid: null }, this.#guard);
      if (!(await sleep(delay, controller.signal))) break;
    }

    const reason = controller.signal.reason;
    // Lost: another process took the run over. Drained: it goes back to the queue, whole.
    if (reason === "lost") return;
    if (reason === "drain") {
      await store.releaseRuns(this.workerId, [runId], new Date());
      return;
    }
    if (controller.signal.aborted) { // cancelled: the only other reason to stop a run here
      last = { status: "cancelled", result: null, error: systemErrors.cancelled() };
      const lastAttempt = attempts.at(-1);
      if (lastAttempt && lastAttempt.status !== last.status) {
        attempts.splice(-1, 1, { ...lastAttempt, status: last.status, error: last.error });
      }
    }
    await this.#finish(run, last.status, last.result, last.error, attempts, startedAt);
  }

  /**
   * Tau itself failed while executing a run (its store, a bug): the run must not stay
   * `running`, so it ends `failed` with kind `internal`, if this worker still holds it.
   */
  async #failInternal(runId: string, err: unknown): Promise<void> {
    this.#reportError(runId, err);
    try {
      const run = await this.#o.store.getRun(runId);
      if (!run || TERMINAL_STATUSES.includes(run.status) || run.worker_id !== this.workerId) return;
      const error = systemErrors.internal(err instanceof Error ? err.message : String(err));
      const attempts = run.attempts.map((a) =>
        a.status === "running" ? { ...a, status: "failed" as const, error } : a
      );
      await closeAbandonedSteps(this.#o.store, runId, error);
      await this.#finish(run, "failed", null, error, attempts);
    } catch (again) {
      this.#reportError(runId, again); // the store is down: recovery or a lapsed lease ends it
    }
  }

  /**
   * Diagnoses a run that ends failed and stores the diagnosis with it (unless its pipeline's
   * `heal` is off); true when one was stored. A diagnosis that cannot be made is reported, and
   * never keeps the run from ending.
   */
  async #storeDiagnosis(run: RunRecord): Promise<boolean> {
    try {
      const diagnosis = await diagnosisOnFailure(
        this.#o.store,
        run,
        this.#o.onFailure ?? "diagnose",
      );
      if (!diagnosis) return false;
      return await this.#o.store.setDiagnosis(
        run.run_id,
        diagnosis as unknown as Record<string, Json>,
      );
    } catch (err) {
      this.#reportError(run.run_id, err);
      return false;
    }
  }

  async #finish(
    run: RunRecord,
    status: RunStatus,
    result: Json,
    error: RunRecord["error"],
    attempts: AttemptRecord[],
    startedAt = run.started_at,
  ): Promise<void> {
    const finishedAt = new Date();
    // A run this worker holds is finished only while it still holds it.
    const guard = run.worker_id === this.workerId && run.status === "running"
      ? this.#guard
      : undefined;
    const { store } = this.#o;
    // Each error is stored whole once: steps that failed with their attempt's error refer to
    // it. They change first, so whoever sees the run ended sees them final; back if it was lost.
    const steps = await store.listSteps(run.run_id);
    const referred = referSteps(error, attempts, steps);
    for (const step of referred) await store.saveStep(step);
    const patch = {
      status,
      result,
      error,
      attempts: referAttempts(error, attempts),
      pid: null,
      finished_at: finishedAt.toISOString(),
      duration_ms: startedAt ? finishedAt.getTime() - new Date(startedAt).getTime() : null,
    };
    // Stored before the status, so whoever sees the run failed sees its diagnosis too.
    const diagnosed = await this.#storeDiagnosis({ ...run, ...patch });
    const finished = await store.updateRun(run.run_id, patch, guard);
    if (!finished) {
      const changed = (s: StepRecord) =>
        referred.some((r) => r.attempt === s.attempt && r.seq === s.seq);
      for (const step of steps.filter(changed)) await store.saveStep(step);
      // Taken from this worker meanwhile: the diagnosis is the new holder's to write.
      const now = diagnosed ? await store.getRun(run.run_id) : null;
      if (now && !TERMINAL_STATUSES.includes(now.status)) {
        await store.setDiagnosis(run.run_id, null);
      }
    }
    this.#done.dispatchEvent(new Event(run.run_id));
    if (finished && this.#o.onFinished) {
      await this.#o.onFinished(finished).catch((err) => this.#reportError(run.run_id, err));
    }
  }
}

function readSecrets(names: string[], env: { get(name: string): string | undefined }) {
  const values: Record<string, string> = {};
  for (const name of names) {
    const value = env.get(name);
    if (value !== undefined) values[name] = value;
  }
  return values;
}

/** Exponential backoff with ±20% jitter, capped at ten minutes. */
export function backoff(baseMs: number, attempt: number, random = Math.random): number {
  const exp = Math.min(baseMs * 2 ** (attempt - 1), MAX_BACKOFF_MS);
  return Math.round(exp * (0.8 + 0.4 * random()));
}

/** Resolves true after `ms`, or false as soon as the signal aborts. */
function sleep(ms: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve(true);
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      resolve(false);
    };
    signal.addEventListener("abort", onAbort, { once: true });
  });
}

/** Kills a child left by a dead daemon, but only if that pid is still one of our runs. */
function killOrphan(pid: number, runId: string): void {
  try {
    const cmdline = Deno.readTextFileSync(`/proc/${pid}/cmdline`);
    if (!cmdline.includes(`${runId}-`)) return;
    Deno.kill(pid, "SIGKILL");
  } catch { /* gone, or not on Linux */ }
}
