/**
 * The scheduler against a real SQLite store, with the clock injected: every test hands the
 * scheduler the instants it would wake at, so none waits for the wall clock. Runs are created
 * but not executed (no slot is free), which is all these tests look at.
 */
import { assert, assertEquals } from "../../tests/helpers/assert.ts";
import { tauPaths } from "../config/paths.ts";
import { type PipelineConfig, validatePipelineConfig } from "../metadata/schema.ts";
import { RunManager } from "../runner/run_manager.ts";
import { openStore, type Store } from "../store/mod.ts";
import { ManualClock } from "../../tests/helpers/manual_clock.ts";
import { systemClock } from "./clock.ts";
import { applyDeclarations } from "./declarations.ts";
import { Scheduler } from "./scheduler.ts";

interface Fixture {
  store: Store;
  scheduler: () => Scheduler;
  deploy(config: PipelineConfig, at: Date, code?: string): Promise<void>;
  runs(name: string): Promise<{ scheduled_at: string | null; status: string; kind?: string }[]>;
  ticks(name: string): Promise<[string, string][]>;
}

async function fixture(fn: (f: Fixture) => Promise<void>) {
  const home = await Deno.makeTempDir({ prefix: "tau_sched_" });
  const store = await openStore({ path: `${home}/tau.db` });
  const runs = new RunManager({
    store,
    paths: tauPaths(home),
    daemonPorts: [1],
    maxConcurrent: 0, // nothing executes: the tests look at what was scheduled
  });
  const scheduler = () =>
    new Scheduler({
      store,
      clock: systemClock,
      timezone: "UTC",
      prepare: (name, request) => runs.prepare(name, request),
      dispatch: () => runs.dispatch(),
    });
  const deploy = async (config: PipelineConfig, at: Date, code = "// v1") => {
    const validated = validatePipelineConfig(config);
    if (!validated.ok) throw new Error(JSON.stringify(validated.issues));
    const previous = (await store.getPipeline(config.name))?.metadata ?? null;
    await store.deploy({
      name: config.name,
      code,
      hash: code,
      filename: "p.ts",
      source_path: null,
      schedule: validated.metadata.schedule,
      metadata: validated.metadata as never,
    });
    await applyDeclarations(store, validated.metadata, previous as never, at);
  };
  try {
    await fn({
      store,
      scheduler,
      deploy,
      // In schedule order (runs created in one millisecond have no other order).
      runs: async (name) =>
        (await store.listRuns(name, { limit: 1000 }))
          .sort((a, b) => String(a.scheduled_at).localeCompare(String(b.scheduled_at)))
          .map((r) => ({
            scheduled_at: r.scheduled_at,
            status: r.status,
            ...(r.error ? { kind: r.error.kind } : {}),
          })),
      ticks: async (name) =>
        (await store.listTicks(name, { limit: 1000 })).reverse().map((t) => [
          t.scheduled_at,
          t.outcome,
        ]),
    });
  } finally {
    await store.close();
    await Deno.remove(home, { recursive: true });
  }
}

/** Runs a pass every `stepMs` from `from` to `to` (inclusive), like the loop waking up. */
async function passes(s: Scheduler, from: string, to: string, stepMs: number) {
  for (let t = Date.parse(from); t <= Date.parse(to); t += stepMs) await s.tick(new Date(t));
}

const MIN = 60_000;
const HOUR = 60 * MIN;

