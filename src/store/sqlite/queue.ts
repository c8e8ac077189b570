/**
 * The queue on SQLite, apart from the claim (`claim_runs.ts`): workers and their heartbeats,
 * lost and released runs, named leases, and the wake-up for queued runs.
 */

import { type Row, toWorker } from "../codec.ts";
import { lostRunPatch, releasedRunPatch } from "../queue_rules.ts";
import type { HeartbeatInput, RunRecord, WorkerInput, WorkerRecord } from "../types.ts";
import type { Db } from "./db.ts";
import { getRun, runs, updateRun } from "./runs.ts";

export function registerWorker(db: Db, worker: WorkerInput, now: Date): WorkerRecord {
  const at = now.toISOString();
  const row = db.stmt(
    `INSERT INTO workers (id, host, pid, roles, tags, capacity, load, status, started_at,
       heartbeat_at)
     VALUES (?, ?, ?, ?, ?, ?, 0, ?, ?, ?)
     ON CONFLICT (id) DO UPDATE SET host = excluded.host, pid = excluded.pid,
       roles = excluded.roles, tags = excluded.tags, capacity = excluded.capacity,
       status = excluded.status, heartbeat_at = excluded.heartbeat_at
     RETURNING *`,
  ).get(
    worker.id,
    worker.host,
    worker.pid,
    JSON.stringify(worker.roles),
    JSON.stringify(worker.tags),
    worker.capacity,
    worker.status ?? "active",
    at,
    at,
  );
  return toWorker(row as Row);
}

/** Records the worker's load and extends its runs' leases; returns the runs it still holds. */
export function heartbeat(
  db: Db,
  workerId: string,
  beat: HeartbeatInput,
  now: Date,
  leaseMs: number,
): string[] {
  return db.tx(() => {
    db.stmt("UPDATE workers SET load = ?, status = ?, heartbeat_at = ? WHERE id = ?")
      .run(beat.running.length, beat.status, now.toISOString(), workerId);
    const until = new Date(now.getTime() + leaseMs).toISOString();
    return db.stmt(
      `UPDATE runs SET lease_expires_at = ? WHERE worker_id = ? AND status = 'running'
         AND run_id IN (SELECT value FROM json_each(?))
       RETURNING run_id`,
    ).all(until, workerId, JSON.stringify(beat.running)).map((r) => String(r.run_id));
  });
}

export function listWorkers(db: Db): WorkerRecord[] {
  return db.stmt("SELECT * FROM workers ORDER BY started_at, id").all().map(toWorker);
}

/** Requeues (or fails) the runs whose lease lapsed. */
export function recoverLostRuns(db: Db, now: Date): { requeued: RunRecord[]; failed: RunRecord[] } {
  const out = db.tx(() => {
    const lost = runs(
      db,
      `SELECT * FROM runs WHERE status = 'running' AND lease_expires_at IS NOT NULL
         AND lease_expires_at < ?`,
      now.toISOString(),
    );
    const requeued: RunRecord[] = [], failed: RunRecord[] = [];
    for (const run of lost) {
      const updated = updateRun(db, run.run_id, lostRunPatch(run, now)) as RunRecord;
      (updated.status === "queued" ? requeued : failed).push(updated);
    }
    return { requeued, failed };
  });
  if (out.requeued.length > 0) db.queueChanged();
  return out;
}

/** Gives a draining worker's runs back to the queue. */
export function releaseRuns(db: Db, workerId: string, runIds: string[], now: Date): void {
  db.tx(() => {
    for (const runId of runIds) {
      const run = getRun(db, runId);
      if (!run || run.status !== "running" || run.worker_id !== workerId) continue;
      updateRun(db, runId, releasedRunPatch(run, now), { worker_id: workerId });
    }
  });
  if (runIds.length > 0) db.queueChanged();
}

/** Takes or renews a named lease; false while another holder has it. */
export function tryLease(db: Db, name: string, holder: string, now: Date, ttlMs: number): boolean {
  const row = db.stmt(
    `INSERT INTO leases (name, holder, expires_at) VALUES (?, ?, ?)
     ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
       WHERE leases.holder = excluded.holder OR leases.expires_at < ?
     RETURNING holder`,
  ).get(name, holder, new Date(now.getTime() + ttlMs).toISOString(), now.toISOString());
  return row?.holder === holder;
}

export function releaseLease(db: Db, name: string, holder: string): void {
  db.stmt("DELETE FROM leases WHERE name = ? AND holder = ?").run(name, holder);
}

/** One process per SQLite database runs its queue: a local event is all a listener needs. */
export function watchQueue(db: Db, listener: () => void): () => Promise<void> {
  const unsubscribe = db.onQueueChanged(listener);
  return () => {
    unsubscribe();
    return Promise.resolve();
  };
}
