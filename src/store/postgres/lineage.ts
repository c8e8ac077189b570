/** Lineage on PostgreSQL: a run's tables, and those of each pipeline's latest successful run. */

import type { LineageEntry, LineageFilter, LineageRecord } from "../lineage_types.ts";
import { CURRENT_LINEAGE, LINEAGE_COLUMNS, LINEAGE_ORDER } from "../lineage_codec.ts";
import { clean, count, type Db, type Param, query, type Sql, tx } from "./db.ts";

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
        `INSERT INTO lineage (${LINEAGE_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7)
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
  const rows = await query(
    db,
    `SELECT ${LINEAGE_COLUMNS} FROM lineage WHERE run_id = $1 ${LINEAGE_ORDER}`,
    [
      runId,
    ],
  );
  return rows as unknown as LineageRecord[];
}

export async function currentLineage(db: Db, filter: LineageFilter): Promise<LineageRecord[]> {
  const where: string[] = [CURRENT_LINEAGE];
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
    `SELECT ${LINEAGE_COLUMNS} FROM lineage WHERE ${
      where.join(" AND ")
    } ${LINEAGE_ORDER} LIMIT $${params.length}`,
    params,
  );
  return rows as unknown as LineageRecord[];
}
