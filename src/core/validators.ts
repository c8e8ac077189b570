/**
 * Validators shared by tau.toml and pipeline metadata. A leaf module: config and metadata both
 * import it, and it imports neither.
 */
import { z } from "zod";
import { parseDuration } from "./duration.ts";

/** An error message for a time zone Intl does not know, or undefined. */
export function timezoneError(timezone: string): string | undefined {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: timezone });
    return undefined;
  } catch {
    return `unknown time zone ${JSON.stringify(timezone)}`;
  }
}

/** An IANA time zone name that Intl knows. */
export const timezone = z.string().refine((tz) => timezoneError(tz) === undefined, {
  message: 'unknown time zone: use an IANA name such as "Europe/Berlin"',
});

/** A duration: seconds as a number, or text such as "30s", "10m", "2h". */
export const duration = z.union([z.string(), z.number()]).superRefine((value, ctx) => {
  if (parseDuration(value) === undefined) {
    ctx.addIssue({
      code: "custom",
      message: `invalid duration ${
        JSON.stringify(value)
      }: use a number of seconds or e.g. "30s", "10m", "2h"`,
    });
  }
});