Deno.test("cron fires at the right instants across daylight saving in Europe/Berlin", async () => {
  await fixture(async (f) => {
    const start = new Date("2026-03-28T00:00:00Z");
    await f.deploy(
      { name: "daily", schedule: "30 2 * * *", timezone: "Europe/Berlin", overlap: "allow" },
      start,
    );
    await f.deploy(
      { name: "hourly", schedule: "0 * * * *", timezone: "Europe/Berlin", overlap: "allow" },
      start,
    );
    const s = f.scheduler();
    // Spring forward (2026-03-29 02:00 → 03:00 CEST) and fall back (2026-10-25 03:00 → 02:00).
    await passes(s, "2026-03-28T00:00:00Z", "2026-03-30T00:00:00Z", 15 * MIN);
    await passes(s, "2026-10-24T22:00:00Z", "2026-10-26T00:00:00Z", 15 * MIN);
    const daily = (await f.runs("daily")).map((r) => r.scheduled_at);
    assertEquals(daily, [
      "2026-03-28T01:30:00.000Z", // 02:30 CET
      "2026-03-29T01:00:00.000Z", // 02:30 does not exist: the first instant after the gap
      "2026-10-24T00:30:00.000Z", // the jump to October: catch-up "latest" runs the newest
      "2026-10-25T00:30:00.000Z", // 02:30 CEST, the first of the two 02:30s
    ]);
    const hourly = (await f.runs("hourly")).map((r) => r.scheduled_at as string);
    const springDay = hourly.filter((t) => t >= "2026-03-28T23:00" && t < "2026-03-29T22:00");
    const fallDay = hourly.filter((t) => t >= "2026-10-24T22:00" && t < "2026-10-25T23:00");
    assertEquals([springDay.length, fallDay.length], [23, 25]);
    assertEquals(new Set(hourly).size, hourly.length, "no instant fires twice");
    for (let i = 1; i < fallDay.length; i++) {
      assertEquals(Date.parse(fallDay[i] as string) - Date.parse(fallDay[i - 1] as string), HOUR);
    }
    // From March 30 to October 24, 209 instants were missed: the newest 100 are examined (99
    // recorded as missed, the newest run), the older 109 only counted.
    const missed = (await f.ticks("daily")).filter(([, outcome]) => outcome === "missed");
    assertEquals(missed.length, 99);
    assertEquals((await f.store.getSchedule("daily"))?.missed, 109);
  });
});

Deno.test("restart after downtime: catchup none, latest and all", async () => {
  await fixture(async (f) => {
    const t0 = new Date("2026-05-01T10:00:00Z");
    for (const catchup of ["none", "latest", "all"] as const) {
      await f.deploy({ name: catchup, schedule: "0 * * * *", catchup, overlap: "allow" }, t0);
    }
    await f.scheduler().tick(new Date("2026-05-01T10:00:05Z")); // nothing due yet
    await f.scheduler().tick(new Date("2026-05-01T11:00:02Z")); // 11:00 fires on time
    // Down from 11:00 to 14:30: 12:00, 13:00 and 14:00 were missed. A new daemon starts.
    await f.scheduler().tick(new Date("2026-05-01T14:30:00Z"));
    const times = async (name: string) =>
      (await f.runs(name)).map((r) => r.scheduled_at?.slice(11, 16));
    assertEquals(await times("none"), ["11:00"]);
    assertEquals(await times("latest"), ["11:00", "14:00"]);
    assertEquals(await times("all"), ["11:00", "12:00", "13:00", "14:00"]);
    const ticks = async (name: string) =>
      (await f.ticks(name)).map(([t, outcome]) => `${t.slice(11, 16)} ${outcome}`);
    assertEquals(await ticks("none"), [
      "11:00 run",
      "12:00 missed",
      "13:00 missed",
      "14:00 missed",
    ]);
    assertEquals(await ticks("latest"), ["11:00 run", "12:00 missed", "13:00 missed", "14:00 run"]);
    // Caught-up runs wait for each other: all but the first are exclusive.
    const all = await f.store.listRuns("all", { limit: 10 });
    all.sort((a, b) => String(a.scheduled_at).localeCompare(String(b.scheduled_at)));
    assertEquals(all.map((r) => r.exclusive), [false, false, true, true]);
    // A third daemon at the same instant, and a clock thrown back an hour, fire nothing again.
    assertEquals(await f.scheduler().tick(new Date("2026-05-01T14:30:00Z")), 0);
    assertEquals(await f.scheduler().tick(new Date("2026-05-01T13:30:00Z")), 0);
    assertEquals(await f.scheduler().tick(new Date("2026-05-01T14:59:59Z")), 0);
  });
});

