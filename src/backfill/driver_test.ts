/**
 * The driver against a real (in-memory SQLite) store: the runs it makes stand in for executed
 * ones by having their status set, as a worker would.
 */
import { assert, assertEquals } from "../../tests/helpers/assert.ts";
import { ManualClock } from "../../tests/helpers/manual_clock.ts";
import { newRunId } from "../core/ids.ts";
import type { RunRequest } from "../runner/options.ts";
import { openStore, type RunStatus, type Store } from "../store/mod.ts";
import { createBackfill } from "./create.ts";
import { BackfillDriver, MAX_INSTANT_ATTEMPTS } from "./driver.ts";
import type { BackfillRecord } from "../store/mod.ts";

async function setup(): Promise<Store> {
  const store = await openStore({ path: ":memory:" });
  await store.deploy({
    name: "hourly",
    code: "export default 1;",
    hash: "h1",
    filename: "hourly.ts",
    source_path: null,
    schedule: "0 * * * *",
    metadata: {},
  });
  await store.setSchedule(
    "hourly",
    { cron: "0 * * * *", every_s: null, timezone: null },
    new Date("2026-03-01T00:00:00Z"),
  );
  return store;
}

function driver(store: Store, dispatched: { n: number } = { n: 0 }): BackfillDriver {
  return new BackfillDriver({
    store,
    clock: new ManualClock(),
    prepare: (name: string, request: RunRequest) =>
      Promise.resolve({
        run_id: newRunId(),
        pipeline: name,
        version: 1,
        trigger: request.trigger ?? "manual",
        params: {},
        max_attempts: 1,
        permissions: null,
        scheduled_at: request.scheduled_at ?? null,
        logical_run: request.logical_run ?? null,
        downstream: request.downstream ?? false,
      }),
    dispatch: () => {
      dispatched.n++;
      return Promise.resolve();
    },
  });
}

async function start(store: Store, from: string, to: string, concurrency: number) {
  const made = await createBackfill({ store, timezone: "UTC" }, "hourly", {
    from,
    to,
    concurrency,
  });
  return made as BackfillRecord;
}

/** The backfill's runs that are queued, oldest instant first. */
async function queued(store: Store) {
  return (await store.listRunsByStatus(["queued"])).sort((a, b) =>
    a.scheduled_at!.localeCompare(b.scheduled_at!)
  );
}

async function end(store: Store, runId: string, status: RunStatus, kind?: string) {
  await store.updateRun(runId, {
    status,
    finished_at: new Date().toISOString(),
    ...(kind ? { error: { kind: kind as "exception", message: kind } } : {}),
  });
}

Deno.test("the driver keeps at most `concurrency` runs queued, oldest instant first", async () => {
  const store = await setup();
  const backfill = await start(store, "2026-01-01T00:00Z", "2026-01-01T10:00Z", 3);
  const dispatched = { n: 0 };
  const d = driver(store, dispatched);
  assertEquals(await d.pass(), 3);
  assertEquals(dispatched.n, 1, "dispatched once for the pass");
  let runs = await queued(store);
  assertEquals(runs.map((r) => r.scheduled_at!.slice(11, 13)), ["00", "01", "02"]);
  assertEquals(runs[0]?.trigger, `backfill:${backfill.backfill_id}`);
  assertEquals(runs[0]?.logical_run, `backfill:${backfill.backfill_id}:${runs[0]?.scheduled_at}`);
  assertEquals(await d.pass(), 0, "full: nothing more until one ends");
  await end(store, runs[1]!.run_id, "success");
  assertEquals(await d.pass(), 1);
  runs = await queued(store);
  assertEquals(runs.map((r) => r.scheduled_at!.slice(11, 13)), ["00", "02", "03"]);
  const record = await store.backfills.get(backfill.backfill_id);
  assertEquals([record?.counts.succeeded, record?.counts.active, record?.counts.pending], [
    1,
    3,
    6,
  ]);
  await store.close();
});

Deno.test("a new driver (a restarted daemon) resumes without rerunning anything", async () => {
  const store = await setup();
  const backfill = await start(store, "2026-01-01T00:00Z", "2026-01-01T06:00Z", 2);
  await driver(store).pass();
  for (const run of await queued(store)) await end(store, run.run_id, "success");
  await driver(store).pass(); // settles the two, starts 02 and 03
  const [third] = await queued(store);
  await end(store, third!.run_id, "success");
  // The daemon dies here; the next one's driver takes over from the store alone.
  const next = driver(store);
  for (let i = 0; i < 10; i++) {
    await next.pass();
    for (const run of await queued(store)) await end(store, run.run_id, "success");
  }
  const done = await store.backfills.get(backfill.backfill_id);
  assertEquals(done?.status, "completed");
  assertEquals(done?.counts.succeeded, 6);
  assert(done?.finished_at);
  const runs = await store.listRuns("hourly", { limit: 100 });
  assertEquals(runs.length, 6, "one run per instant");
  assertEquals(new Set(runs.map((r) => r.scheduled_at)).size, 6);
  await store.close();
});

