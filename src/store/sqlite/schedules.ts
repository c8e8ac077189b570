/** Schedules and their ticks on SQLite. */

import {
  DEFAULT_LIMIT,
  SCHEDULE_STAMP_SQL,
  TICK_INSERT_COLUMNS,
  tickValues,
  toSchedule,
} from "../codec.ts";
import type { ScheduleInput, ScheduleRecord, TickInput, TickRecord, TickResult } from "../types.ts";
import { count, type Db } from "./db.ts";
import { addRun } from "./runs.ts";

export function getSchedule(db: Db, pipeline: string): ScheduleRecord | null {
  const row = db.stmt("SELECT * FROM schedules WHERE pipeline = ?").get(pipeline);
  return row ? toSchedule(row) : null;
}

export function listSchedules(db: Db): ScheduleRecord[] {
  return db.stmt("SELECT * FROM schedules ORDER BY pipeline").all().map(toSchedule);
}

export function scheduleStamp(db: Db): string {
  const row = db.stmt(SCHEDULE_STAMP_SQL).get();
  return JSON.stringify(row);
}

export function setSchedule(
  db: Db,
  pipeline: string,
  input: ScheduleInput | null,
  now: Date,
): ScheduleRecord | null {
  return db.tx(() => {
    if (input === null) {
      db.stmt("DELETE FROM schedules WHERE pipeline = ?").run(pipeline);
      return null;
    }
    const current = getSchedule(db, pipeline);
    const same = current && current.cron === input.cron &&
      current.every_s === input.every_s && current.timezone === input.timezone;
    if (same) return current;
    const at = now.toISOString();
    db.stmt(
      `INSERT INTO schedules (pipeline, cron, every_s, timezone, enabled, anchor, last_tick,
         missed, updated_at)
       VALUES (?, ?, ?, ?, 1, ?, ?, 0, ?)
       ON CONFLICT (pipeline) DO UPDATE SET cron = excluded.cron, every_s = excluded.every_s,
         timezone = excluded.timezone, anchor = excluded.anchor,
         last_tick = max(schedules.last_tick, excluded.last_tick),
         updated_at = excluded.updated_at`,
    ).run(pipeline, input.cron, input.every_s, input.timezone, at, at, at);
    return getSchedule(db, pipeline);
  });
}

export function setScheduleEnabled(
  db: Db,
  pipeline: string,
  enabled: boolean,
  now: Date,
): ScheduleRecord | null {
  const at = now.toISOString();
  // Re-enabling moves last_tick to now (never back): a disabled period is not caught up.
  db.stmt(
    `UPDATE schedules SET enabled = ?, updated_at = ?,
       last_tick = CASE WHEN ? = 1 AND enabled = 0 THEN max(last_tick, ?) ELSE last_tick END
     WHERE pipeline = ?`,
  ).run(enabled ? 1 : 0, at, enabled ? 1 : 0, at, pipeline);
  return getSchedule(db, pipeline);
}

/** Records ticks with their runs in one transaction; each is recorded at most once. */
export function recordTicks(db: Db, ticks: TickInput[]): TickResult[] {
  return db.tx(() => ticks.map((tick) => insertTick(db, tick)));
}

function insertTick(db: Db, tick: TickInput): TickResult {
  const { changes } = db.stmt(
    `INSERT OR IGNORE INTO ticks (${TICK_INSERT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?)`,
  ).run(...tickValues(tick));
  if (Number(changes) === 0) return { recorded: false, run_id: null };
  db.stmt(
    "UPDATE schedules SET last_tick = max(last_tick, ?) WHERE pipeline = ?",
  ).run(tick.scheduled_at, tick.pipeline);
  if (tick.run) addRun(db, tick.run);
  return { recorded: true, run_id: tick.run?.run_id ?? null };
}

export function skipTicks(db: Db, pipeline: string, lastTick: string, count: number): void {
  db.stmt(
    "UPDATE schedules SET last_tick = max(last_tick, ?), missed = missed + ? WHERE pipeline = ?",
  ).run(lastTick, count, pipeline);
}

export function listTicks(db: Db, pipeline: string, options: { limit?: number }): TickRecord[] {
  return db.stmt(
    "SELECT * FROM ticks WHERE pipeline = ? ORDER BY scheduled_at DESC LIMIT ?",
  ).all(pipeline, count(options.limit ?? DEFAULT_LIMIT)).map((row) =>
    ({ ...row }) as unknown as TickRecord
  );
}