Deno.test("a redeploy never fires a tick twice; a changed schedule starts from now", async () => {
  await fixture(async (f) => {
    const config = { name: "p", schedule: "*/10 * * * *", overlap: "allow" as const };
    await f.deploy(config, new Date("2026-05-01T09:55:00Z"));
    const s = f.scheduler();
    await s.tick(new Date("2026-05-01T10:00:01Z"));
    await f.deploy(config, new Date("2026-05-01T10:00:30Z"), "// v2, same schedule");
    await s.tick(new Date("2026-05-01T10:00:40Z"));
    await f.scheduler().tick(new Date("2026-05-01T10:01:00Z"));
    assertEquals((await f.runs("p")).map((r) => r.scheduled_at), ["2026-05-01T10:00:00.000Z"]);
    // A new schedule counts from the deploy: 10:05 (before it) never fires, 10:15 does.
    await f.deploy({ ...config, schedule: "*/5 * * * *" }, new Date("2026-05-01T10:06:00Z"));
    await s.tick(new Date("2026-05-01T10:07:00Z"));
    await s.tick(new Date("2026-05-01T10:10:00Z"));
    assertEquals((await f.runs("p")).map((r) => r.scheduled_at?.slice(11, 16)), ["10:00", "10:10"]);
  });
});

Deno.test("a disabled schedule fires nothing, and enabling it does not catch up", async () => {
  await fixture(async (f) => {
    await f.deploy({ name: "p", every: 60, overlap: "allow" }, new Date("2026-05-01T10:00:00Z"));
    const s = f.scheduler();
    await s.tick(new Date("2026-05-01T10:01:00Z"));
    await f.store.setScheduleEnabled("p", false, new Date("2026-05-01T10:01:30Z"));
    await passes(s, "2026-05-01T10:02:00Z", "2026-05-01T10:10:00Z", MIN);
    assertEquals((await f.runs("p")).length, 1);
    await f.store.setScheduleEnabled("p", true, new Date("2026-05-01T10:10:30Z"));
    await s.tick(new Date("2026-05-01T10:10:30Z"));
    await s.tick(new Date("2026-05-01T10:11:00Z"));
    assertEquals((await f.runs("p")).map((r) => r.scheduled_at?.slice(11, 16)), ["10:01", "10:11"]);
    assertEquals((await f.ticks("p")).length, 2, "the disabled period left no ticks");
  });
});

Deno.test("overlap: skip records a skipped run, queue waits, allow runs alongside", async () => {
  await fixture(async (f) => {
    const at = new Date("2026-05-01T10:00:00Z");
    for (const overlap of ["skip", "queue", "allow"] as const) {
      await f.deploy({ name: overlap, every: 60, overlap }, at);
    }
    const s = f.scheduler();
    await s.tick(new Date("2026-05-01T10:01:00Z"));
    await s.tick(new Date("2026-05-01T10:02:00Z")); // the 10:01 runs are still queued
    assertEquals(await f.runs("skip"), [
      { scheduled_at: "2026-05-01T10:01:00.000Z", status: "queued" },
      { scheduled_at: "2026-05-01T10:02:00.000Z", status: "skipped", kind: "overlap" },
    ]);
    // Runs created in one millisecond have no order: put them in schedule order.
    const inOrder = async (name: string) =>
      (await f.store.listRuns(name, { limit: 5 }))
        .sort((a, b) => String(a.scheduled_at).localeCompare(String(b.scheduled_at)));
    const queued = await inOrder("queue");
    assertEquals(queued.map((r) => [r.status, r.exclusive]), [["queued", false], ["queued", true]]);
    const allowed = await inOrder("allow");
    assertEquals(allowed.map((r) => [r.status, r.exclusive]), [["queued", false], [
      "queued",
      false,
    ]]);
    assertEquals((await f.ticks("skip")).map(([, outcome]) => outcome), ["run", "skipped"]);
    // Both runs may be created in one millisecond: pick the skipped one by its status.
    const skipped = (await f.store.listRuns("skip", { limit: 5 })).find((r) =>
      r.status === "skipped"
    );
    assert(skipped?.error?.message.includes('was still active (overlap "skip")'));
  });
});