Deno.test("a run lost to a crash is made again; a failed one is not", async () => {
  const store = await setup();
  const backfill = await start(store, "2026-01-01T00:00Z", "2026-01-01T02:00Z", 2);
  const d = driver(store);
  await d.pass();
  const [lost, failed] = await queued(store);
  await end(store, lost!.run_id, "failed", "daemon_restart");
  await end(store, failed!.run_id, "failed", "exception");
  await d.pass();
  const [again] = await queued(store);
  assertEquals(again?.scheduled_at, lost!.scheduled_at, "the lost instant runs again");
  assertEquals((await queued(store)).length, 1, "the failed one does not");
  // Lost every time: after MAX_INSTANT_ATTEMPTS runs the instant fails.
  let current = again!;
  for (let n = 2; n <= MAX_INSTANT_ATTEMPTS; n++) {
    await end(store, current.run_id, "failed", "worker_lost");
    await d.pass();
    const [next] = await queued(store);
    if (n < MAX_INSTANT_ATTEMPTS) current = next!;
    else assertEquals(next, undefined);
  }
  const done = await store.backfills.get(backfill.backfill_id);
  assertEquals([done?.status, done?.counts.failed], ["failed", 2]);
  await store.close();
});

Deno.test("instants that succeeded before are skipped, unless --rerun", async () => {
  const store = await setup();
  await store.createRun({
    run_id: "run_sched",
    pipeline: "hourly",
    version: 1,
    trigger: "schedule",
    params: {},
    max_attempts: 1,
    permissions: null,
    scheduled_at: "2026-01-01T01:00:00.000Z",
  });
  await end(store, "run_sched", "success");
  const plan = await createBackfill({ store, timezone: "UTC" }, "hourly", {
    from: "2026-01-01T00:00Z",
    to: "2026-01-01T03:00Z",
    dry_run: true,
  });
  assertEquals(plan, {
    dry_run: true,
    pipeline: "hourly",
    from: "2026-01-01T00:00:00.000Z",
    to: "2026-01-01T03:00:00.000Z",
    concurrency: 1,
    rerun: false,
    downstream: false,
    total: 3,
    instants: ["2026-01-01T00:00:00.000Z", "2026-01-01T02:00:00.000Z"],
    skipped: ["2026-01-01T01:00:00.000Z"],
  });
  assertEquals((await store.backfills.list()).length, 0, "a dry run stores nothing");
  const rerun = await createBackfill({ store, timezone: "UTC" }, "hourly", {
    from: "2026-01-01T00:00Z",
    to: "2026-01-01T03:00Z",
    rerun: true,
  }) as BackfillRecord;
  assertEquals([rerun.total, rerun.counts.pending, rerun.counts.skipped], [3, 3, 0]);
  await store.close();
});

Deno.test("a pipeline without a schedule cannot be backfilled", async () => {
  const store = await setup();
  await store.setSchedule("hourly", null, new Date());
  const err = await createBackfill({ store, timezone: "UTC" }, "hourly", {
    from: "2026-01-01",
    to: "2026-01-02",
  }).catch((e) => e);
  assertEquals(err.code, "invalid_params");
  assert(/has no schedule/.test(err.message), err.message);
  assert(/tau schedule hourly/.test(err.hint), err.hint);
  const missing = await createBackfill({ store, timezone: "UTC" }, "nope", {
    from: "2026-01-01",
    to: "2026-01-02",
  }).catch((e) => e);
  assertEquals(missing.code, "not_found");
  const tooMany = await createBackfill({ store, timezone: "UTC" }, "hourly", {
    from: "2026-01-01",
    to: "2026-01-02",
    concurrency: 0,
  }).catch((e) => e);
  assertEquals(tooMany.code, "invalid_params");
  await store.close();
});

Deno.test("with --downstream each run starts its own logical run that cascades", async () => {
  const store = await setup();
  const made = await createBackfill({ store, timezone: "UTC" }, "hourly", {
    from: "2026-01-01T00:00Z",
    to: "2026-01-01T02:00Z",
    concurrency: 2,
    downstream: true,
  }) as BackfillRecord;
  assertEquals(made.downstream, true);
  await driver(store).pass();
  const runs = await queued(store);
  assertEquals(runs.map((r) => [r.downstream, r.logical_run]), [
    [true, `backfill:${made.backfill_id}:2026-01-01T00:00:00.000Z`],
    [true, `backfill:${made.backfill_id}:2026-01-01T01:00:00.000Z`],
  ]);
  await store.close();
});
