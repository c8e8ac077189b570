import { assert, assertEquals } from "../../../tests/helpers/assert.ts";
import { DatabaseSync } from "node:sqlite";
import { type DeployInput, type LogRecord, openStore, type Store } from "../mod.ts";
import { MIGRATIONS } from "./migrations.ts";
import { SqliteStore } from "./sqlite_store.ts";

async function tempDbPath(): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "tau_store_test_" });
  return `${dir}/tau.db`;
}

function removeDb(path: string): Promise<void> {
  return Deno.remove(path.slice(0, path.lastIndexOf("/")), { recursive: true });
}

/** Runs `fn` against a fresh migrated store on a temp file, then closes and deletes it. */
async function withStore(fn: (store: Store, path: string) => Promise<void>): Promise<void> {
  const path = await tempDbPath();
  const store = await openStore({ path });
  try {
    await fn(store, path);
  } finally {
    await store.close();
    await removeDb(path);
  }
}

function deployInput(overrides: Partial<DeployInput> = {}): DeployInput {
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

async function seedRun(store: Store, runId: string, pipeline = "orders") {
  if (!(await store.getPipeline(pipeline))) await store.deploy(deployInput({ name: pipeline }));
  return store.createRun({
    run_id: runId,
    pipeline,
    version: 1,
    trigger: "manual",
    params: {},
    max_attempts: 1,
    permissions: null,
  });
}

function log(runId: string, seq: number): LogRecord {
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

Deno.test("migrate twice is idempotent, one schema_migrations row per migration", async () => {
  await withStore(async (store, path) => {
    await store.migrate();
    await store.migrate();
    const db = new DatabaseSync(path);
    const rows = db.prepare("SELECT version, name FROM schema_migrations ORDER BY version").all();
    assertEquals(
      rows.map((r) => ({ ...r })),
      MIGRATIONS.map((m) => ({ version: m.version, name: m.name })),
    );
    assertEquals({ ...db.prepare("PRAGMA journal_mode").get() }, { journal_mode: "wal" });
    db.close();
  });
});

Deno.test("two stores on one file migrating at once both succeed", async () => {
  const path = await tempDbPath();
  const a = new SqliteStore(path);
  const b = new SqliteStore(path);
  await Promise.all([a.migrate(), b.migrate()]);
  await a.deploy(deployInput());
  assertEquals((await b.getPipeline("orders"))?.current_version, 1);
  await a.close();
  await b.close();
  await removeDb(path);
});

Deno.test("several processes migrating one file at once all succeed", async () => {
  const path = await tempDbPath();
  const mod = new URL("../mod.ts", import.meta.url).href;
  const code = `
    import { openStore } from ${JSON.stringify(mod)};
    const store = await openStore({ path: ${JSON.stringify(path)} });
    await store.deploy({ name: "p" + Deno.pid, code: "", hash: "h", filename: "p.ts",
      source_path: null, schedule: null, metadata: {} });
    await store.close();`;
  const children = Array.from(
    { length: 8 },
    () => new Deno.Command(Deno.execPath(), { args: ["eval", code], stderr: "piped" }).output(),
  );
  for (const out of await Promise.all(children)) {
    assertEquals(out.code, 0, new TextDecoder().decode(out.stderr));
  }
  const store = await openStore({ path });
  assertEquals((await store.stats()).pipelines, 8);
  await store.close();
  const db = new DatabaseSync(path);
  assertEquals(
    db.prepare("SELECT count(*) AS n FROM schema_migrations").get()?.n,
    MIGRATIONS.length,
  );
  db.close();
  await removeDb(path);
});

Deno.test("deploy versions by hash", async () => {
  await withStore(async (store) => {
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
  });
});

Deno.test("deletePipeline cascades to versions, runs, steps and logs", async () => {
  await withStore(async (store, path) => {
    await seedRun(store, "run_1");
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
    assertEquals(await store.deletePipeline("orders"), true);
    assertEquals(await store.deletePipeline("orders"), false);
    assertEquals(await store.getRun("run_1"), null);
    const db = new DatabaseSync(path);
    for (const table of ["pipeline_versions", "runs", "steps", "logs"]) {
      assertEquals(db.prepare(`SELECT count(*) AS n FROM ${table}`).get()?.n, 0, table);
    }
    db.close();
  });
});

Deno.test("createRun defaults, updateRun partial patches and JSON round trips", async () => {
  await withStore(async (store) => {
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

    const running = await store.updateRun("run_1", {
      status: "running",
      attempt: 1,
      started_at: "2024-01-01T00:00:01.000Z",
      pid: 4242,
    });
    assertEquals(running?.status, "running");
    assertEquals(running?.pid, 4242);
    assertEquals(running?.params, created.params); // untouched

    const error = { kind: "step_error", message: "boom", step: "load", hint: null };
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
    });
    assertEquals(failed?.started_at, "2024-01-01T00:00:01.000Z"); // kept from earlier patch
    assertEquals(failed?.error, error);
    assertEquals(failed?.attempts, attempts);
    assertEquals(failed?.result, [1, "two", { three: 3 }]);
    assertEquals(failed?.pid, null);
    assertEquals(await store.getRun("run_1"), failed);

    assertEquals(await store.updateRun("run_1", {}), failed);
    assertEquals(await store.updateRun("missing", { status: "running" }), null);
    assertEquals(await store.getRun("missing"), null);
    await assert.rejects(
      seedRunNoDeploy(store),
      (err: Error & { code?: string }) => err.code === "not_found",
    );
  });
});

