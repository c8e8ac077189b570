/**
 * Schedules and their ticks on PostgreSQL. A tick is a primary key: `ON CONFLICT DO NOTHING`
 * lets one of several schedulers record an instant, and its run is inserted in the same
 * transaction only when the tick row was.
 */

import {
  DEFAULT_LIMIT,
  SCHEDULE_STAMP_SQL,
  TICK_INSERT_COLUMNS,
  tickValues,
  toSchedule,
} from "../codec.ts";
import type { ScheduleInput, ScheduleRecord, TickInput, TickRecord, TickResult } from "../types.ts";
import { SCHEDULE_COLUMNS, TICK_COLUMNS } from "./columns.ts";
import { count, type Db, query, type Sql, tx } from "./db.ts";
import { insertRun } from "./runs.ts";

export async function getSchedule(
  db: Db,
  pipeline: string,
  lock = false,
): Promise<ScheduleRecord | null> {
  const [row] = await query(
    db,
    `SELECT ${SCHEDULE_COLUMNS} FROM schedules WHERE pipeline = $1${lock ? " FOR UPDATE" : ""}`,
    [pipeline],
  );
  return row ? toSchedule(row) : null;
}

export async function listSchedules(db: Db): Promise<ScheduleRecord[]> {
  const rows = await query(db, `SELECT ${SCHEDULE_COLUMNS} FROM schedules ORDER BY pipeline`);
  return rows.map(toSchedule);
}

export async function scheduleStamp(db: Db): Promise<string> {
  const [row] = await query(db, SCHEDULE_STAMP_SQL);
  return JSON.stringify(row);
}

export function setSchedule(
  sql: Sql,
  pipeline: string,
  input: ScheduleInput | null,
  now: Date,
): Promise<ScheduleRecord | null> {
  return tx(sql, async (tx) => {
    if (input === null) {
      await query(tx, "DELETE FROM schedules WHERE pipeline = $1", [pipeline]);
      return null;
    }
    const current = await getSchedule(tx, pipeline, true);
    const same = current && current.cron === input.cron &&
      current.every_s === input.every_s && current.timezone === input.timezone;
    if (same) return current;
    const at = now.toISOString();
    const [row] = await query(
      tx,
      `INSERT INTO schedules (pipeline, cron, every_s, timezone, enabled, anchor, last_tick,
         missed, updated_at)
       VALUES ($1, $2, $3, $4, true, $5, $5, 0, $5)
       ON CONFLICT (pipeline) DO UPDATE SET cron = excluded.cron, every_s = excluded.every_s,
         timezone = excluded.timezone, anchor = excluded.anchor,
         last_tick = GREATEST(schedules.last_tick, excluded.last_tick),
         updated_at = excluded.updated_at
       RETURNING ${SCHEDULE_COLUMNS}`,
      [pipeline, input.cron, input.every_s, input.timezone, at],
    );
    return row ? toSchedule(row) : null;
  });
}

export async function setScheduleEnabled(
  db: Db,
  pipeline: string,
  enabled: boolean,
  now: Date,
): Promise<ScheduleRecord | null> {
  // Re-enabling moves last_tick to now (never back): a disabled period is not caught up.
  const [row] = await query(
    db,
    `UPDATE schedules SET enabled = $1, updated_at = $2,
       last_tick = CASE WHEN $1 AND NOT enabled THEN GREATEST(last_tick, $2) ELSE last_tick END
     WHERE pipeline = $3
     RETURNING ${SCHEDULE_COLUMNS}`,
    [enabled, now.toISOString(), pipeline],
  );
  return row ? toSchedule(row) : null;
}

/** Records ticks with their runs in one transaction; each is recorded at most once. */
export function recordTicks(sql: Sql, ticks: TickInput[]): Promise<TickResult[]> {
  return tx(sql, async (tx) => {
    const results: TickResult[] = [];
    for (const tick of ticks) results.push(await insertTick(tx, tick));
    return results;
  });
}

async function insertTick(tx: Db, tick: TickInput): Promise<TickResult> {
  // A second process inserting the same instant waits here on the first one's uncommitted
  // row, then inserts nothing once it commits (or takes over if it rolled back).
  const inserted = await query(
    tx,
    `INSERT INTO ticks (${TICK_INSERT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6)
     ON CONFLICT (pipeline, scheduled_at) DO NOTHING RETURNING pipeline`,
    tickValues(tick),
  );
  if (inserted.length === 0) return { recorded: false, run_id: null };
  await query(
    tx,
    "UPDATE schedules SET last_tick = GREATEST(last_tick, $1) WHERE pipeline = $2",
    [tick.scheduled_at, tick.pipeline],
  );
  if (tick.run) await insertRun(tx, tick.run, { returning: false });
  return { recorded: true, run_id: tick.run?.run_id ?? null };
}

export async function skipTicks(
  db: Db,
  pipeline: string,
  lastTick: string,
  count: number,
): Promise<void> {
  await query(
    db,
    `UPDATE schedules SET last_tick = GREATEST(last_tick, $1), missed = missed + $2
     WHERE pipeline = $3`,
    [lastTick, count, pipeline],
  );
}

export async function listTicks(
  db: Db,
  pipeline: string,
  options: { limit?: number },
): Promise<TickRecord[]> {
  const rows = await query(
    db,
    `SELECT ${TICK_COLUMNS} FROM ticks WHERE pipeline = $1 ORDER BY scheduled_at DESC LIMIT $2`,
    [pipeline, count(options.limit ?? DEFAULT_LIMIT)],
  );
  return rows as unknown as TickRecord[];
}
