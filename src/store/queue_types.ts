/** What workers tell the store, and what a claim asks of it (`Store.claimRuns`). */

import type { RunRecord } from "./records.ts";

export type WorkerStatus = "active" | "draining" | "stopped";

export interface WorkerInput {
  id: string;
  host: string;
  pid: number | null;
  /** `api`, `worker`, `scheduler`. */
  roles: string[];
  tags: string[];
  /** Runs it executes at once. */
  capacity: number;
  status?: WorkerStatus;
}

export interface WorkerRecord extends Required<WorkerInput> {
  load: number;
  started_at: string;
  heartbeat_at: string;
}

export interface HeartbeatInput {
  status: WorkerStatus;
  /** The runs the worker is executing: only their leases are extended. */
  running: string[];
}

export interface ClaimRequest {
  worker_id: string;
  tags: string[];
  /** Free slots of the worker: at most this many runs are claimed. */
  slots: number;
  now: Date;
  lease_ms: number;
  /**
   * The admission rule: from the queued candidates (oldest first) and the number of running
   * runs per pipeline (across all workers), which to start now.
   */
  choose(
    queued: RunRecord[],
    running: Map<string, number>,
    concurrency: Map<string, number | null>,
  ): RunRecord[];
}
