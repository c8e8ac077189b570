/** Dependencies between pipelines on SQLite, and the runs of one DAG execution. */

import type { DependencyEdge, NewRun, RunRecord } from "../types.ts";
import type { Db } from "./db.ts";
import { insertRun, runs } from "./runs.ts";

/** Replaces the upstreams of a pipeline. */
export function setDependencies(db: Db, pipeline: string, upstreams: string[]): void {
  db.tx(() => {
    db.stmt("DELETE FROM dependencies WHERE pipeline = ?").run(pipeline);
    const insert = db.stmt("INSERT INTO dependencies (pipeline, upstream) VALUES (?, ?)");
    for (const upstream of upstreams) insert.run(pipeline, upstream);
  });
}

export function listDependencies(db: Db): DependencyEdge[] {
  return db.stmt("SELECT pipeline, upstream FROM dependencies ORDER BY pipeline, upstream")
    .all().map((row) => ({ ...row }) as unknown as DependencyEdge);
}

export function listLogicalRun(db: Db, logicalRun: string): RunRecord[] {
  return runs(
    db,
    "SELECT * FROM runs WHERE logical_run = ? ORDER BY created_at ASC, run_id ASC",
    logicalRun,
  );
}

export function createDependencyRun(db: Db, run: NewRun): RunRecord | null {
  try {
    return insertRun(db, run);
  } catch (err) {
    // The unique index on (logical_run, pipeline) for dependency runs: already triggered.
    if (err instanceof Error && /UNIQUE constraint failed/.test(err.message)) return null;
    throw err;
  }
}
