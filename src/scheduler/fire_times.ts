/**
 * When a schedule fires. Pure: no clock and no timers, the scheduler passes every instant in.
 *
 * A `cron` schedule is a croner pattern of 5 fields, or 6 with seconds first, read in an IANA
 * time zone; it fires on whole seconds. An `every` schedule fires at anchor + k * seconds for
 * k >= 1, in elapsed time: time zones and daylight saving do not apply to it.
 *
 * Daylight saving, for cron schedules. Croner 11 does this itself; we only choose its
 * `fixedTimeRule: "no-wildcard"`, so that lists and ranges of times (`0 9,17 * * *`) are
 * wall-clock jobs as in Vixie cron, rather than just single times.
 * - Wall-clock jobs, whose second, minute and hour fields hold no `*`, `?` or step
 *   (`30 2 * * *`, `0 9,17 * * *`), fire once at each of their local times. A time that
 *   does not exist on the spring-forward day fires at the first valid instant after the gap, so
 *   it is not skipped: `30 2 * * *` in Europe/Berlin on 2026-03-29 fires at 03:00 CEST, which is
 *   01:00Z. A time that occurs twice on the fall-back day fires at its first occurrence only:
 *   on 2026-10-25 at 02:30 CEST, 00:30Z, and not at 02:30 CET.
 * - Interval jobs, with a `*` or a step in one of those fields (`0 * * * *`, `0-59/5 * * * *`),
 *   follow real time: local times in the gap do not exist and are skipped, and the repeated
 *   hour fires on both passes. An hourly job fires 23 times on the spring-forward day and 25
 *   times on the fall-back day, an hour apart, never twice at one instant.
 *
 * Both rules hold whatever instant the search starts from, so the second 02:30 of a fall-back
 * day is never a fire time, even for a scheduler that last looked at 02:45 CEST.
 */
import { Cron } from "croner";
import { errorText } from "../core/errors.ts";

export type ScheduleSpec =
  | { kind: "cron"; expression: string; timezone: string }
  | { kind: "every"; seconds: number; anchor: Date };

type CronSpec = Extract<ScheduleSpec, { kind: "cron" }>;
type EverySpec = Extract<ScheduleSpec, { kind: "every" }>;

export type DueFires = { fires: Date[]; skipped: number };

/**
 * How many cron fire times dueFires walks one by one. Croner takes about 0.1 ms a step in a
 * time zone, so this bounds a call to roughly half a second; past it, see dueFires.
 */
export const MAX_CRON_STEPS = 5_000;

// The latest instant a Date can hold.
const MAX_TIME = 8.64e15;

/** Validates a spec; returns an error message or undefined. */
export function specError(spec: ScheduleSpec): string | undefined {
  if (spec.kind === "every") return everyError(spec);
  const cron = compileCron(spec);
  if (typeof cron === "string") return cron;
  // Without a year field a pattern that fires once fires forever, so one probe finds the
  // patterns that never fire (30 February).
  if (cron.nextRun(new Date(0)) === null) return `cron expression "${spec.expression}" never fires`;
  return undefined;
}

/** The first fire time strictly after `after`, or null if the schedule never fires again. */
export function nextFire(spec: ScheduleSpec, after: Date): Date | null {
  if (spec.kind === "cron") return cronOf(spec).nextRun(after);
  const { anchorMs, periodMs } = everyOf(spec);
  const t = anchorMs + firstIndexAfter(anchorMs, periodMs, after.getTime()) * periodMs;
  return t <= MAX_TIME ? new Date(t) : null;
}

/**
 * The fire times t with after < t <= until, oldest first, but at most `limit` of them: when
 * there are more, the newest `limit` are returned and `skipped` counts the older ones left out.
 * The result is what iterating nextFire from `after` gives, with one approximation: past
 * MAX_CRON_STEPS cron fire times, the newest `limit` are still exact and consistent with
 * nextFire, but the number of fire times between the first MAX_CRON_STEPS and those is
 * estimated from the average spacing of the ones walked. That is exact for evenly spaced
 * schedules (every minute, every hour) and close for the others. `every` is always exact.
 */
