/**
 * Fire times of stored schedules, for a whole scheduler pass at once. A pass asks about every
 * enabled schedule, and thousands of them usually share a few patterns; croner costs ~0.1 ms a
 * step, so each pattern is worked out once per pass and each schedule only filters the result.
 */
import type { ScheduleRecord } from "../store/mod.ts";
import { type DueFires, dueFires, nextFire, type ScheduleSpec } from "./fire_times.ts";

export function specOf(schedule: ScheduleRecord, timezone: string): ScheduleSpec {
  return schedule.cron !== null
    ? { kind: "cron", expression: schedule.cron, timezone: schedule.timezone ?? timezone }
    : { kind: "every", seconds: schedule.every_s ?? 0, anchor: new Date(schedule.anchor) };
}

/** When an enabled schedule fires next after `now` (null when disabled or never). */
export function nextFireOf(schedule: ScheduleRecord | null, timezone: string, now: Date) {
  if (!schedule?.enabled) return null;
  const after = new Date(Math.max(now.getTime(), Date.parse(schedule.last_tick)));
  return nextFire(specOf(schedule, timezone), after);
}

/** The soonest next fire time among `schedules` after `now`, or null if none fires again. */
export function soonestFire(
  schedules: ScheduleRecord[],
  timezone: string,
  now: Date,
): Date | null {
  const memo = new Map<string, Date | null>();
  let soonest: Date | null = null;
  for (const schedule of schedules) {
    if (!schedule.enabled) continue;
    const spec = specOf(schedule, timezone);
    const after = Math.max(now.getTime(), Date.parse(schedule.last_tick));
    const key = `${JSON.stringify(spec)}\0${after}`;
    if (!memo.has(key)) memo.set(key, nextFire(spec, new Date(after)));
    const next = memo.get(key)!;
    if (next && (!soonest || next < soonest)) soonest = next;
  }
  return soonest;
}

/**
 * dueFires(spec, last_tick, now, limit) of each enabled schedule, keyed by pipeline. Schedules on
 * one spec share one computation from their oldest last tick: a schedule's fires are a suffix of
 * that one's, so they are its kept fires later than the schedule's own last tick. Only where
 * that suffix could be cut short by `limit` (a schedule with older instants than it keeps) is
 * the schedule computed on its own.
 */
export function duePerSchedule(
  schedules: ScheduleRecord[],
  timezone: string,
  now: Date,
  limit: number,
): Map<string, DueFires> {
  const groups = new Map<string, { spec: ScheduleSpec; members: ScheduleRecord[] }>();
  for (const schedule of schedules) {
    if (!schedule.enabled) continue;
    const spec = specOf(schedule, timezone);
    const key = JSON.stringify(spec);
    const group = groups.get(key) ?? { spec, members: [] };
    group.members.push(schedule);
    groups.set(key, group);
  }
  const due = new Map<string, DueFires>();
  for (const { spec, members } of groups.values()) {
    const oldest = members.reduce((min, s) => Math.min(min, Date.parse(s.last_tick)), Infinity);
    const shared = dueFires(spec, new Date(oldest), now, limit);
    for (const schedule of members) {
      const after = Date.parse(schedule.last_tick);
      const fires = shared.fires.filter((t) => t.getTime() > after);
      const exact = shared.skipped === 0 || fires.length < limit;
      due.set(
        schedule.pipeline,
        exact ? { fires, skipped: 0 } : dueFires(spec, new Date(after), now, limit),
      );
    }
  }
  return due;
}
