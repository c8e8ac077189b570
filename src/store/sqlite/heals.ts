/** Heals on SQLite: at most one running per pipeline, a lost one closed as interrupted. */

import { DEFAULT_LIMIT, type Row, toHeal } from "../codec.ts";
import { HEAL_INTERRUPTED, healUnderWay } from "../heal_rules.ts";
import { pipelineNotFound } from "../pipeline_rules.ts";
import type { HealPatch, HealRecord, NewHeal } from "../types.ts";
import { count, type Db } from "./db.ts";

export function createHeal(db: Db, heal: NewHeal, now: Date): HealRecord {
  let row;
  try {
    row = db.tx(() => {
      if ((heal.status ?? "running") === "running") {
        closeHeals(db, now, false, heal.pipeline);
      }
      return db.stmt(
        `INSERT INTO heals (id, pipeline, run_id, status, created_at, finished_at, expires_at,
           record) VALUES (?, ?, ?, ?, ?, NULL, ?, ?) RETURNING *`,
      ).get(
        heal.id,
        heal.pipeline,
        heal.run_id,
        heal.status ?? "running",
        now.toISOString(),
        heal.expires_at ?? null,
        JSON.stringify(heal.record ?? {}),
      );
    });
  } catch (err) {
    if (err instanceof Error && /FOREIGN KEY constraint failed/.test(err.message)) {
      throw pipelineNotFound(heal.pipeline, err);
    }
    if (err instanceof Error && /UNIQUE constraint failed: heals.pipeline/.test(err.message)) {
      throw healUnderWay(heal.pipeline, err);
    }
    throw err;
  }
  return toHeal(row as Row);
}

export function interruptHeals(db: Db, now: Date, options: { all: boolean }): number {
  return db.tx(() => closeHeals(db, now, options.all));
}

/** Closes running heals (all, or those whose lease ran out), of one pipeline or every one. */
function closeHeals(db: Db, now: Date, all: boolean, pipeline?: string): number {
  const at = now.toISOString();
  return db.stmt(
    `UPDATE heals SET status = 'interrupted', finished_at = ?,
       record = json_set(record, '$.error', json(?))
     WHERE status = 'running' AND (? OR expires_at < ?)
       AND (? IS NULL OR pipeline = ?)`,
  ).run(at, JSON.stringify(HEAL_INTERRUPTED), all ? 1 : 0, at, pipeline ?? null, pipeline ?? null)
    .changes as number;
}

export function updateHeal(db: Db, id: string, patch: HealPatch): HealRecord | null {
  // One statement for any patch: a field left out keeps its value.
  const row = db.stmt(
    `UPDATE heals SET status = coalesce(?, status),
       finished_at = CASE WHEN ? THEN ? ELSE finished_at END,
       expires_at = CASE WHEN ? THEN ? ELSE expires_at END, record = coalesce(?, record)
     WHERE id = ? RETURNING *`,
  ).get(
    patch.status ?? null,
    patch.finished_at !== undefined ? 1 : 0,
    patch.finished_at ?? null,
    patch.expires_at !== undefined ? 1 : 0,
    patch.expires_at ?? null,
    patch.record ? JSON.stringify(patch.record) : null,
    id,
  );
  return row ? toHeal(row) : null;
}

export function getHeal(db: Db, id: string): HealRecord | null {
  const row = db.stmt("SELECT * FROM heals WHERE id = ?").get(id);
  return row ? toHeal(row) : null;
}

export function listHeals(
  db: Db,
  pipeline: string,
  options: { limit?: number; since?: Date },
): HealRecord[] {
  return db.stmt(
    `SELECT * FROM heals WHERE pipeline = ? AND created_at >= ?
     ORDER BY created_at DESC, id DESC LIMIT ?`,
  ).all(pipeline, options.since?.toISOString() ?? "", count(options.limit ?? DEFAULT_LIMIT))
    .map(toHeal);
}
