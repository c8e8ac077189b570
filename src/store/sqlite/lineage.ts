/** Lineage on SQLite: a run's tables, and those of each pipeline's latest successful run. */

import type { LineageEntry, LineageFilter, LineageRecord } from "../lineage_types.ts";
import { CURRENT_LINEAGE, LINEAGE_COLUMNS, LINEAGE_ORDER } from "../lineage_codec.ts";
import { count, type Db } from "./db.ts";

/** Replaces the lineage of a run (an attempt's lineage replaces the one before). */
export function saveLineage(
  db: Db,
  runId: string,
  pipeline: string,
  entries: LineageEntry[],
): void {
  db.tx(() => {
    db.stmt("DELETE FROM lineage WHERE run_id = ?").run(runId);
    const insert = db.stmt(
      `INSERT INTO lineage (${LINEAGE_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
    );
    for (const e of entries) {
      insert.run(runId, pipeline, e.connection, e.schema_name, e.table_name, e.direction, e.step);
    }
  });
}

export function listRunLineage(db: Db, runId: string): LineageRecord[] {
  return db.stmt(`SELECT ${LINEAGE_COLUMNS} FROM lineage WHERE run_id = ? ${LINEAGE_ORDER}`).all(
    runId,
  )
    .map((row) => ({ ...row }) as unknown as LineageRecord);
}

export function currentLineage(db: Db, filter: LineageFilter): LineageRecord[] {
  const where: string[] = [CURRENT_LINEAGE];
  const params: (string | number)[] = [];
  if (filter.table !== undefined) {
    where.push("table_name = ?");
    params.push(filter.table);
  }
  if (filter.pipeline !== undefined) {
    where.push("pipeline = ?");
    params.push(filter.pipeline);
  }
  params.push(count(filter.limit ?? 1000));
  return db.stmt(
    `SELECT ${LINEAGE_COLUMNS} FROM lineage WHERE ${where.join(" AND ")} ${LINEAGE_ORDER} LIMIT ?`,
  )
    .all(...params).map((row) => ({ ...row }) as unknown as LineageRecord);
}
