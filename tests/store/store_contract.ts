/**
 * The tests every `Store` implementation must pass, registered once per engine by
 * `sqlite/sqlite_store_test.ts` and `postgres/postgres_store_test.ts`. A test gets a fresh,
 * empty database of its own (tests of several files run in parallel) and may open several
 * stores on it; engine-specific behaviour (WAL, file reopening, advisory locks) is tested in
 * the engine's own file.
 */

import { assert, assertEquals, assertMatch } from "../helpers/assert.ts";
import type {
  DeployInput,
  LogRecord,
  NewRun,
  RunError,
  StepRecord,
  Store,
} from "../../src/store/types.ts";

/** A fresh database for one test. */
export interface StoreTarget {
  /** Opens a store on this database and applies its migrations; may be called more than once. */
  open(): Promise<Store>;
  /** Runs one statement on the database outside any store, returning its rows. */
  query(sql: string): Promise<Record<string, unknown>[]>;
  /** Deletes the database; every store opened on it is closed by then. */
  cleanup(): Promise<void>;
}

export interface ContractEngine {
  /** Prefix of every test name, e.g. "sqlite". */
  name: Store["kind"];
  /** A new, empty database. */
  target(): Promise<StoreTarget>;
  /** The engine's migrations, as `schema_migrations` must list them. */
  migrations: readonly { version: number; name: string }[];
  /** Registers the tests as ignored (the engine's server is not available). */
  ignore?: boolean;
}

const ISO_MS = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

export function deployInput(overrides: Partial<DeployInput> = {}): DeployInput {
  return {
    name: "orders",
    code: "export default 1;",
    hash: "h1",
    filename: "orders.ts",
    source_path: "/src/orders.ts",
    schedule: null,
    metadata: { description: "Orders" },
    ...overrides,
  };
}

export function newRun(runId: string, overrides: Partial<NewRun> = {}): NewRun {
  return {
    run_id: runId,
    pipeline: "orders",
    version: 1,
    trigger: "manual",
    params: {},
    max_attempts: 1,
    permissions: null,
    ...overrides,
  };
}

export async function seedRun(store: Store, runId: string, pipeline = "orders") {
  if (!(await store.getPipeline(pipeline))) await store.deploy(deployInput({ name: pipeline }));
  return store.createRun(newRun(runId, { pipeline }));
}

export function log(runId: string, seq: number): LogRecord {
  return {
    run_id: runId,
    attempt: 1,
    seq,
    ts: "2024-01-01T00:00:00.000Z",
    level: "info",
    step: null,
    message: `line ${seq}`,
  };
}

export function stepRecord(runId: string, name: string): StepRecord {
  return {
    run_id: runId,
    attempt: 1,
    seq: 0,
    name,
    status: "running",
    started_at: "2024-01-01T00:00:00.000Z",
    finished_at: null,
    duration_ms: null,
    rows_in: null,
    rows_out: null,
    metadata: {},
    error: null,
  };
}

/** Runs `fn` against a fresh migrated store, then closes it and deletes the database. */
export async function withStore(
  engine: ContractEngine,
  fn: (store: Store, target: StoreTarget) => Promise<void>,
): Promise<void> {
  const target = await engine.target();
  try {
    const store = await target.open();
    try {
      await fn(store, target);
    } finally {
      await store.close();
    }
  } finally {
    await target.cleanup();
  }
}