export function dueFires(spec: ScheduleSpec, after: Date, until: Date, limit: number): DueFires {
  if (!Number.isInteger(limit) || limit < 0) {
    throw new RangeError(`limit must be a whole number >= 0, got ${limit}`);
  }
  if (spec.kind === "cron") return dueCron(cronOf(spec), after, until, limit);
  const { anchorMs, periodMs } = everyOf(spec);
  const first = firstIndexAfter(anchorMs, periodMs, after.getTime());
  const last = Math.floor((until.getTime() - anchorMs) / periodMs);
  const fires: Date[] = [];
  for (let k = Math.max(first, last - limit + 1); k <= last; k++) {
    fires.push(new Date(anchorMs + k * periodMs));
  }
  return { fires, skipped: Math.max(0, last - first + 1) - fires.length };
}

function dueCron(cron: Cron, after: Date, until: Date, limit: number): DueFires {
  const walked = runsBetween(cron, after, until, MAX_CRON_STEPS);
  if (walked.length < MAX_CRON_STEPS) return newest(walked, limit, 0);

  // Too many to walk: fetch the newest from the far end, and estimate how many lie between.
  const lastWalked = walked[walked.length - 1]!;
  const want = Math.max(limit, 1);
  const back = cron.previousRuns(want, new Date(until.getTime() + 1))
    .filter((t) => t > lastWalked);
  if (back.length < want) {
    return newest(walked.concat(runsBetween(cron, lastWalked, until)), limit, 0);
  }
  // Walk forward again from the oldest of them, so that the fires are nextFire's exactly.
  const tail = runsBetween(cron, new Date(back[want - 1]!.getTime() - 1), until);
  const spacing = (lastWalked.getTime() - walked[0]!.getTime()) / (walked.length - 1);
  const gap = tail[0]!.getTime() - lastWalked.getTime();
  const between = Math.max(0, Math.round(gap / spacing) - 1);
  return newest(tail, limit, walked.length + between);
}

/** Cron fire times t with after < t <= until, oldest first, at most `max` of them. */
function runsBetween(cron: Cron, after: Date, until: Date, max = Infinity): Date[] {
  const runs: Date[] = [];
  for (let t = cron.nextRun(after); t && t <= until && runs.length < max; t = cron.nextRun(t)) {
    runs.push(t);
  }
  return runs;
}

function newest(fires: Date[], limit: number, skippedBefore: number): DueFires {
  const kept = fires.slice(Math.max(0, fires.length - limit));
  return { fires: kept, skipped: skippedBefore + fires.length - kept.length };
}

/** The smallest k >= 1 with anchor + k * period > t. */
function firstIndexAfter(anchorMs: number, periodMs: number, t: number): number {
  return Math.max(1, Math.floor((t - anchorMs) / periodMs) + 1);
}

function everyError(spec: EverySpec): string | undefined {
  if (!Number.isInteger(spec.seconds) || spec.seconds < 1) {
    return `every: seconds must be a whole number >= 1, got ${spec.seconds}`;
  }
  if (!(spec.anchor instanceof Date) || Number.isNaN(spec.anchor.getTime())) {
    return "every: anchor is not a valid date";
  }
  return undefined;
}

function everyOf(spec: EverySpec): { anchorMs: number; periodMs: number } {
  const error = everyError(spec);
  if (error) throw new TypeError(error);
  return { anchorMs: spec.anchor.getTime(), periodMs: spec.seconds * 1000 };
}

function compileCron(spec: CronSpec): Cron | string {
  try {
    // Croner only notices an unknown zone when it first computes a time.
    new Intl.DateTimeFormat("en-US", { timeZone: spec.timezone });
  } catch {
    return `unknown time zone "${spec.timezone}"`;
  }
  try {
    return new Cron(spec.expression, {
      paused: true,
      timezone: spec.timezone,
      mode: "5-or-6-parts",
      fixedTimeRule: "no-wildcard",
    });
  } catch (err) {
    const message = errorText(err);
    return `invalid cron expression "${spec.expression}": ${message}`;
  }
}

/**
 * Compiled crons by pattern and zone. Compiling one, the zone check included, costs ~0.2 ms, and
 * a pass asks for the same few patterns once per pipeline. A Cron made paused is only read here
 * (nextRun, previousRuns), so one instance serves every caller.
 */
const compiled = new Map<string, Cron>();
const MAX_COMPILED = 1_000;

function cronOf(spec: CronSpec): Cron {
  const key = `${spec.expression}\0${spec.timezone}`;
  const known = compiled.get(key);
  if (known) return known;
  const cron = compileCron(spec);
  if (typeof cron === "string") throw new TypeError(cron);
  if (compiled.size >= MAX_COMPILED) compiled.clear();
  compiled.set(key, cron);
  return cron;
}
