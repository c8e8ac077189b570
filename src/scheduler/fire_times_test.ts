import { assert, assertEquals, assertMatch } from "../../tests/helpers/assert.ts";
import { dueFires, MAX_CRON_STEPS, nextFire, type ScheduleSpec, specError } from "./fire_times.ts";

const HOUR = 3_600_000;
const BIG = 1_000_000;

const cron = (expression: string, timezone = "Europe/Berlin"): ScheduleSpec => ({
  kind: "cron",
  expression,
  timezone,
});
const every = (seconds: number, anchor: string): ScheduleSpec => ({
  kind: "every",
  seconds,
  anchor: new Date(anchor),
});
const isos = (dates: Date[]) => dates.map((d) => d.toISOString());
const due = (spec: ScheduleSpec, after: string, until: string, limit = BIG) =>
  dueFires(spec, new Date(after), new Date(until), limit);

/** Fire times by iterating nextFire, the reference dueFires must agree with. */
function iterate(spec: ScheduleSpec, after: string, until: string): string[] {
  const out: string[] = [];
  for (let t = nextFire(spec, new Date(after)); t && t <= new Date(until); t = nextFire(spec, t)) {
    out.push(t.toISOString());
  }
  return out;
}

function assertHourly(fires: Date[]) {
  for (let i = 1; i < fires.length; i++) {
    assertEquals(fires[i]!.getTime() - fires[i - 1]!.getTime(), HOUR);
  }
}

Deno.test("specError accepts valid specs", () => {
  assertEquals(specError(cron("30 2 * * *")), undefined);
  assertEquals(specError(cron("0 30 2 * * *", "America/New_York")), undefined);
  assertEquals(specError(cron("0 9,17 * * MON-FRI", "UTC")), undefined);
  assertEquals(specError(every(1, "2026-01-01T00:00:00Z")), undefined);
});

Deno.test("specError explains invalid specs", () => {
  assertMatch(
    specError(cron("61 * * * *"))!,
    /^invalid cron expression "61 \* \* \* \*": .*minute/,
  );
  assertMatch(specError(cron("nope"))!, /^invalid cron expression "nope"/);
  // Seven fields (with a year) are not accepted, only 5 or 6.
  assertMatch(specError(cron("0 0 0 * * * 2030"))!, /^invalid cron expression/);
  assertEquals(specError(cron("0 0 30 2 *")), 'cron expression "0 0 30 2 *" never fires');
  assertEquals(specError(cron("* * * * *", "Mars/Base")), 'unknown time zone "Mars/Base"');
  assertEquals(specError(cron("* * * * *", "")), 'unknown time zone ""');
  for (const seconds of [0, -5, 0.5, 1.5, NaN]) {
    assertMatch(specError(every(seconds, "2026-01-01T00:00:00Z"))!, /seconds must be a whole/);
  }
  assertEquals(specError(every(60, "not a date")), "every: anchor is not a valid date");
});

Deno.test("nextFire and dueFires refuse invalid specs and limits", () => {
  const now = new Date("2026-01-01T00:00:00Z");
  for (const spec of [cron("* * * * *", "Mars/Base"), cron("61 * * * *"), every(0, "2026")]) {
    assert.throws(() => nextFire(spec, now), TypeError);
    assert.throws(() => dueFires(spec, now, now, 1), TypeError);
  }
  assert.throws(() => dueFires(cron("* * * * *"), now, now, -1), RangeError);
});

Deno.test("after is exclusive and until inclusive", () => {
  const hourly = cron("0 * * * *", "UTC");
  assertEquals(isos(due(hourly, "2026-01-01T01:00:00Z", "2026-01-01T03:00:00Z").fires), [
    "2026-01-01T02:00:00.000Z",
    "2026-01-01T03:00:00.000Z",
  ]);
  assertEquals(
    nextFire(hourly, new Date("2026-01-01T01:00:00Z"))?.toISOString(),
    "2026-01-01T02:00:00.000Z",
  );
  assertEquals(
    nextFire(hourly, new Date("2026-01-01T01:59:59.999Z"))?.toISOString(),
    "2026-01-01T02:00:00.000Z",
  );

  const minutely = every(60, "2026-01-01T00:00:00Z");
  assertEquals(isos(due(minutely, "2026-01-01T00:01:00Z", "2026-01-01T00:03:00Z").fires), [
    "2026-01-01T00:02:00.000Z",
    "2026-01-01T00:03:00.000Z",
  ]);
  assertEquals(
    nextFire(minutely, new Date("2026-01-01T00:01:00Z"))?.toISOString(),
    "2026-01-01T00:02:00.000Z",
  );

  for (const spec of [hourly, minutely]) {
    assertEquals(due(spec, "2026-01-01T03:00:00Z", "2026-01-01T03:00:00Z"), {
      fires: [],
      skipped: 0,
    });
    assertEquals(due(spec, "2026-01-01T05:00:00Z", "2026-01-01T03:00:00Z"), {
      fires: [],
      skipped: 0,
    });
  }
});