/** Registers the contract tests for one engine. */
export function storeContract(engine: ContractEngine): void {
  const ignore = engine.ignore ?? false;
  const test = (name: string, fn: (store: Store, target: StoreTarget) => Promise<void>) =>
    Deno.test({ name: `${engine.name}: ${name}`, ignore, fn: () => withStore(engine, fn) });

  test("the store says which engine it is", (store) => {
    assertEquals(store.kind, engine.name);
    return Promise.resolve();
  });

  test(
    "migrate twice is idempotent, one schema_migrations row per migration",
    async (store, db) => {
      await store.migrate();
      await store.migrate();
      const rows = await db.query("SELECT version, name FROM schema_migrations ORDER BY version");
      assertEquals(
        rows.map((r) => ({ version: Number(r.version), name: r.name })),
        engine.migrations.map((m) => ({ version: m.version, name: m.name })),
      );
      // Versions are 1, 2, 3, … with no gap.
      assertEquals(engine.migrations.map((m) => m.version), engine.migrations.map((_, i) => i + 1));
    },
  );

  Deno.test({
    name: `${engine.name}: two stores opening one database at once both succeed`,
    ignore,
  }, async () => {
    const target = await engine.target();
    try {
      const [a, b] = await Promise.all([target.open(), target.open()]);
      try {
        await a.deploy(deployInput());
        assertEquals((await b.getPipeline("orders"))?.current_version, 1);
      } finally {
        await a.close();
        await b.close();
      }
    } finally {
      await target.cleanup();
    }
  });

  Deno.test(
    { name: `${engine.name}: data survives closing and reopening the store`, ignore },
    async () => {
      const target = await engine.target();
      try {
        const first = await target.open();
        await seedRun(first, "run_1");
        await first.updateRun("run_1", { status: "success", result: { rows: 3 } });
        await first.appendLogs([log("run_1", 0), log("run_1", 1)]);
        await first.close();
        await first.close(); // closing twice is harmless

        const second = await target.open();
        try {
          assertEquals((await second.getPipeline("orders"))?.current_version, 1);
          assertEquals((await second.getRun("run_1"))?.result, { rows: 3 });
          assertEquals((await second.listLogs("run_1")).length, 2);
        } finally {
          await second.close();
        }
      } finally {
        await target.cleanup();
      }
    },
  );

  Deno.test(
    { name: `${engine.name}: a database newer than this Tau is refused`, ignore },
    async () => {
      const target = await engine.target();
      try {
        const store = await target.open();
        await store.close();
        await target.query(
          "INSERT INTO schema_migrations (version, name, applied_at) VALUES (99, 'future', 'x')",
        );
        await assert.rejects(
          target.open(),
          (err: Error & { code?: string }) =>
            err.code === "internal" && /schema version 99/.test(err.message),
        );
      } finally {
        await target.cleanup();
      }
    },
  );

  test("deploy versions by hash", async (store) => {
    const first = await store.deploy(deployInput());
    assertEquals(first.unchanged, false);
    assertEquals(first.version.version, 1);
    assertEquals(first.pipeline.current_version, 1);
    assertEquals(first.pipeline.metadata, { description: "Orders" });

    const same = await store.deploy(deployInput({ schedule: "@hourly", metadata: { a: [1] } }));
    assertEquals(same.unchanged, true);
    assertEquals(same.version.version, 1);
    assertEquals(same.pipeline.schedule, "@hourly");
    assertEquals(same.pipeline.metadata, { a: [1] });
    assertEquals(same.pipeline.created_at, first.pipeline.created_at);

    const second = await store.deploy(deployInput({ hash: "h2", code: "export default 2;" }));
    assertEquals(second.unchanged, false);
    assertEquals(second.version.version, 2);
    assertEquals(second.pipeline.current_version, 2);

    assertEquals((await store.getVersion("orders", 1))?.code, "export default 1;");
    assertEquals((await store.getVersion("orders", 2))?.code, "export default 2;");
    assertEquals(await store.getVersion("orders", 3), null);
    assertEquals(await store.getPipeline("nope"), null);

    await store.deploy(deployInput({ name: "alpha" }));
    assertEquals((await store.listPipelines()).map((p) => p.name), ["alpha", "orders"]);
    assertEquals(await store.getPipeline("orders"), second.pipeline);
    assertEquals(await store.getVersion("orders", 2), second.version);
    // Current versions come in one query, each pipeline with its current version's hash.
    const current = await store.getCurrentVersions(["orders", "nope", "alpha"]);
    assertEquals([...current.keys()].sort(), ["alpha", "orders"]);
    assertEquals(current.get("orders"), { pipeline: second.pipeline, hash: "h2" });
    assertEquals(current.get("alpha")?.hash, (await store.getVersion("alpha", 1))?.hash);
    assertEquals((await store.getCurrentVersions([])).size, 0);
  });

  test("records have the same keys, in the same order, on every engine", async (store) => {
    const { pipeline, version } = await store.deploy(deployInput());
    assertEquals(Object.keys(pipeline), [
      "name",
      "current_version",
      "source_path",
      "schedule",
      "metadata",
      "created_at",
      "updated_at",
    ]);
    assertEquals(Object.keys(version), [
      "pipeline",
      "version",
      "hash",
      "filename",
      "code",
      "metadata",
      "created_at",
      "source",
      "parent",
      "heal_id",
      "promoted_at",
    ]);
    assertMatch(pipeline.created_at, ISO_MS);
    const run = await store.createRun(newRun("run_1"));
    assertEquals(Object.keys(run), [
      "run_id",
      "pipeline",
      "version",
      "status",
      "trigger",
      "params",
      "attempt",
      "max_attempts",
      "created_at",
      "started_at",
      "finished_at",
      "duration_ms",
      "result",
      "error",
      "permissions",
      "attempts",
      "pid",
      "scheduled_at",
      "logical_run",
      "downstream",
      "exclusive",
      "sandbox",
      "access",
      "pool",
      "worker_id",
      "lease_expires_at",
      "diagnosis",
    ]);
    assertMatch(run.created_at, ISO_MS);
    const step = stepRecord("run_1", "load");
    await store.saveStep(step);
    assertEquals((await store.listSteps("run_1")).map(Object.keys), [Object.keys(step)]);
    await store.appendLogs([log("run_1", 0)]);
    assertEquals((await store.listLogs("run_1")).map(Object.keys), [Object.keys(log("x", 0))]);
    const schedule = await store.setSchedule(
      "orders",
      { cron: "0 6 * * *", every_s: null, timezone: "UTC" },
      new Date("2024-01-01T00:00:00.000Z"),
    );
    assertEquals(schedule, {
      pipeline: "orders",
      cron: "0 6 * * *",
      every_s: null,
      timezone: "UTC",
      enabled: true,
      anchor: "2024-01-01T00:00:00.000Z",
      last_tick: "2024-01-01T00:00:00.000Z",
      missed: 0,
      updated_at: "2024-01-01T00:00:00.000Z",
    });
    assertEquals(Object.keys(schedule ?? {}), [
      "pipeline",
      "cron",
      "every_s",
      "timezone",
      "enabled",
      "anchor",
      "last_tick",
      "missed",
      "updated_at",
    ]);
    await store.recordTick({
      pipeline: "orders",
      scheduled_at: "2024-01-01T06:00:00.000Z",
      outcome: "skipped",
      detail: "overlap",
    });
    const [tick] = await store.listTicks("orders");
    assertEquals(Object.keys(tick ?? {}), [
      "pipeline",
      "scheduled_at",
      "outcome",
      "run_id",
      "detail",
      "recorded_at",
    ]);
    assertMatch(tick?.recorded_at ?? "", ISO_MS);
  });

  test(
    "deletePipeline cascades to versions, runs, steps, logs, schedules, ticks and edges",
    async (store, db) => {
      await seedRun(store, "run_1");
      await store.deploy(deployInput({ name: "up" }));
      await store.saveStep({
        run_id: "run_1",
        attempt: 1,
        seq: 0,
        name: "load",
        status: "running",
        started_at: "t",
        finished_at: null,
        duration_ms: null,
        rows_in: null,
        rows_out: null,
        metadata: {},
        error: null,
      });
      await store.appendLogs([log("run_1", 0)]);
      await store.setSchedule("orders", { cron: null, every_s: 60, timezone: null }, new Date());
      await store.recordTick({
        pipeline: "orders",
        scheduled_at: "2026-01-01T00:00:00.000Z",
        outcome: "missed",
      });
      await store.setDependencies("orders", ["up"]);
      assertEquals(await store.deletePipeline("orders"), true);
      assertEquals(await store.deletePipeline("orders"), false);
      assertEquals(await store.getRun("run_1"), null);
      const left: Record<string, string> = {
        pipeline_versions: "SELECT count(*) AS n FROM pipeline_versions WHERE pipeline = 'orders'",
        runs: "SELECT count(*) AS n FROM runs",
        steps: "SELECT count(*) AS n FROM steps",
        logs: "SELECT count(*) AS n FROM logs",
        schedules: "SELECT count(*) AS n FROM schedules",
        ticks: "SELECT count(*) AS n FROM ticks",
        dependencies: "SELECT count(*) AS n FROM dependencies",
      };
      for (const [table, sql] of Object.entries(left)) {
        const [row] = await db.query(sql);
        assertEquals(Number(row?.n), 0, table);
      }
      assertEquals((await store.listPipelines()).map((p) => p.name), ["up"]);
    },
  );

  test("createRun defaults, updateRun partial patches and JSON round trips", async (store) => {
    await store.deploy(deployInput());
    const created = await store.createRun({
      run_id: "run_1",
      pipeline: "orders",
      version: 1,
      trigger: "schedule",
      params: { day: "2024-01-01", n: 3, nested: { ok: true } },
      max_attempts: 3,
      permissions: { net: ["api.example.com"] },
    });
    assertEquals(created.status, "queued");
    assertEquals(created.attempt, 0);
    assertEquals(created.attempts, []);
    assertEquals(created.result, null);
    assertEquals(created.error, null);
    assertEquals(created.pid, null);
    assertEquals(created.params, { day: "2024-01-01", n: 3, nested: { ok: true } });
    assertEquals(created.permissions, { net: ["api.example.com"] });
    assertEquals(
      [created.downstream, created.exclusive, created.scheduled_at, created.logical_run],
      [false, false, null, null],
    );
    assertEquals([created.sandbox, created.access, created.finished_at], [null, null, null]);

    const running = await store.updateRun("run_1", {
      status: "running",
      attempt: 1,
      started_at: "2024-01-01T00:00:01.000Z",
      pid: 4242,
    });
    assertEquals(running?.status, "running");
    assertEquals(running?.pid, 4242);
    assertEquals(running?.params, created.params); // untouched

    const error: RunError = { kind: "exception", message: "boom", step: "load", hint: null };
    const attempts = [{
      attempt: 1,
      status: "failed" as const,
      started_at: "a",
      finished_at: "b",
      duration_ms: 5,
      error,
    }];
    const failed = await store.updateRun("run_1", {
      status: "failed",
      error,
      attempts,
      result: [1, "two", { three: 3 }],
      pid: null,
      duration_ms: 5,
      sandbox: { layers: ["deno"], memory_mb: 512 },
      access: { net: ["api.example.com:443"] },
      permissions: { net: [] },
    });
    assertEquals(failed?.started_at, "2024-01-01T00:00:01.000Z"); // kept from earlier patch
    assertEquals(failed?.error, error);
    assertEquals(failed?.attempts, attempts);
    assertEquals(failed?.result, [1, "two", { three: 3 }]);
    assertEquals(failed?.pid, null);
    assertEquals(failed?.sandbox, { layers: ["deno"], memory_mb: 512 });
    assertEquals(failed?.access, { net: ["api.example.com:443"] });
    assertEquals(failed?.permissions, { net: [] });
    assertEquals(await store.getRun("run_1"), failed);

    // JSON scalars (a string result, false, 0) are values, not text; null clears a column.
    const scalar = await store.updateRun("run_1", { result: "done", sandbox: false, access: 0 });
    assertEquals([scalar?.result, scalar?.sandbox, scalar?.access], ["done", false, 0]);
    const cleared = await store.updateRun("run_1", { result: null, error: null, sandbox: null });
    assertEquals([cleared?.result, cleared?.error, cleared?.sandbox], [null, null, null]);

    assertEquals(await store.updateRun("run_1", {}), cleared);
    assertEquals(await store.updateRun("missing", { status: "running" }), null);
    assertEquals(await store.getRun("missing"), null);
    await assert.rejects(
      store.createRun(newRun("run_x", { pipeline: "ghost" })),
      (err: Error & { code?: string }) => err.code === "not_found",
    );
  });

  test("JSON keeps key order, unicode and numbers exactly", async (store) => {
    await store.deploy(deployInput({ metadata: { z: 1, a: 2, m: { y: true, b: null } } }));
    const params = {
      zeta: "ünïcödé ✓ 😀",
      alpha: [1.5, 0, -2, 1e21, 9007199254740991],
      'key with "quotes"': "line\nbreak\ttab\\",
    };
    const run = await store.createRun(newRun("run_1", { params }));
    assertEquals(run.params, params);
    assertEquals(Object.keys(run.params), ["zeta", "alpha", 'key with "quotes"']);
    assertEquals(Object.keys((await store.getPipeline("orders"))?.metadata ?? {}), ["z", "a", "m"]);
    assertEquals(JSON.stringify((await store.getRun("run_1"))?.params), JSON.stringify(params));
  });

  test("createRun records skipped runs, flags and the logical run", async (store) => {
    await store.deploy(deployInput());
    const skipped = await store.createRun(newRun("run_1", {
      status: "skipped",
      error: { kind: "overlap", message: "still running" },
      trigger: "schedule",
      scheduled_at: "2026-01-01T00:00:00.000Z",
      logical_run: "sched:2026-01-01T00:00:00.000Z",
      downstream: true,
      exclusive: true,
    }));
    assertEquals(skipped.status, "skipped");
    assertEquals(skipped.finished_at, skipped.created_at);
    assertEquals(skipped.duration_ms, 0);
    assertEquals(skipped.error, { kind: "overlap", message: "still running" });
    assertEquals(
      [skipped.scheduled_at, skipped.logical_run, skipped.downstream, skipped.exclusive],
      ["2026-01-01T00:00:00.000Z", "sched:2026-01-01T00:00:00.000Z", true, true],
    );
    assertEquals(await store.getRun("run_1"), skipped);
    await assert.rejects(store.createRun(newRun("run_1")), "a run id is unique");
  });

  test("listRuns, listRunsByStatus, lastSuccessfulRun and listErrors", async (store) => {
    // Ids sort in creation order, which breaks ties between equal created_at values.
    for (const id of ["run_1", "run_2", "run_3", "run_4", "run_5"]) await seedRun(store, id);
    await seedRun(store, "run_6", "other");
    await store.updateRun("run_1", { status: "success" });
    await store.updateRun("run_2", { status: "failed" });
    await store.updateRun("run_3", { status: "success" });
    await store.updateRun("run_4", { status: "running" });
    await store.updateRun("run_6", { status: "timed_out" });

    const ids = (runs: { run_id: string }[]) => runs.map((r) => r.run_id);
    assertEquals(ids(await store.listRuns("orders")), [
      "run_5",
      "run_4",
      "run_3",
      "run_2",
      "run_1",
    ]);
    assertEquals(ids(await store.listRuns("orders", { limit: 2 })), ["run_5", "run_4"]);
    assertEquals(ids(await store.listRuns("orders", { limit: Infinity })).length, 5);
    assertEquals(await store.listRuns("orders", { limit: 0 }), []);
    assertEquals(await store.listRuns("nope"), []);
    // A page by status, and the pages after a run (ties on created_at broken by run_id).
    assertEquals(ids(await store.listRuns("orders", { statuses: ["success"] })), [
      "run_3",
      "run_1",
    ]);
    assertEquals(ids(await store.listRuns("orders", { statuses: ["failed", "running"] })), [
      "run_4",
      "run_2",
    ]);
    assertEquals(await store.listRuns("orders", { statuses: [] }), []);
    const run4 = (await store.getRun("run_4"))!;
    assertEquals(ids(await store.listRuns("orders", { before: run4, limit: 2 })), [
      "run_3",
      "run_2",
    ]);
    assertEquals(
      ids(await store.listRuns("orders", { before: run4, statuses: ["success"], limit: 1 })),
      ["run_3"],
    );

    assertEquals(ids(await store.listRunsByStatus(["queued", "running"])), ["run_4", "run_5"]);
    assertEquals(ids(await store.listRunsByStatus(["timed_out"])), ["run_6"]);
    assertEquals(await store.listRunsByStatus([]), []);

    assertEquals((await store.lastSuccessfulRun("orders"))?.run_id, "run_3");
    assertEquals(await store.lastSuccessfulRun("other"), null);

    assertEquals(ids(await store.listErrors()), ["run_6", "run_2"]);
    assertEquals(ids(await store.listErrors({ limit: 1 })), ["run_6"]);
    // run_2 failed and a later run of its pipeline (run_3) succeeded: resolved.
    const errors = await store.listErrors();
    assertEquals(errors.map((r) => [r.run_id, r.resolved]), [["run_6", false], ["run_2", true]]);
    assertEquals(ids(await store.listErrors({ unresolved: true })), ["run_6"]);
    assertEquals(ids(await store.listErrors({ unresolved: true, limit: 1 })), ["run_6"]);
  });

  test("an error is resolved only by a later success of its own pipeline", async (store) => {
    // Ids sort in creation order, which breaks ties between equal created_at values.
    for (const id of ["run_1", "run_2", "run_3", "run_4"]) await seedRun(store, id);
    await seedRun(store, "run_5", "other");
    await store.updateRun("run_1", { status: "success" }); // before the failure: resolves nothing
    await store.updateRun("run_2", { status: "timed_out" });
    await store.updateRun("run_3", { status: "failed" });
    await store.updateRun("run_5", { status: "success" }); // another pipeline
    const state = async () =>
      (await store.listErrors()).map((r) => [r.run_id, r.resolved] as [string, boolean]);
    assertEquals(await state(), [["run_3", false], ["run_2", false]]);
    await store.updateRun("run_4", { status: "success" });
    assertEquals(await state(), [["run_3", true], ["run_2", true]]);
    assertEquals(await store.listErrors({ unresolved: true }), []);
  });

  test("errors stored once with references read back as stored", async (store) => {
    await seedRun(store, "run_1");
    const whole: RunError = {
      kind: "exception",
      message: "boom",
      step: "load",
      stack: "Error: boom",
    };
    const ref: RunError = { kind: "exception", message: "boom", ref: "error" };
    await store.updateRun("run_1", {
      status: "failed",
      error: whole,
      attempts: [{
        attempt: 1,
        status: "failed",
        started_at: null,
        finished_at: null,
        duration_ms: null,
        error: ref,
      }],
    });
    await store.saveStep({ ...stepRecord("run_1", "load"), status: "failed", error: ref });
    const run = await store.getRun("run_1");
    assertEquals([run?.error, run?.attempts[0]?.error], [whole, ref]);
    assertEquals((await store.listSteps("run_1"))[0]?.error, ref);
  });

  test("ordering is bytewise, as in SQLite, whatever the collation", async (store) => {
    for (const name of ["b", "B", "a_b", "a-b", "ab", "A"]) {
      await store.deploy(deployInput({ name }));
    }
    assertEquals((await store.listPipelines()).map((p) => p.name), [
      "A",
      "B",
      "a-b",
      "a_b",
      "ab",
      "b",
    ]);
    for (const id of ["r_b", "r-a", "rA", "r_a"]) {
      await store.createRun(newRun(id, { pipeline: "b" }));
    }
    // Equal created_at values are possible: ties are broken by run_id, bytewise, newest first.
    const runs = await store.listRuns("b", { limit: 10 });
    const sorted = [...runs].sort((x, y) =>
      x.created_at === y.created_at
        ? (x.run_id < y.run_id ? 1 : -1)
        : (x.created_at < y.created_at ? 1 : -1)
    );
    assertEquals(runs.map((r) => r.run_id), sorted.map((r) => r.run_id));
  });

  test("saveStep inserts then replaces by (run_id, attempt, seq)", async (store) => {
    await seedRun(store, "run_1");
    const step = stepRecord("run_1", "extract");
    await store.saveStep(step);
    await store.saveStep({ ...step, seq: 1, name: "load" });
    await store.saveStep({ ...step, attempt: 2 });
    const done: StepRecord = {
      ...step,
      status: "failed" as const,
      finished_at: "2024-01-01T00:00:01.000Z",
      duration_ms: 1000,
      rows_in: 10,
      rows_out: 9,
      metadata: { source: "s3" },
      error: { kind: "exception", message: "bad row" },
    };
    await store.saveStep(done);
    assertEquals(await store.listSteps("run_1", 1), [done, { ...step, seq: 1, name: "load" }]);
    assertEquals((await store.listSteps("run_1")).length, 3);
    assertEquals(await store.listSteps("run_1", 2), [{ ...step, attempt: 2 }]);
    // Row counts beyond 32 bits come back as numbers.
    const big = { ...step, seq: 2, rows_in: 5_000_000_000, rows_out: 4_999_999_999 };
    await store.saveStep(big);
    assertEquals((await store.listSteps("run_1", 1))[2], big);
  });

  test("appendLogs and listLogs with afterSeq, tail and limit", async (store) => {
    await seedRun(store, "run_1");
    await seedRun(store, "run_2");
    await store.appendLogs(Array.from({ length: 10 }, (_, i) => log("run_1", i)));
    await store.appendLogs([log("run_2", 0)]);
    await store.appendLogs([]);
    const seqs = (logs: LogRecord[]) => logs.map((l) => l.seq);

    const all = await store.listLogs("run_1");
    assertEquals(seqs(all), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    assertEquals(all[3], log("run_1", 3));
    assertEquals(seqs(await store.listLogs("run_1", { afterSeq: 6 })), [7, 8, 9]);
    assertEquals(seqs(await store.listLogs("run_1", { limit: 3 })), [0, 1, 2]);
    assertEquals(seqs(await store.listLogs("run_1", { afterSeq: 2, limit: 2 })), [3, 4]);
    assertEquals(seqs(await store.listLogs("run_1", { tail: 3 })), [7, 8, 9]);
    assertEquals(seqs(await store.listLogs("run_1", { tail: 5, limit: 2 })), [8, 9]);
    assertEquals(seqs(await store.listLogs("run_1", { tail: 5, afterSeq: 7 })), [8, 9]);
    assertEquals(seqs(await store.listLogs("run_1", { tail: 0 })), []);
    assertEquals(seqs(await store.listLogs("run_2")), [0]);
    assertEquals(await store.listLogs("missing"), []);
  });

  test("appendLogs ignores lines it already has and keeps every field", async (store) => {
    await seedRun(store, "run_1");
    const line: LogRecord = {
      run_id: "run_1",
      attempt: 2,
      seq: 0,
      ts: "2024-01-01T00:00:00.123Z",
      level: "stderr",
      step: "load",
      message: "ünïcödé 😀 'quotes' \"double\" \\ back\nslash",
    };
    await store.appendLogs([line, { ...line, seq: 1, step: null, level: "system" }]);
    // Re-sending a batch (and a duplicate within it) changes nothing.
    await store.appendLogs([{ ...line, message: "changed" }, { ...line, seq: 2 }, {
      ...line,
      seq: 2,
      message: "dup",
    }]);
    const logs = await store.listLogs("run_1");
    assertEquals(logs, [
      line,
      { ...line, seq: 1, step: null, level: "system" },
      { ...line, seq: 2 },
    ]);
    const many = Array.from({ length: 5000 }, (_, i) => log("run_1", 10 + i));
    await store.appendLogs(many);
    assertEquals((await store.listLogs("run_1", { tail: 1 }))[0]?.seq, 5009);
  });

  test("stats counts pipelines and every run status", async (store) => {
    const empty = await store.stats();
    assertEquals(empty, {
      pipelines: 0,
      runs: {
        queued: 0,
        running: 0,
        success: 0,
        failed: 0,
        timed_out: 0,
        cancelled: 0,
        skipped: 0,
      },
    });
    await seedRun(store, "run_1");
    await seedRun(store, "run_2");
    await seedRun(store, "run_3", "other");
    await store.updateRun("run_2", { status: "cancelled" });
    const stats = await store.stats();
    assertEquals(stats.pipelines, 2);
    assertEquals(stats.runs, { ...empty.runs, queued: 2, cancelled: 1 });
  });

  test("prune keeps the newest N runs per pipeline and nothing older than D days", async (store) => {
    for (let i = 1; i <= 6; i++) await seedRun(store, `r${i}`);
    await seedRun(store, "other_1", "other");
    for (let i = 1; i <= 5; i++) await store.updateRun(`r${i}`, { status: "success" });
    await store.updateRun("other_1", { status: "failed" });
    await store.appendLogs([log("r1", 0)]);
    await store.setSchedule(
      "orders",
      { cron: "* * * * *", every_s: null, timezone: null },
      new Date(),
    );
    await store.recordTick({
      pipeline: "orders",
      scheduled_at: "2020-01-01T00:00:00.000Z",
      outcome: "missed",
    });

    const now = new Date();
    // Same created_at: run_id breaks the tie, so r6 (running), r5 and r4 are the newest three.
    assertEquals(await store.prune({ keepRuns: 3, keepDays: 90, now }), 3);
    const left = async (p: string) => (await store.listRuns(p, { limit: 10 })).map((r) => r.run_id);
    assertEquals(await left("orders"), ["r6", "r5", "r4"]);
    assertEquals(await left("other"), ["other_1"]);
    assertEquals(await store.listLogs("r1"), []);
    assertEquals(await store.listTicks("orders"), [], "ticks older than the window go too");

    const later = new Date(now.getTime() + 91 * 86_400_000);
    assertEquals(await store.prune({ keepRuns: 1000, keepDays: 90, now: later }), 3);
    assertEquals(await left("orders"), ["r6"], "an active run is never pruned");
  });

  test("ticks are recorded once, with their run, in one transaction", async (store) => {
    await store.deploy(deployInput());
    await store.setSchedule("orders", { cron: null, every_s: 60, timezone: null }, new Date(0));
    const tick = (runId: string) => ({
      pipeline: "orders",
      scheduled_at: "2026-01-01T00:01:00.000Z",
      outcome: "run" as const,
      run: newRun(runId, { trigger: "schedule", scheduled_at: "2026-01-01T00:01:00.000Z" }),
    });
    const first = await store.recordTick(tick("t1"));
    const again = await store.recordTick(tick("t2"));
    assertEquals([first, again], [
      { recorded: true, run_id: "t1" },
      { recorded: false, run_id: null },
    ]);
    assertEquals(await store.getRun("t2"), null, "the duplicate's run was not created");
    assertEquals((await store.getRun("t1"))?.scheduled_at, "2026-01-01T00:01:00.000Z");
    assertEquals((await store.getSchedule("orders"))?.last_tick, "2026-01-01T00:01:00.000Z");
    const [recorded] = await store.listTicks("orders");
    assertEquals(
      [recorded?.outcome, recorded?.run_id, recorded?.detail],
      ["run", "t1", null],
    );

    // A tick whose run cannot be created leaves nothing behind, so it can be tried again.
    const ghost = {
      ...tick("t3"),
      scheduled_at: "2026-01-01T00:02:00.000Z",
      run: newRun("t3", { pipeline: "ghost" }),
    };
    await assert.rejects(store.recordTick(ghost));
    assertEquals((await store.listTicks("orders")).length, 1);
    assertEquals((await store.getSchedule("orders"))?.last_tick, "2026-01-01T00:01:00.000Z");
    const retried = await store.recordTick({ ...ghost, run: newRun("t3") });
    assertEquals(retried, { recorded: true, run_id: "t3" });
    assertEquals((await store.getRun("t3"))?.status, "queued");
  });

  test("a pass's ticks are recorded in one transaction: all, in order, or none", async (store) => {
    await store.deploy(deployInput());
    await store.deploy(deployInput({ name: "alpha" }));
    for (const name of ["orders", "alpha"]) {
      await store.setSchedule(name, { cron: null, every_s: 60, timezone: null }, new Date(0));
    }
    const at = "2026-01-01T00:01:00.000Z";
    const tick = (pipeline: string, runId: string) => ({
      pipeline,
      scheduled_at: at,
      outcome: "run" as const,
      run: newRun(runId, { pipeline, trigger: "schedule", scheduled_at: at }),
    });
    const missed = {
      pipeline: "orders",
      scheduled_at: "2026-01-01T00:00:00.000Z",
      outcome: "missed" as const,
      detail: "missed",
    };
    // One tick that cannot be recorded (its run's pipeline does not exist) fails the batch whole.
    const ghost = { ...tick("orders", "g1"), run: newRun("g1", { pipeline: "ghost" }) };
    await assert.rejects(store.recordTicks([tick("alpha", "a0"), ghost]));
    assertEquals([await store.getRun("a0"), await store.listTicks("alpha")], [null, []]);

    const results = await store.recordTicks([missed, tick("orders", "o1"), tick("alpha", "a1")]);
    assertEquals(results, [
      { recorded: true, run_id: null },
      { recorded: true, run_id: "o1" },
      { recorded: true, run_id: "a1" },
    ]);
    assertEquals((await store.getRun("a1"))?.scheduled_at, at);
    const again = await store.recordTicks([tick("alpha", "a2")]);
    assertEquals(again, [{ recorded: false, run_id: null }]);
    assertEquals(await store.getRun("a2"), null);
    assertEquals((await store.listTicks("orders")).map((t) => t.outcome), ["run", "missed"]);
    assertEquals((await store.getSchedule("alpha"))?.last_tick, at);
  });

  test("schedules: set, unchanged, changed, enabled, skipped and removed", async (store) => {
    await store.deploy(deployInput());
    await store.deploy(deployInput({ name: "alpha" }));
    const t0 = new Date("2026-01-01T00:00:00.000Z");
    const t1 = new Date("2026-01-01T01:00:00.000Z");
    const t2 = new Date("2026-01-01T02:00:00.000Z");
    const created = await store.setSchedule(
      "orders",
      { cron: null, every_s: 60, timezone: null },
      t0,
    );
    assertEquals([created?.every_s, created?.anchor, created?.enabled], [
      60,
      t0.toISOString(),
      true,
    ]);
    // The same spec again leaves the schedule (and its anchor) alone.
    assertEquals(
      await store.setSchedule("orders", { cron: null, every_s: 60, timezone: null }, t1),
      created,
    );
    await store.recordTick({
      pipeline: "orders",
      scheduled_at: "2026-01-01T05:00:00.000Z",
      outcome: "missed",
    });
    // A changed spec re-anchors, and last_tick never moves back.
    const changed = await store.setSchedule(
      "orders",
      { cron: "0 6 * * *", every_s: null, timezone: "Europe/Paris" },
      t1,
    );
    assertEquals(
      [changed?.cron, changed?.every_s, changed?.timezone, changed?.anchor, changed?.last_tick],
      ["0 6 * * *", null, "Europe/Paris", t1.toISOString(), "2026-01-01T05:00:00.000Z"],
    );
    await store.setSchedule("alpha", { cron: "* * * * *", every_s: null, timezone: null }, t0);
    assertEquals((await store.listSchedules()).map((s) => s.pipeline), ["alpha", "orders"]);

    const stamps = [await store.scheduleStamp()];
    const disabled = await store.setScheduleEnabled("alpha", false, t1);
    stamps.push(await store.scheduleStamp());
    assertEquals([disabled?.enabled, disabled?.last_tick], [false, t0.toISOString()]);
    const enabled = await store.setScheduleEnabled("alpha", true, t2);
    assertEquals(
      [enabled?.enabled, enabled?.last_tick, enabled?.updated_at],
      [true, t2.toISOString(), t2.toISOString()],
    );
    // Enabling an enabled schedule does not move last_tick.
    const still = await store.setScheduleEnabled("alpha", true, new Date("2026-01-02T00:00:00Z"));
    assertEquals(still?.last_tick, t2.toISOString());
    assertEquals(await store.setScheduleEnabled("nope", true, t2), null);

    stamps.push(await store.scheduleStamp());
    await store.skipTicks("alpha", "2026-01-01T03:00:00.000Z", 7);
    await store.skipTicks("alpha", "2026-01-01T00:30:00.000Z", 2); // never back
    const skipped = await store.getSchedule("alpha");
    assertEquals([skipped?.last_tick, skipped?.missed], ["2026-01-01T03:00:00.000Z", 9]);
    stamps.push(await store.scheduleStamp()); // ticks passing over it leave the stamp alone

    assertEquals(await store.setSchedule("alpha", null, t2), null);
    stamps.push(await store.scheduleStamp());
    const [before, off, on, ticked, removed] = stamps;
    assertEquals(
      [off !== before, on !== off, ticked === on, removed !== ticked],
      [true, true, true, true],
      `stamps ${stamps.join(", ")}`,
    );
    assertEquals(await store.getSchedule("alpha"), null);
    assertEquals((await store.listSchedules()).map((s) => s.pipeline), ["orders"]);
  });

  test("listTicks is newest first, with a limit", async (store) => {
    await store.deploy(deployInput());
    for (let m = 1; m <= 5; m++) {
      const result = await store.recordTick({
        pipeline: "orders",
        scheduled_at: `2026-01-01T00:0${m}:00.000Z`,
        outcome: m % 2 ? "skipped" : "missed",
        detail: `tick ${m}`,
      });
      assertEquals(result, { recorded: true, run_id: null });
    }
    const ticks = await store.listTicks("orders", { limit: 2 });
    assertEquals(ticks.map((t) => [t.scheduled_at, t.outcome, t.detail, t.run_id]), [
      ["2026-01-01T00:05:00.000Z", "skipped", "tick 5", null],
      ["2026-01-01T00:04:00.000Z", "missed", "tick 4", null],
    ]);
    assertEquals((await store.listTicks("orders")).length, 5);
    assertEquals(await store.listTicks("nope"), []);
  });

  test("dependencies are replaced as a whole and listed in order", async (store) => {
    for (const name of ["orders", "customers", "items", "report"]) {
      await store.deploy(deployInput({ name }));
    }
    await store.setDependencies("report", ["orders", "customers"]);
    await store.setDependencies("orders", ["items"]);
    assertEquals(await store.listDependencies(), [
      { pipeline: "orders", upstream: "items" },
      { pipeline: "report", upstream: "customers" },
      { pipeline: "report", upstream: "orders" },
    ]);
    await store.setDependencies("report", ["items"]);
    await store.setDependencies("orders", []);
    assertEquals(await store.listDependencies(), [{ pipeline: "report", upstream: "items" }]);
    await assert.rejects(store.setDependencies("report", ["ghost"]), "an unknown upstream");
    assertEquals(await store.listDependencies(), [{ pipeline: "report", upstream: "items" }]);
  });

  test("dependency runs: once per pipeline and logical run, listed oldest first", async (store) => {
    await store.deploy(deployInput({ name: "up" }));
    await store.deploy(deployInput({ name: "down" }));
    const root = await store.createRun(newRun("r1", { pipeline: "up", logical_run: "run:r1" }));
    const dep = (id: string, logical = "run:r1") =>
      newRun(id, { pipeline: "down", trigger: "dependency", logical_run: logical });
    const first = await store.createDependencyRun(dep("r2"));
    assertEquals([first?.run_id, first?.trigger, first?.logical_run], [
      "r2",
      "dependency",
      "run:r1",
    ]);
    assertEquals(await store.createDependencyRun(dep("r3")), null);
    assertEquals(await store.getRun("r3"), null);
    assertEquals((await store.createDependencyRun(dep("r4", "run:other")))?.run_id, "r4");
    // Other triggers are not limited by the index.
    await store.createRun(newRun("r5", { pipeline: "down", logical_run: "run:r1" }));
    assertEquals((await store.listLogicalRun("run:r1")).map((r) => r.run_id), ["r1", "r2", "r5"]);
    assertEquals(await store.listLogicalRun("run:r1").then((runs) => runs[0]), root);
    assertEquals(await store.listLogicalRun("none"), []);
    await assert.rejects(
      store.createDependencyRun({ ...dep("r6", "run:x"), pipeline: "ghost" }),
      (err: Error & { code?: string }) => err.code === "not_found",
    );
  });

  test("api keys: created, listed without digest, touched, revoked once", async (store, db) => {
    const created = await store.createApiKey({
      id: "k1",
      name: "ci",
      scope: "operate",
      hash: "a".repeat(64),
      created_at: "2024-01-01T00:00:00.000Z",
    });
    assertEquals(created, {
      id: "k1",
      name: "ci",
      scope: "operate",
      created_at: "2024-01-01T00:00:00.000Z",
      last_used_at: null,
      revoked_at: null,
    });
    await store.createApiKey({
      id: "k2",
      name: null,
      scope: "read",
      hash: "b".repeat(64),
      created_at: "2024-01-02T00:00:00.000Z",
    });
    const listed = await store.listApiKeys();
    assertEquals(listed.map((k) => k.id), ["k1", "k2"]);
    assert(listed.every((k) => !("hash" in k)));
    assertEquals((await store.getApiKey("k1"))?.hash, "a".repeat(64));
    assertEquals(await store.getApiKey("k2"), {
      id: "k2",
      name: null,
      scope: "read",
      hash: "b".repeat(64),
      created_at: "2024-01-02T00:00:00.000Z",
      last_used_at: null,
      revoked_at: null,
    });
    assertEquals(await store.getApiKey("nope"), null);

    await store.touchApiKey("k1", new Date("2024-01-03T00:00:00.000Z"));
    assertEquals((await store.getApiKey("k1"))?.last_used_at, "2024-01-03T00:00:00.000Z");

    const revoked = await store.revokeApiKey("k1", new Date("2024-01-04T00:00:00.000Z"));
    assertEquals(revoked?.revoked_at, "2024-01-04T00:00:00.000Z");
    assert(revoked && !("hash" in revoked));
    const again = await store.revokeApiKey("k1", new Date("2024-01-05T00:00:00.000Z"));
    assertEquals(again?.revoked_at, "2024-01-04T00:00:00.000Z");
    assertEquals(await store.revokeApiKey("nope", new Date()), null);

    const [row] = await db.query("SELECT scope, hash, revoked_at FROM api_keys WHERE id = 'k1'");
    assertEquals({ ...row }, {
      scope: "operate",
      hash: "a".repeat(64),
      revoked_at: "2024-01-04T00:00:00.000Z",
    });
  });

  test("api keys: an unknown scope is refused by the schema", async (store) => {
    await assert.rejects(store.createApiKey({
      id: "k1",
      name: null,
      scope: "root" as "admin",
      hash: "a".repeat(64),
      created_at: new Date().toISOString(),
    }));
    assertEquals(await store.listApiKeys(), []);
  });
}
