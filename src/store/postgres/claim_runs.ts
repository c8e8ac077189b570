/**
 * `claimRuns` on PostgreSQL: several workers (processes, machines) claim queued runs from one
 * database at once. None may take a run another took, wait on another's claim, or start more
 * runs of a pipeline than its `concurrency` (or overlap "queue") allows. One transaction:
 *
 * 1. Lock the oldest queued candidates with `SELECT … FOR UPDATE SKIP LOCKED`: rows another
 *    claim holds are skipped, not waited for, so concurrent claims take disjoint runs in
 *    parallel. The window is a few times the free slots (`claimWindow`, at most 200): enough for
 *    admission to pass over runs of blocked pipelines, few enough that concurrent claims still
 *    find others.
 * 2. Lock the `pipelines` rows of candidates whose pipeline limits its runs (`concurrency`, or
 *    overlap "queue"), `FOR UPDATE` in name order (so two claims cannot deadlock). Their running
 *    counts read next cannot change until this claim commits: such pipelines are claimed one
 *    worker at a time, while pipelines without a limit never serialize claims.
 * 3. `request.choose` applies admission (fair turns across pipelines, oldest head first, and
 *    the per-pipeline limits), and the chosen runs become `running` under the worker's lease in
 *    one UPDATE.
 *
 * The SQLite counterpart, one writer at a time, is `../sqlite/claim_runs.ts` (`BEGIN
 * IMMEDIATE`). `bench/worker_throughput.ts` measures this claim: runs per second of a burst and
 * queued-to-running latency (p50/p99) with 1, 2 and 4 worker processes on one database.
 */

import { toRun } from "../codec.ts";
import type { ClaimRequest, RunRecord } from "../types.ts";
import { RUN_COLUMNS } from "./columns.ts";
import { query, type Sql, tx } from "./db.ts";

/** Queued runs one claim locks and looks at (oldest first), for `slots` free slots. */
const claimWindow = (slots: number) => Math.min(200, slots * 3 + 10);

export async function claimRuns(sql: Sql, request: ClaimRequest): Promise<RunRecord[]> {
  if (request.slots <= 0) return [];
  return await tx(sql, async (tx) => {
    // Candidates another worker is claiming right now are skipped, not waited for.
    const queued = (await query(
      tx,
      `SELECT ${RUN_COLUMNS} FROM runs WHERE status = 'queued'
         AND (pool IS NULL OR pool IN (SELECT json_array_elements_text($1::json)))
       ORDER BY created_at, run_id LIMIT $2 FOR UPDATE SKIP LOCKED`,
      [JSON.stringify(request.tags), claimWindow(request.slots)],
    )).map(toRun);
    if (queued.length === 0) return [];
    const names = JSON.stringify([...new Set(queued.map((r) => r.pipeline))]);
    const limits = await query(
      tx,
      `SELECT name, metadata->>'concurrency' AS concurrency, metadata->>'overlap' AS overlap
       FROM pipelines WHERE name IN (SELECT json_array_elements_text($1::json))`,
      [names],
    );
    // Pipelines whose runs limit each other are claimed one worker at a time: their rows are
    // locked, so the running counts below cannot change until this claim commits.
    const guarded = limits.filter((p) => p.concurrency !== null || p.overlap === "queue")
      .map((p) => String(p.name)).sort();
    if (guarded.length > 0) {
      await query(
        tx,
        `SELECT name FROM pipelines WHERE name IN (SELECT json_array_elements_text($1::json))
         ORDER BY name FOR UPDATE`,
        [JSON.stringify(guarded)],
      );
    }
    const running = new Map(
      (await query(
        tx,
        `SELECT pipeline, count(*) AS n FROM runs WHERE status = 'running'
           AND pipeline IN (SELECT json_array_elements_text($1::json)) GROUP BY pipeline`,
        [names],
      )).map((r) => [String(r.pipeline), Number(r.n)]),
    );
    const concurrency = new Map(
      limits.map((p) => [String(p.name), p.concurrency === null ? null : Number(p.concurrency)]),
    );
    const chosen = request.choose(queued, running, concurrency).slice(0, request.slots);
    if (chosen.length === 0) return [];
    return (await query(
      tx,
      `UPDATE runs SET status = 'running', worker_id = $1, lease_expires_at = $2
       WHERE run_id IN (SELECT json_array_elements_text($3::json))
       RETURNING ${RUN_COLUMNS}`,
      [
        request.worker_id,
        new Date(request.now.getTime() + request.lease_ms).toISOString(),
        JSON.stringify(chosen.map((r) => r.run_id)),
      ],
    )).map(toRun).sort((a, b) =>
      a.created_at.localeCompare(b.created_at) || a.run_id.localeCompare(b.run_id)
    );
  });
}