Deno.test("every fires at anchor + k * seconds, k >= 1, ignoring time zones", () => {
  const spec = every(3600, "2026-03-28T23:30:00Z");
  // The anchor itself is not a fire time, and a start before the anchor changes nothing.
  assertEquals(
    nextFire(spec, new Date("2020-01-01T00:00:00Z"))?.toISOString(),
    "2026-03-29T00:30:00.000Z",
  );
  // Straight through Berlin's spring-forward night: one fire per elapsed hour.
  assertEquals(isos(due(spec, "2026-03-28T23:30:00Z", "2026-03-29T03:00:00Z").fires), [
    "2026-03-29T00:30:00.000Z",
    "2026-03-29T01:30:00.000Z",
    "2026-03-29T02:30:00.000Z",
  ]);
  assertEquals(
    nextFire(every(7, "2026-01-01T00:00:00.250Z"), new Date("2026-01-01T00:00:14.250Z"))
      ?.toISOString(),
    "2026-01-01T00:00:21.250Z",
  );
});

Deno.test("every: a year of one-second fires returns the newest, counts the rest exactly", () => {
  const spec = every(1, "2026-01-01T00:00:00Z");
  const started = performance.now();
  const { fires, skipped } = due(spec, "2026-01-01T00:00:00Z", "2027-01-01T00:00:00Z", 3);
  assert(performance.now() - started < 50, "every must be arithmetic, not a walk");
  assertEquals(isos(fires), [
    "2026-12-31T23:59:58.000Z",
    "2026-12-31T23:59:59.000Z",
    "2027-01-01T00:00:00.000Z",
  ]);
  assertEquals(skipped, 31_536_000 - 3);
  assertEquals(due(spec, "2026-01-01T00:00:00Z", "2026-01-01T00:01:00Z", 0), {
    fires: [],
    skipped: 60,
  });
});

Deno.test("Berlin spring forward: a daily time in the gap fires once, just after the gap", () => {
  assertEquals(
    isos(due(cron("30 2 * * *"), "2026-03-27T00:00:00Z", "2026-03-31T00:00:00Z").fires),
    [
      "2026-03-27T01:30:00.000Z", // 02:30 CET
      "2026-03-28T01:30:00.000Z", // 02:30 CET
      "2026-03-29T01:00:00.000Z", // 02:30 does not exist: 03:00 CEST
      "2026-03-30T00:30:00.000Z", // 02:30 CEST
    ],
  );
  // Starting inside the day changes nothing.
  assertEquals(
    nextFire(cron("30 2 * * *"), new Date("2026-03-29T00:30:00Z"))?.toISOString(),
    "2026-03-29T01:00:00.000Z",
  );
  // A list of times is wall-clock too: 02:30 moves to 03:00, 14:30 stays.
  assertEquals(
    isos(due(cron("30 2,14 * * *"), "2026-03-28T22:00:00Z", "2026-03-29T22:00:00Z").fires),
    ["2026-03-29T01:00:00.000Z", "2026-03-29T12:30:00.000Z"],
  );
});

Deno.test("Berlin fall back: a daily time that occurs twice fires once, the first time", () => {
  const spec = cron("30 2 * * *");
  assertEquals(isos(due(spec, "2026-10-23T00:00:00Z", "2026-10-27T00:00:00Z").fires), [
    "2026-10-23T00:30:00.000Z", // 02:30 CEST
    "2026-10-24T00:30:00.000Z", // 02:30 CEST
    "2026-10-25T00:30:00.000Z", // first 02:30, CEST; the second one (CET, 01:30Z) is not a fire
    "2026-10-26T01:30:00.000Z", // 02:30 CET
  ]);
  // Not even for a search that starts between the two 02:30s, or during the second one.
  for (const after of ["2026-10-25T00:45:00Z", "2026-10-25T01:15:00Z", "2026-10-25T01:29:59Z"]) {
    assertEquals(nextFire(spec, new Date(after))?.toISOString(), "2026-10-26T01:30:00.000Z");
  }
  assertEquals(
    isos(due(cron("30 2,14 * * *"), "2026-10-24T22:00:00Z", "2026-10-25T23:00:00Z").fires),
    ["2026-10-25T00:30:00.000Z", "2026-10-25T13:30:00.000Z"],
  );
});

