/** What a RunManager is given, and how a run is asked for. */
import type { TauPaths } from "../config/paths.ts";
import type { RunDefaults } from "../metadata/schema.ts";
import type { Json, RunRecord, Store } from "../store/mod.ts";
import type { Connection } from "../connections/registry.ts";
import type { RunLimits } from "../sandbox/limits.ts";
import type { OsBoundary } from "../sandbox/os_boundary.ts";
import type { HealMode } from "../heal/mod.ts";
import type { Clock } from "../scheduler/clock.ts";

export interface RunManagerOptions {
  store: Store;
  paths: TauPaths;
  /** The ports the daemon listens on (its API's, its dashboard's): denied to every run. */
  daemonPorts: number[];
  /** The addresses the daemon listens on (denied to runs on its ports). */
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
  /**
   * Children started ahead of their runs (`[sandbox] warm_pool_mb`, `warm_pool_idle`), when this
   * process executes runs. @default {none: every run starts cold}
   */
  warmPool?: { budgetMb: number; idleMs: number };
  /** How long a claim holds without a heartbeat; heartbeats come every third of it. */
  leaseMs?: number;
  /**
   * Time for leases, heartbeats and the queue poll (tests pass a manual one).
   * @default {systemClock}
   */
  clock?: Clock;
}

/** A claim lapses this long after the worker's last heartbeat. */
export const DEFAULT_LEASE_MS = 15_000;

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

/**
 * Why this worker stops a run it executes (its AbortController's reason): `cancel`led by a user,
 * `drain`ed at shutdown (it goes back to the queue), or `lost` to another worker (its lease
 * lapsed, or it was taken over).
 */
export type StopReason = "cancel" | "drain" | "lost";

/** Stops a run's controller with a typed reason. */
export function stopRun(controller: AbortController, reason: StopReason): void {
  controller.abort(reason);
}

/** The reason a run's signal was aborted with, if it was. */
export function stopReason(signal: AbortSignal): StopReason | null {
  return signal.aborted ? signal.reason as StopReason : null;
}
