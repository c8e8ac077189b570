/**
 * `claimRuns` on SQLite: how the daemon's worker takes queued runs.
 *
 * Locking: the whole claim (read the candidates, count the running runs, mark the chosen ones
 * `running`) is one `BEGIN IMMEDIATE` transaction, which takes SQLite's one write lock up front
 * rather than on the first write. SQLite has one writer at a time, so there are no row locks to
 * take or skip: another writer (a CLI process on the same file, say) waits on `busy_timeout`
 * (5 s) and then sees the claimed runs as running, so no run is claimed twice and the running
 * counts admission reads cannot change under it. Only one process per SQLite file runs the
 * queue; several workers sharing one database is the PostgreSQL store's job
 * (`../postgres/claim_runs.ts`, `FOR UPDATE SKIP LOCKED`).
 *
 * Admission (`request.choose`: fair turns across pipelines, per-pipeline `concurrency`, overlap
 * "queue") picks among the oldest `CLAIM_CANDIDATES` queued runs the worker's tags allow.
 * `bench/worker_throughput.ts` measures the claim (runs per second of a burst, queued-to-running
 * latency p50/p99), on the PostgreSQL store of a fleet.
 */

import type { ClaimRequest, RunRecord } from "../types.ts";
import type { Db } from "./db.ts";
import { runs, updateRun } from "./runs.ts";

/** Queued runs one claim looks at (oldest first); admission picks among them. */
const CLAIM_CANDIDATES = 200;

export function claimRuns(db: Db, request: ClaimRequest): RunRecord[] {
  if (request.slots <= 0) return [];
  return db.tx(() => {
    const queued = runs(
      db,
      `SELECT * FROM runs WHERE status = 'queued'
         AND (pool IS NULL OR pool IN (SELECT value FROM json_each(?)))
       ORDER BY created_at, run_id LIMIT ?`,
      JSON.stringify(request.tags),
      CLAIM_CANDIDATES,
    );
    if (queued.length === 0) return [];
    const running = new Map(
      db.stmt(
        "SELECT pipeline, count(*) AS n FROM runs WHERE status = 'running' GROUP BY pipeline",
      ).all().map((r) => [String(r.pipeline), Number(r.n)]),
    );
    const concurrency = new Map(
      db.stmt(
        `SELECT name, json_extract(metadata, '$.concurrency') AS c FROM pipelines
         WHERE name IN (SELECT value FROM json_each(?))`,
      ).all(JSON.stringify([...new Set(queued.map((r) => r.pipeline))]))
        .map((r) => [String(r.name), r.c === null ? null : Number(r.c)]),
    );
    const chosen = request.choose(queued, running, concurrency).slice(0, request.slots);
    const until = new Date(request.now.getTime() + request.lease_ms).toISOString();
    return chosen.map((run) =>
      updateRun(db, run.run_id, {
        status: "running",
        worker_id: request.worker_id,
        lease_expires_at: until,
      }) as RunRecord
    );
  });
}