Deno.test("Berlin hourly: every real hour, 23 on spring-forward day, 25 on fall-back day", () => {
  const hourly = cron("0 * * * *");
  // Local 2026-03-29 runs from 00:00 CET (23:00Z the day before) to 24:00 CEST (22:00Z).
  const spring = due(hourly, "2026-03-28T22:00:00Z", "2026-03-29T21:00:00Z").fires;
  assertEquals(spring.length, 23);
  assertEquals(spring[0]!.toISOString(), "2026-03-28T23:00:00.000Z");
  assertEquals(spring[1]!.toISOString(), "2026-03-29T00:00:00.000Z"); // 01:00 CET
  assertEquals(spring[2]!.toISOString(), "2026-03-29T01:00:00.000Z"); // 03:00 CEST
  assertEquals(spring[22]!.toISOString(), "2026-03-29T21:00:00.000Z");
  assertHourly(spring);

  // Local 2026-10-25 runs from 00:00 CEST (22:00Z the day before) to 24:00 CET (23:00Z).
  const fall = due(hourly, "2026-10-24T21:00:00Z", "2026-10-25T22:00:00Z").fires;
  assertEquals(fall.length, 25);
  assertEquals(isos(fall.slice(1, 5)), [
    "2026-10-24T23:00:00.000Z", // 01:00 CEST
    "2026-10-25T00:00:00.000Z", // 02:00 CEST
    "2026-10-25T01:00:00.000Z", // 02:00 CET
    "2026-10-25T02:00:00.000Z", // 03:00 CET
  ]);
  assertEquals(fall[24]!.toISOString(), "2026-10-25T22:00:00.000Z");
  assertHourly(fall);
});

Deno.test("New York: the same rules on 2026-03-08 and 2026-11-01", () => {
  const ny = (expression: string) => cron(expression, "America/New_York");
  assertEquals(isos(due(ny("30 2 * * *"), "2026-03-07T00:00:00Z", "2026-03-10T00:00:00Z").fires), [
    "2026-03-07T07:30:00.000Z", // 02:30 EST
    "2026-03-08T07:00:00.000Z", // 02:30 does not exist: 03:00 EDT
    "2026-03-09T06:30:00.000Z", // 02:30 EDT
  ]);
  assertEquals(isos(due(ny("30 1 * * *"), "2026-10-31T00:00:00Z", "2026-11-03T00:00:00Z").fires), [
    "2026-10-31T05:30:00.000Z", // 01:30 EDT
    "2026-11-01T05:30:00.000Z", // first 01:30, EDT; not again at 01:30 EST
    "2026-11-02T06:30:00.000Z", // 01:30 EST
  ]);
  // Local 2026-11-01 runs from 04:00Z to 05:00Z the next day: 25 hours.
  const fall = due(ny("0 * * * *"), "2026-11-01T03:00:00Z", "2026-11-02T04:00:00Z").fires;
  assertEquals(fall.length, 25);
  assertHourly(fall);
  const spring = due(ny("0 * * * *"), "2026-03-08T04:00:00Z", "2026-03-09T03:00:00Z").fires;
  assertEquals(spring.length, 23);
  assertHourly(spring);
});