Deno.test("overlap: a backfill's queued runs do not make a live tick give way", async () => {
  await fixture(async (f) => {
    await f.deploy({ name: "p", every: 60 }, new Date("2026-05-01T10:00:00Z"));
    await f.store.createRun({
      run_id: "run_backfill",
      pipeline: "p",
      version: 1,
      trigger: "backfill:bf_1",
      params: {},
      max_attempts: 1,
      permissions: null,
      scheduled_at: "2026-04-01T00:00:00.000Z",
    });
    await f.scheduler().tick(new Date("2026-05-01T10:01:00Z"));
    assertEquals((await f.runs("p")).at(-1), {
      scheduled_at: "2026-05-01T10:01:00.000Z",
      status: "queued",
    });
  });
});

Deno.test("a tick that cannot be recorded holds up no other tick of its pass", async () => {
  await fixture(async (f) => {
    const t0 = new Date("2026-05-01T10:00:00Z");
    for (const name of ["good_a", "broken", "good_b"]) {
      await f.deploy({ name, schedule: "0 * * * *", overlap: "allow" }, t0);
    }
    const home = await Deno.makeTempDir({ prefix: "tau_sched_paths_" });
    const runs = new RunManager({
      store: f.store,
      paths: tauPaths(home),
      daemonPorts: [1],
      maxConcurrent: 0,
    });
    const errors: unknown[] = [];
    let breaking = true;
    const scheduler = new Scheduler({
      store: f.store,
      clock: systemClock,
      timezone: "UTC",
      // "broken"'s run names a pipeline the store does not have: its insert fails.
      prepare: async (name, request) => {
        const run = await runs.prepare(name, request);
        return name === "broken" && breaking ? { ...run, pipeline: "ghost" } : run;
      },
      dispatch: () => runs.dispatch(),
      onError: (err) => errors.push(err),
    });
    assertEquals(await scheduler.tick(new Date("2026-05-01T11:00:01Z")), 2);
    assertEquals(errors.length, 1, "the failed tick is reported");
    for (const name of ["good_a", "good_b"]) {
      assertEquals(await f.ticks(name), [["2026-05-01T11:00:00.000Z", "run"]]);
    }
    assertEquals(await f.ticks("broken"), [], "nothing of it was recorded");
    breaking = false;
    assertEquals(await scheduler.tick(new Date("2026-05-01T11:00:05Z")), 1, "tried again");
    assertEquals(await f.ticks("broken"), [["2026-05-01T11:00:00.000Z", "run"]]);
    await Deno.remove(home, { recursive: true });
  });
});

Deno.test("the loop reads the schedules when one is due or changed, not at every lease renewal", async () => {
  await fixture(async (f) => {
    const clock = new ManualClock(Date.parse("2026-05-01T10:00:00Z"));
    await f.deploy({ name: "hourly", schedule: "0 * * * *" }, clock.now());
    let reads = 0;
    const store = new Proxy(f.store, {
      get(target, key) {
        if (key === "listSchedules") reads++;
        const value = Reflect.get(target, key);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    const runs = new RunManager({
      store,
      paths: tauPaths(await Deno.makeTempDir({ prefix: "tau_sched_loop_" })),
      daemonPorts: [1],
      maxConcurrent: 0,
    });
    const s = new Scheduler({
      store,
      clock,
      timezone: "UTC",
      prepare: (name, request) => runs.prepare(name, request),
      dispatch: () => runs.dispatch(),
      leader: { acquire: () => Promise.resolve(true), renewEveryMs: 1_000 },
    });
    s.start();
    try {
      await clock.advance(30_000, 1_000);
      assertEquals(reads, 1, "thirty lease renewals, one read of the schedules");
      // Another daemon adds a schedule: the leader sees the store's stamp move.
      await f.deploy({ name: "minutely", schedule: "* * * * *" }, clock.now());
      await clock.advance(2_000, 1_000);
      assertEquals(reads, 2);
      await clock.advance(60_000, 1_000);
      assertEquals((await f.runs("minutely")).map((r) => r.scheduled_at), [
        "2026-05-01T10:01:00.000Z",
      ]);
      assert(reads <= 4, `${reads} reads in a minute and a half`);
    } finally {
      await s.stop();
    }
  });
});
