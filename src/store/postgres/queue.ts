/**
 * The queue on PostgreSQL, apart from the claim (`claim_runs.ts`): workers and their
 * heartbeats, lost and released runs, named leases, and the wake-up for queued runs.
 */

import { type Row, toRun, toWorker } from "../codec.ts";
import { lostRunPatch, releasedRunPatch } from "../queue_rules.ts";
import type { HeartbeatInput, RunRecord, WorkerInput, WorkerRecord } from "../types.ts";
import { RUN_COLUMNS, WORKER_COLUMNS } from "./columns.ts";
import { type Db, query, type Sql, tx } from "./db.ts";
import { updateRun } from "./runs.ts";

export async function registerWorker(
  db: Db,
  worker: WorkerInput,
  now: Date,
): Promise<WorkerRecord> {
  const at = now.toISOString();
  const [row] = await query(
    db,
    `INSERT INTO workers (${WORKER_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, 0, $7, $8, $8)
     ON CONFLICT (id) DO UPDATE SET host = EXCLUDED.host, pid = EXCLUDED.pid,
       roles = EXCLUDED.roles, tags = EXCLUDED.tags, capacity = EXCLUDED.capacity,
       status = EXCLUDED.status, heartbeat_at = EXCLUDED.heartbeat_at
     RETURNING ${WORKER_COLUMNS}`,
    [
      worker.id,
      worker.host,
      worker.pid,
      JSON.stringify(worker.roles),
      JSON.stringify(worker.tags),
      worker.capacity,
      worker.status ?? "active",
      at,
    ],
  );
  return toWorker(row as Row);
}

/** Records the worker's load and extends its runs' leases; returns the runs it still holds. */
export function heartbeat(
  sql: Sql,
  workerId: string,
  beat: HeartbeatInput,
  now: Date,
  leaseMs: number,
): Promise<string[]> {
  return tx(sql, async (tx) => {
    await query(
      tx,
      "UPDATE workers SET load = $1, status = $2, heartbeat_at = $3 WHERE id = $4",
      [beat.running.length, beat.status, now.toISOString(), workerId],
    );
    const rows = await query(
      tx,
      `UPDATE runs SET lease_expires_at = $1 WHERE worker_id = $2 AND status = 'running'
         AND run_id IN (SELECT json_array_elements_text($3::json))
       RETURNING run_id`,
      [new Date(now.getTime() + leaseMs).toISOString(), workerId, JSON.stringify(beat.running)],
    );
    return rows.map((r) => String(r.run_id));
  });
}

export async function listWorkers(db: Db): Promise<WorkerRecord[]> {
  const rows = await query(db, `SELECT ${WORKER_COLUMNS} FROM workers ORDER BY started_at, id`);
  return rows.map(toWorker);
}

/**
 * Requeues (or fails) the runs whose lease lapsed. Several daemons may recover at once: a run
 * another one is recovering is skipped, not waited for.
 */
export function recoverLostRuns(
  sql: Sql,
  now: Date,
): Promise<{ requeued: RunRecord[]; failed: RunRecord[] }> {
  return tx(sql, async (tx) => {
    const lost = (await query(
      tx,
      `SELECT ${RUN_COLUMNS} FROM runs WHERE status = 'running'
         AND lease_expires_at IS NOT NULL AND lease_expires_at < $1
       FOR UPDATE SKIP LOCKED`,
      [now.toISOString()],
    )).map(toRun);
    const requeued: RunRecord[] = [], failed: RunRecord[] = [];
    for (const run of lost) {
      const updated = await updateRun(tx, run.run_id, lostRunPatch(run, now)) as RunRecord;
      (updated.status === "queued" ? requeued : failed).push(updated);
    }
    return { requeued, failed };
  });
}

/** Gives a draining worker's runs back to the queue. */
export async function releaseRuns(
  sql: Sql,
  workerId: string,
  runIds: string[],
  now: Date,
): Promise<void> {
  await tx(sql, async (tx) => {
    for (const runId of runIds) {
      const [row] = await query(
        tx,
        `SELECT ${RUN_COLUMNS} FROM runs WHERE run_id = $1 AND worker_id = $2
           AND status = 'running' FOR UPDATE`,
        [runId, workerId],
      );
      if (!row) continue;
      await updateRun(tx, runId, releasedRunPatch(toRun(row), now), { worker_id: workerId });
    }
  });
}

/** Takes or renews a named lease; false while another holder has it. */
export async function tryLease(
  db: Db,
  name: string,
  holder: string,
  now: Date,
  ttlMs: number,
): Promise<boolean> {
  const [row] = await query(
    db,
    `INSERT INTO leases (name, holder, expires_at) VALUES ($1, $2, $3)
     ON CONFLICT (name) DO UPDATE SET holder = EXCLUDED.holder, expires_at = EXCLUDED.expires_at
       WHERE leases.holder = EXCLUDED.holder OR leases.expires_at < $4
     RETURNING holder`,
    [name, holder, new Date(now.getTime() + ttlMs).toISOString(), now.toISOString()],
  );
  return row?.holder === holder;
}

export async function releaseLease(db: Db, name: string, holder: string): Promise<void> {
  await query(db, "DELETE FROM leases WHERE name = $1 AND holder = $2", [name, holder]);
}

/**
 * Calls `listener` on every `tau_queue` notification: a trigger on `runs` sends one when a
 * transaction of any process that queued a run commits (once per transaction).
 */
export async function watchQueue(sql: Sql, listener: () => void): Promise<() => Promise<void>> {
  // postgres.js keeps one dedicated connection for LISTEN and re-listens after reconnecting.
  const { unlisten } = await sql.listen("tau_queue", () => listener());
  return unlisten;
}
