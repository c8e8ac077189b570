/** Lineage on PostgreSQL: a run's tables, and those of each pipeline's latest successful run. */

import type { LineageEntry, LineageFilter, LineageRecord } from "../lineage_types.ts";
import { clean, count, type Db, type Param, query, type Sql, tx } from "./db.ts";

const COLUMNS = "run_id, pipeline, connection, schema_name, table_name, direction, step";
const ORDER = "ORDER BY pipeline, connection, schema_name, table_name, direction";
/** The run an entry belongs to is its pipeline's latest successful run. */
const CURRENT = `run_id = (SELECT r.run_id FROM runs r
  WHERE r.pipeline = lineage.pipeline AND r.status = 'success'
  ORDER BY r.created_at DESC, r.run_id DESC LIMIT 1)`;

/** Replaces the lineage of a run (an attempt's lineage replaces the one before). */
export function saveLineage(
  sql: Sql,
  runId: string,
  pipeline: string,
  entries: LineageEntry[],
): Promise<void> {
  return tx(sql, async (db) => {
    await query(db, "DELETE FROM lineage WHERE run_id = $1", [runId]);
    for (const e of entries) {
      await query(
        db,
        `INSERT INTO lineage (${COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT DO NOTHING`,
        [
          runId,
          pipeline,
          clean(e.connection),
          clean(e.schema_name),
          clean(e.table_name),
          e.direction,
          e.step === null ? null : clean(e.step),
        ],
      );
    }
  });
}

export async function listRunLineage(db: Db, runId: string): Promise<LineageRecord[]> {
  const rows = await query(db, `SELECT ${COLUMNS} FROM lineage WHERE run_id = $1 ${ORDER}`, [
    runId,
  ]);
  return rows as unknown as LineageRecord[];
}

export async function currentLineage(db: Db, filter: LineageFilter): Promise<LineageRecord[]> {
  const where: string[] = [CURRENT];
  const params: Param[] = [];
  if (filter.table !== undefined) {
    params.push(filter.table);
    where.push(`table_name = $${params.length}`);
  }
  if (filter.pipeline !== undefined) {
    params.push(filter.pipeline);
    where.push(`pipeline = $${params.length}`);
  }
  params.push(count(filter.limit ?? 1000));
  const rows = await query(
    db,
    `SELECT ${COLUMNS} FROM lineage WHERE ${where.join(" AND ")} ${ORDER} LIMIT $${params.length}`,
    params,
  );
  return rows as unknown as LineageRecord[];
}