Deno.test("dueFires agrees with iterating nextFire", () => {
  const cases: [ScheduleSpec, string, string][] = [
    [cron("0 * * * *"), "2026-03-27T00:00:00Z", "2026-03-31T00:00:00Z"],
    [cron("*/20 * * * *"), "2026-10-24T00:00:00Z", "2026-10-26T12:00:00Z"],
    [cron("30 2 * * *"), "2026-01-01T00:00:00Z", "2027-01-01T00:00:00Z"],
    [cron("0 30 1-3 * * *"), "2026-10-24T00:00:00Z", "2026-10-27T00:00:00Z"],
    [
      cron("0 9,17 * * MON-FRI", "America/New_York"),
      "2026-02-20T00:00:00Z",
      "2026-11-10T00:00:00Z",
    ],
    [every(7, "2026-03-29T00:00:03.5Z"), "2026-03-28T23:00:00Z", "2026-03-29T03:00:00Z"],
  ];
  for (const [spec, after, until] of cases) {
    const all = iterate(spec, after, until);
    assert(all.length > 5);
    assertEquals(due(spec, after, until), { fires: all.map((t) => new Date(t)), skipped: 0 });
    assertEquals(due(spec, after, until, 5), {
      fires: all.slice(-5).map((t) => new Date(t)),
      skipped: all.length - 5,
    });
  }
});

Deno.test("cron: ten days of minutes, limit 5, returns the 5 newest and skips 14395", () => {
  // 14400 fires is past MAX_CRON_STEPS: the count is estimated, and exact for even spacing.
  const { fires, skipped } = due(
    cron("* * * * *"),
    "2026-01-01T00:00:00Z",
    "2026-01-11T00:00:00Z",
    5,
  );
  assertEquals(isos(fires), [
    "2026-01-10T23:56:00.000Z",
    "2026-01-10T23:57:00.000Z",
    "2026-01-10T23:58:00.000Z",
    "2026-01-10T23:59:00.000Z",
    "2026-01-11T00:00:00.000Z",
  ]);
  assertEquals(skipped, 14_395);
});

Deno.test("cron: past MAX_CRON_STEPS the work is bounded and the newest fires stay exact", () => {
  // Two years of minutes, across four DST changes: every real minute fires once.
  const started = performance.now();
  const long = due(cron("* * * * *"), "2025-01-01T00:00:30Z", "2027-01-01T00:00:00Z", 2);
  assert(performance.now() - started < 5_000, "the walk must be capped");
  assertEquals(isos(long.fires), ["2026-12-31T23:59:00.000Z", "2027-01-01T00:00:00.000Z"]);
  assertEquals(long.skipped, 730 * 1440 - 2); // even spacing: the estimate is exact

  // Uneven spacing: the newest are exact, the count of older ones is an estimate.
  const office = cron("*/5 9-17 * * MON-FRI");
  const { fires, skipped } = due(office, "2026-01-01T00:00:00Z", "2027-01-01T00:00:00Z", 3);
  assertEquals(isos(fires), [
    "2026-12-31T16:45:00.000Z",
    "2026-12-31T16:50:00.000Z",
    "2026-12-31T16:55:00.000Z",
  ]);
  const exact = 28_188 - 3; // counted by iterating nextFire once
  assert(MAX_CRON_STEPS < exact);
  assert(Math.abs(skipped - exact) < exact * 0.1, `estimate ${skipped} is far from ${exact}`);

  // limit 0 still counts everything as skipped.
  const none = due(cron("* * * * *", "UTC"), "2026-01-01T00:00:00Z", "2026-01-11T00:00:00Z", 0);
  assertEquals(none, { fires: [], skipped: 14_400 });
});

Deno.test("cron: past MAX_CRON_STEPS the newest fires match nextFire across DST", () => {
  const hourly = cron("0 * * * *");
  const until = "2026-10-25T03:00:00Z";
  const { fires, skipped } = due(hourly, "2026-01-01T00:00:00Z", until, 6);
  assertEquals(isos(fires), iterate(hourly, "2026-10-24T12:00:00Z", until).slice(-6));
  assertEquals(isos(fires.slice(-3)), [
    "2026-10-25T01:00:00.000Z", // 02:00 CET
    "2026-10-25T02:00:00.000Z", // 03:00 CET
    "2026-10-25T03:00:00.000Z",
  ]);
  assertEquals(skipped, 297 * 24 + 3 - 6);

  // Just past the cap, fewer than `limit` remain: those are walked, and the count is exact.
  const minutely = cron("* * * * *", "UTC");
  const end = new Date(Date.parse("2026-01-01T00:00:00Z") + (MAX_CRON_STEPS + 3) * 60_000);
  const near = due(minutely, "2026-01-01T00:00:00Z", end.toISOString(), 10);
  assertEquals(near.fires.length, 10);
  assertEquals(near.fires[9], end);
  assertEquals(near.skipped, MAX_CRON_STEPS + 3 - 10);
});
