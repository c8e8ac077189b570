import { assert, assertEquals } from "../../tests/helpers/assert.ts";
import { TauError } from "../core/errors.ts";
import { instantsIn, parseInstant } from "./instants.ts";

const iso = (dates: Date[]) => dates.map((d) => d.toISOString());
const at = (text: string) => new Date(text);

function code(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (err instanceof TauError) return `${err.code}: ${err.message} | ${err.hint}`;
    throw err;
  }
  throw new Error("did not throw");
}

Deno.test("parseInstant reads dates as midnight UTC and timestamps with their offset", () => {
  assertEquals(parseInstant("2026-01-01", "--from").toISOString(), "2026-01-01T00:00:00.000Z");
  assertEquals(
    parseInstant("2026-01-01T07:30+01:00", "--from").toISOString(),
    "2026-01-01T06:30:00.000Z",
  );
  assertEquals(
    parseInstant("2026-03-01T00:00:00.250Z", "--to").toISOString(),
    "2026-03-01T00:00:00.250Z",
  );
});

Deno.test("parseInstant refuses what it cannot read without guessing", () => {
  const noZone = code(() => parseInstant("2026-01-01T06:00", "--from"));
  assertEquals(noZone.startsWith("invalid_params: --from"), true, noZone);
  assertEquals(noZone.includes("no time zone offset"), true, noZone);
  assertEquals(noZone.includes("2026-01-01T06:00Z"), true, "the hint shows the fixed value");
  for (
    const bad of ["yesterday", "2026-02-30", "2026-13-01", "2026-01-01T24:00Z", "", "1969-12-31"]
  ) {
    assertEquals(
      code(() => parseInstant(bad, "--to")).startsWith("invalid_params: --to"),
      true,
      bad,
    );
  }
});

Deno.test("hourly cron: from is included, to is excluded, oldest first", () => {
  const spec = { kind: "cron", expression: "0 * * * *", timezone: "UTC" } as const;
  const got = instantsIn(spec, at("2026-01-01T00:00Z"), at("2026-01-03T00:00Z"));
  assertEquals(got.length, 48);
  assertEquals(got[0]!.toISOString(), "2026-01-01T00:00:00.000Z");
  assertEquals(got[47]!.toISOString(), "2026-01-02T23:00:00.000Z");
  // A range that starts between two instants begins at the next one.
  assertEquals(
    iso(instantsIn(spec, at("2026-01-01T00:30Z"), at("2026-01-01T02:30Z"))),
    ["2026-01-01T01:00:00.000Z", "2026-01-01T02:00:00.000Z"],
  );
});

Deno.test("cron in a time zone: local times, daylight saving included", () => {
  const daily = { kind: "cron", expression: "0 6 * * *", timezone: "America/New_York" } as const;
  assertEquals(iso(instantsIn(daily, at("2026-03-07"), at("2026-03-10"))), [
    "2026-03-07T11:00:00.000Z", // EST
    "2026-03-08T10:00:00.000Z", // EDT from 2026-03-08
    "2026-03-09T10:00:00.000Z",
  ]);
  // An hourly job has 23 instants on the spring-forward day in Berlin (2026-03-29).
  const hourly = { kind: "cron", expression: "0 * * * *", timezone: "Europe/Berlin" } as const;
  assertEquals(
    instantsIn(hourly, at("2026-03-29T00:00+01:00"), at("2026-03-30T00:00+02:00")).length,
    23,
  );
});

Deno.test("every: instants on the anchor's grid, before the anchor too", () => {
  const spec = { kind: "every", seconds: 900, anchor: at("2026-06-01T00:05Z") } as const;
  assertEquals(iso(instantsIn(spec, at("2026-01-01T00:00Z"), at("2026-01-01T00:40Z"))), [
    "2026-01-01T00:05:00.000Z",
    "2026-01-01T00:20:00.000Z",
    "2026-01-01T00:35:00.000Z",
  ]);
  // An instant exactly at --from counts; one exactly at --to does not.
  assertEquals(
    iso(instantsIn(spec, at("2026-01-01T00:20Z"), at("2026-01-01T00:35Z"))),
    ["2026-01-01T00:20:00.000Z"],
  );
});

Deno.test("the number of instants is bounded, and the hint says where to cut", () => {
  const spec = { kind: "cron", expression: "* * * * *", timezone: "UTC" } as const;
  assertEquals(instantsIn(spec, at("2026-01-01"), at("2026-01-01T00:10Z"), 10).length, 10);
  const refused = code(() => instantsIn(spec, at("2026-01-01"), at("2026-01-01T00:11Z"), 10));
  assertEquals(refused.startsWith("invalid_params: The range holds more than 10"), true, refused);
  assertEquals(refused.includes("--to 2026-01-01T00:09:00.000Z covers the first 9"), true, refused);
  // The default bound is 10,000: a year of minutes is refused quickly.
  const started = performance.now();
  assert.throws(() => instantsIn(spec, at("2026-01-01"), at("2027-01-01")), TauError);
  assertEquals(performance.now() - started < 5_000, true);
});

Deno.test("an empty or reversed range is refused", () => {
  const spec = { kind: "every", seconds: 60, anchor: at("2026-01-01") } as const;
  const same = code(() => instantsIn(spec, at("2026-01-02"), at("2026-01-02")));
  assertEquals(same.startsWith("invalid_params: --from (2026-01-02"), true, same);
  assert.throws(() => instantsIn(spec, at("2026-01-03"), at("2026-01-02")), TauError);
});