function seedRunNoDeploy(store: Store) {
  return store.createRun({
    run_id: "run_x",
    pipeline: "ghost",
    version: 1,
    trigger: "manual",
    params: {},
    max_attempts: 1,
    permissions: null,
  });
}

Deno.test("listRuns, listRunsByStatus, lastSuccessfulRun and listErrors", async () => {
  await withStore(async (store) => {
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
    assertEquals(await store.listRuns("nope"), []);

    assertEquals(ids(await store.listRunsByStatus(["queued", "running"])), ["run_4", "run_5"]);
    assertEquals(await store.listRunsByStatus([]), []);

    assertEquals((await store.lastSuccessfulRun("orders"))?.run_id, "run_3");
    assertEquals(await store.lastSuccessfulRun("other"), null);

    assertEquals(ids(await store.listErrors()), ["run_6", "run_2"]);
    assertEquals(ids(await store.listErrors({ limit: 1 })), ["run_6"]);
  });
});

Deno.test("saveStep inserts then replaces by (run_id, attempt, seq)", async () => {
  await withStore(async (store) => {
    await seedRun(store, "run_1");
    const step = {
      run_id: "run_1",
      attempt: 1,
      seq: 0,
      name: "extract",
      status: "running" as const,
      started_at: "2024-01-01T00:00:00.000Z",
      finished_at: null,
      duration_ms: null,
      rows_in: null,
      rows_out: null,
      metadata: {},
      error: null,
    };
    await store.saveStep(step);
    await store.saveStep({ ...step, seq: 1, name: "load" });
    await store.saveStep({ ...step, attempt: 2 });
    const done = {
      ...step,
      status: "failed" as const,
      finished_at: "2024-01-01T00:00:01.000Z",
      duration_ms: 1000,
      rows_in: 10,
      rows_out: 9,
      metadata: { source: "s3" },
      error: { kind: "error", message: "bad row" },
    };
    await store.saveStep(done);
    assertEquals(await store.listSteps("run_1", 1), [done, { ...step, seq: 1, name: "load" }]);
    assertEquals((await store.listSteps("run_1")).length, 3);
    assertEquals(await store.listSteps("run_1", 2), [{ ...step, attempt: 2 }]);
  });
});

