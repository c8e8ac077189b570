/**
 * Heals on PostgreSQL: at most one running per pipeline (a partial unique index decides between
 * daemons), a lost one closed as interrupted.
 */

import { DEFAULT_LIMIT, type Row, toHeal } from "../codec.ts";
import { HEAL_INTERRUPTED, healUnderWay } from "../heal_rules.ts";
import { pipelineNotFound } from "../pipeline_rules.ts";
import type { HealPatch, HealRecord, NewHeal } from "../types.ts";
import { HEAL_COLUMNS } from "./columns.ts";
import { count, type Db, query, type Sql, sqlState, tx } from "./db.ts";

export async function createHeal(sql: Sql, heal: NewHeal, now: Date): Promise<HealRecord> {
  try {
    const [row] = await tx(sql, async (tx) => {
      if ((heal.status ?? "running") === "running") {
        await closeHeals(tx, now, false, heal.pipeline);
      }
      return await query(
        tx,
        `INSERT INTO heals (${HEAL_COLUMNS}) VALUES ($1, $2, $3, $4, $5, NULL, $6, $7)
         RETURNING ${HEAL_COLUMNS}`,
        [
          heal.id,
          heal.pipeline,
          heal.run_id,
          heal.status ?? "running",
          now.toISOString(),
          heal.expires_at ?? null,
          JSON.stringify(heal.record ?? {}),
        ],
      );
    });
    return toHeal(row as Row);
  } catch (err) {
    if (sqlState(err) === "23503") throw pipelineNotFound(heal.pipeline, err); // foreign key
    if (sqlState(err) === "23505") throw healUnderWay(heal.pipeline, err); // unique_violation
    throw err;
  }
}

export async function interruptHeals(
  db: Db,
  now: Date,
  options: { all: boolean },
): Promise<number> {
  return (await closeHeals(db, now, options.all)).length;
}

/** Closes running heals (all, or those whose lease ran out), of one pipeline or every one. */
function closeHeals(db: Db, now: Date, all: boolean, pipeline?: string): Promise<Row[]> {
  const at = now.toISOString();
  return query(
    db,
    `UPDATE heals SET status = 'interrupted', finished_at = $1,
       record = (record::jsonb || jsonb_build_object('error', $2::jsonb))::json
     WHERE status = 'running' AND ($3 OR expires_at < $1)
       AND ($4::text IS NULL OR pipeline = $4) RETURNING id`,
    [at, JSON.stringify(HEAL_INTERRUPTED), all, pipeline ?? null],
  );
}

export async function updateHeal(db: Db, id: string, patch: HealPatch): Promise<HealRecord | null> {
  // One statement for any patch: a field left out keeps its value.
  const [row] = await query(
    db,
    `UPDATE heals SET status = coalesce($1, status),
       finished_at = CASE WHEN $2 THEN $3 ELSE finished_at END,
       expires_at = CASE WHEN $4 THEN $5 ELSE expires_at END,
       record = coalesce($6::json, record)
     WHERE id = $7 RETURNING ${HEAL_COLUMNS}`,
    [
      patch.status ?? null,
      patch.finished_at !== undefined,
      patch.finished_at ?? null,
      patch.expires_at !== undefined,
      patch.expires_at ?? null,
      patch.record ? JSON.stringify(patch.record) : null,
      id,
    ],
  );
  return row ? toHeal(row) : null;
}

export async function getHeal(db: Db, id: string): Promise<HealRecord | null> {
  const [row] = await query(db, `SELECT ${HEAL_COLUMNS} FROM heals WHERE id = $1`, [id]);
  return row ? toHeal(row) : null;
}

export async function listHeals(
  db: Db,
  pipeline: string,
  options: { limit?: number; since?: Date },
): Promise<HealRecord[]> {
  const rows = await query(
    db,
    `SELECT ${HEAL_COLUMNS} FROM heals WHERE pipeline = $1 AND created_at >= $2
     ORDER BY created_at DESC, id DESC LIMIT $3`,
    [pipeline, options.since?.toISOString() ?? "", count(options.limit ?? DEFAULT_LIMIT)],
  );
  return rows.map(toHeal);
}
