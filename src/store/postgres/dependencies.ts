/** Dependencies between pipelines on PostgreSQL, and the runs of one DAG execution. */

import type { DependencyEdge, NewRun, RunRecord } from "../types.ts";
import { RUN_COLUMNS } from "./columns.ts";
import { type Db, DEPENDENCY_LOCK, query, type Sql, tx } from "./db.ts";
import { insertRun, runs } from "./runs.ts";

/** Replaces the upstreams of a pipeline. */
export async function setDependencies(
  sql: Sql,
  pipeline: string,
  upstreams: string[],
): Promise<void> {
  await tx(sql, async (tx) => {
    // Two replacements at once would both delete, then both insert the same edges.
    await query(tx, DEPENDENCY_LOCK, [pipeline]);
    await query(tx, "DELETE FROM dependencies WHERE pipeline = $1", [pipeline]);
    if (upstreams.length === 0) return;
    await query(
      tx,
      `INSERT INTO dependencies (pipeline, upstream)
       SELECT $1, upstream FROM json_array_elements_text($2::json) AS edge(upstream)`,
      [pipeline, JSON.stringify(upstreams)],
    );
  });
}

export async function listDependencies(db: Db): Promise<DependencyEdge[]> {
  const rows = await query(
    db,
    "SELECT pipeline, upstream FROM dependencies ORDER BY pipeline, upstream",
  );
  return rows as unknown as DependencyEdge[];
}

export function listLogicalRun(db: Db, logicalRun: string): Promise<RunRecord[]> {
  return runs(
    db,
    `SELECT ${RUN_COLUMNS} FROM runs WHERE logical_run = $1
     ORDER BY created_at ASC, run_id ASC`,
    [logicalRun],
  );
}

export function createDependencyRun(db: Db, run: NewRun): Promise<RunRecord | null> {
  // The partial unique index on (logical_run, pipeline) for dependency runs decides, in the
  // database, which of several evaluations creates the run; the others get null.
  return insertRun(db, run, { ifAbsent: true });
}