Deno.test("appendLogs and listLogs with afterSeq, tail and limit", async () => {
  await withStore(async (store) => {
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
});

Deno.test("stats counts pipelines and every run status", async () => {
  await withStore(async (store) => {
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
});

Deno.test("data survives closing and reopening the file", async () => {
  const path = await tempDbPath();
  const first = await openStore({ path });
  await seedRun(first, "run_1");
  await first.updateRun("run_1", { status: "success", result: { rows: 3 } });
  await first.appendLogs([log("run_1", 0), log("run_1", 1)]);
  await first.close();
  await first.close(); // closing twice is harmless

  const second = await openStore({ path });
  assertEquals((await second.getPipeline("orders"))?.current_version, 1);
  assertEquals((await second.getRun("run_1"))?.result, { rows: 3 });
  assertEquals((await second.listLogs("run_1")).length, 2);
  await second.close();
  await removeDb(path);
});

Deno.test("prune keeps the newest N runs per pipeline and nothing older than D days", async () => {
  await withStore(async (store) => {
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
});

Deno.test("ticks are recorded once, with their run, in one transaction", async () => {
  await withStore(async (store) => {
    await store.deploy(deployInput());
    await store.setSchedule("orders", { cron: null, every_s: 60, timezone: null }, new Date(0));
    const tick = (runId: string) => ({
      pipeline: "orders",
      scheduled_at: "2026-01-01T00:01:00.000Z",
      outcome: "run" as const,
      run: {
        run_id: runId,
        pipeline: "orders",
        version: 1,
        trigger: "schedule",
        params: {},
        max_attempts: 1,
        permissions: null,
        scheduled_at: "2026-01-01T00:01:00.000Z",
      },
    });
    const first = await store.recordTick(tick("t1"));
    const again = await store.recordTick(tick("t2"));
    assertEquals([first.recorded, first.run?.scheduled_at, again.recorded, again.run], [
      true,
      "2026-01-01T00:01:00.000Z",
      false,
      null,
    ]);
    assertEquals(await store.getRun("t2"), null, "the duplicate's run was not created");
    assertEquals((await store.getSchedule("orders"))?.last_tick, "2026-01-01T00:01:00.000Z");
  });
});

Deno.test("upgrading a version-1 database keeps its schedules and dependencies", async () => {
  const path = await tempDbPath();
  try {
    const db = new DatabaseSync(path);
    db.exec(MIGRATIONS[0]?.sql ?? "");
    db.prepare("INSERT INTO schema_migrations VALUES (1, 'initial_schema', '2026-01-01')").run();
    const insert = db.prepare(
      "INSERT INTO pipelines VALUES (?, 1, NULL, NULL, ?, '2026-01-01', '2026-01-01')",
    );
    insert.run("up", JSON.stringify({ schedule: "0 6 * * *", depends_on: [] }));
    insert.run("down", JSON.stringify({ every: 30, depends_on: ["up", "gone"] }));
    db.close();
    const store = await openStore({ path });
    try {
      const schedules = await store.listSchedules();
      assertEquals(schedules.map((s) => [s.pipeline, s.cron, s.every_s, s.enabled]), [
        ["down", null, 30, true],
        ["up", "0 6 * * *", null, true],
      ]);
      assertEquals(await store.listDependencies(), [{ pipeline: "down", upstream: "up" }]);
    } finally {
      await store.close();
    }
  } finally {
    await removeDb(path);
  }
});

Deno.test("api keys: created, listed without digest, touched, revoked once", async () => {
  await withStore(async (store, path) => {
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
    assertEquals(await store.getApiKey("nope"), null);

    await store.touchApiKey("k1", new Date("2024-01-03T00:00:00.000Z"));
    assertEquals((await store.getApiKey("k1"))?.last_used_at, "2024-01-03T00:00:00.000Z");

    const revoked = await store.revokeApiKey("k1", new Date("2024-01-04T00:00:00.000Z"));
    assertEquals(revoked?.revoked_at, "2024-01-04T00:00:00.000Z");
    assert(revoked && !("hash" in revoked));
    const again = await store.revokeApiKey("k1", new Date("2024-01-05T00:00:00.000Z"));
    assertEquals(again?.revoked_at, "2024-01-04T00:00:00.000Z");
    assertEquals(await store.revokeApiKey("nope", new Date()), null);

    const db = new DatabaseSync(path);
    const row = db.prepare("SELECT scope, hash, revoked_at FROM api_keys WHERE id = 'k1'").get();
    assertEquals({ ...row }, {
      scope: "operate",
      hash: "a".repeat(64),
      revoked_at: "2024-01-04T00:00:00.000Z",
    });
    db.close();
  });
});

Deno.test("api keys: an unknown scope is refused by the schema", async () => {
  await withStore(async (store) => {
    await assert.rejects(store.createApiKey({
      id: "k1",
      name: null,
      scope: "root" as "admin",
      hash: "a".repeat(64),
      created_at: new Date().toISOString(),
    }));
    assertEquals(await store.listApiKeys(), []);
  });
});
