import { assertEquals } from "../../tests/helpers/assert.ts";
import type { ScheduleRecord } from "../store/mod.ts";
import { dueFires } from "./fire_times.ts";
import { duePerSchedule, nextFireOf, soonestFire, specOf } from "./schedule_times.ts";

const NOW = new Date("2026-06-01T12:00:30Z");
const MINUTE = 60_000;

function schedule(pipeline: string, spec: Partial<ScheduleRecord>, lastTickAgoMs: number) {
  const last = new Date(NOW.getTime() - lastTickAgoMs).toISOString();
  return {
    pipeline,
    cron: null,
    every_s: null,
    timezone: null,
    enabled: true,
    anchor: "2026-01-01T00:00:00Z",
    last_tick: last,
    missed: 0,
    ...spec,
  } as ScheduleRecord;
}

/** Schedules on a few shared patterns, their last ticks from seconds to days ago. */
function mixed(): ScheduleRecord[] {
  const specs: Partial<ScheduleRecord>[] = [
    { cron: "* * * * *" },
    { cron: "*/5 * * * *", timezone: "Europe/Berlin" },
    { cron: "0 12 * * *" },
    { every_s: 90 },
    { cron: "* * * * *", enabled: false },
  ];
  const agoes = [1_000, 45_000, 3 * MINUTE, 70 * MINUTE, 2 * 24 * 60 * MINUTE, 300 * MINUTE];
  const out: ScheduleRecord[] = [];
  for (const [i, spec] of specs.entries()) {
    for (const [j, ago] of agoes.entries()) out.push(schedule(`p_${i}_${j}`, spec, ago));
  }
  return out;
}

Deno.test("duePerSchedule: each schedule's due instants equal dueFires of that schedule alone", () => {
  for (const limit of [0, 1, 3, 100]) {
    const schedules = mixed();
    const due = duePerSchedule(schedules, "UTC", NOW, limit);
    for (const s of schedules) {
      const alone = s.enabled
        ? dueFires(specOf(s, "UTC"), new Date(s.last_tick), NOW, limit)
        : undefined;
      assertEquals(due.get(s.pipeline), alone, `${s.pipeline}, limit ${limit}`);
    }
  }
});

Deno.test("soonestFire is the earliest nextFireOf among enabled schedules", () => {
  const schedules = mixed();
  const expected = schedules.map((s) => nextFireOf(s, "UTC", NOW))
    .filter((t): t is Date => t !== null)
    .sort((a, b) => a.getTime() - b.getTime())[0];
  assertEquals(soonestFire(schedules, "UTC", NOW), expected);
  assertEquals(soonestFire([], "UTC", NOW), null);
});
