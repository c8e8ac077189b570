/**
 * Which scheduled instants a backfill covers: every fire time t of the pipeline's schedule with
 * from <= t < to, oldest first. Pure: the schedule's spec and the range in, instants out.
 *
 * A cron schedule's instants are nextFire's, in its time zone, daylight saving included (see
 * src/scheduler/fire_times.ts). An `every` schedule's are anchor + k * seconds for every whole k,
 * before the anchor too: a backfill is about the past, usually before the schedule was set.
 */
import { TauError } from "../core/errors.ts";
import { nextFire, type ScheduleSpec } from "../scheduler/fire_times.ts";

/** The most instants one backfill may cover. */
export const MAX_INSTANTS = 10_000;

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const DATE_TIME =
  /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})$/i;

/**
 * A time given on the command line: an ISO 8601 timestamp with its offset
 * (`2026-01-01T06:00:00Z`, `2026-01-01T07:00+01:00`), or a date (`2026-01-01`, midnight UTC).
 */
export function parseInstant(text: string, flag: string): Date {
  const shown = JSON.stringify(text.length > 64 ? `${text.slice(0, 64)}…` : text);
  const date = DATE.exec(text);
  const time = date ? null : DATE_TIME.exec(text);
  const parts = date ?? time;
  const hint = `give ${flag} as a date (2026-01-01, midnight UTC) or an ISO 8601 timestamp ` +
    "with its offset (2026-01-01T06:00:00Z)";
  if (!parts) {
    const noOffset = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/.test(text);
    throw new TauError(
      "invalid_params",
      noOffset
        ? `${flag} ${shown} has no time zone offset`
        : `${flag} ${shown} is not a date or an ISO 8601 timestamp`,
      { hint: noOffset ? `add Z (UTC) or an offset such as +02:00: ${text}Z` : hint },
    );
  }
  const [year, month, day] = [Number(parts[1]), Number(parts[2]), Number(parts[3])];
  const hour = time ? Number(time[4]) : 0;
  const minute = time ? Number(time[5]) : 0;
  const second = time?.[6] === undefined ? 0 : Number(time[6]);
  const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate();
  const valid = year >= 1970 && month >= 1 && month <= 12 && day >= 1 && day <= daysInMonth &&
    hour <= 23 && minute <= 59 && second <= 59;
  const at = new Date(date ? `${text}T00:00:00Z` : text.replace(" ", "T"));
  if (!valid || Number.isNaN(at.getTime())) {
    throw new TauError("invalid_params", `${flag} ${shown} is not a valid date`, { hint });
  }
  return at;
}

/** Refuses an empty or reversed range. */
export function checkRange(from: Date, to: Date): void {
  if (from.getTime() >= to.getTime()) {
    throw new TauError(
      "invalid_params",
      `--from (${from.toISOString()}) must be before --to (${to.toISOString()})`,
      { hint: "a backfill covers the instants t with from <= t < to; swap or widen them" },
    );
  }
}

/**
 * The schedule's instants in [from, to), oldest first. More than `max` is refused with a hint
 * to narrow the range (the count is known to exceed `max`, not how far).
 */
export function instantsIn(
  spec: ScheduleSpec,
  from: Date,
  to: Date,
  max = MAX_INSTANTS,
): Date[] {
  checkRange(from, to);
  const out: Date[] = [];
  const push = (t: Date) => {
    if (out.length === max) {
      throw new TauError(
        "invalid_params",
        `The range holds more than ${max} scheduled instants (the ${max}th is ` +
          `${out.at(-1)!.toISOString()})`,
        {
          hint: `narrow the range: --to ${out.at(-1)!.toISOString()} covers the first ${
            max - 1
          }; run the rest as another backfill`,
          details: { max_instants: max },
        },
      );
    }
    out.push(t);
  };
  if (spec.kind === "every") {
    const period = spec.seconds * 1000;
    const anchor = spec.anchor.getTime();
    for (
      let k = Math.ceil((from.getTime() - anchor) / period);
      anchor + k * period < to.getTime();
      k++
    ) push(new Date(anchor + k * period));
    return out;
  }
  // nextFire is strictly after its argument; cron fires on whole seconds, so a millisecond
  // before `from` lets `from` itself count.
  for (
    let t = nextFire(spec, new Date(from.getTime() - 1));
    t !== null && t < to;
    t = nextFire(spec, t)
  ) push(t);
  return out;
}
