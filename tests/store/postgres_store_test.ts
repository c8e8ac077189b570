/**
 * The store contract on PostgreSQL, plus what only several processes sharing one database can
 * get wrong. Every test gets a schema of its own (`search_path` in the URL), dropped afterwards.
 *
 * The server is `TAU_TEST_DATABASE_URL`, by default postgres://postgres@127.0.0.1:5432/test.
 * When that variable is unset and no server answers there, the tests are reported as ignored;
 * when it is set, an unreachable server fails them.
 */

import postgres from "postgres";
import { assert, assertEquals } from "../helpers/assert.ts";
import { openStore, type Store } from "../../src/store/mod.ts";
import { deployInput, log, newRun, storeContract, type StoreTarget } from "./store_contract.ts";
import { queueContract } from "./queue_contract.ts";
import { versionsContract } from "./versions_contract.ts";
import { webhooksContract } from "./webhooks_contract.ts";
import { triggersContract } from "./triggers_contract.ts";
import { lineageContract } from "./lineage_contract.ts";
import { backfillsContract } from "./backfills_contract.ts";
import { MIGRATIONS as SQLITE_MIGRATIONS } from "../../src/store/sqlite/migrations.ts";
import { MIGRATIONS } from "../../src/store/postgres/migrations.ts";
import { PostgresStore } from "../../src/store/postgres/postgres_store.ts";

const CONFIGURED = Deno.env.get("TAU_TEST_DATABASE_URL");
const BASE_URL = CONFIGURED ?? "postgres://postgres@127.0.0.1:5432/test";

/** Runs `fn` on a one-connection client of `url`, closed afterwards. */
async function withClient<T>(url: string, fn: (sql: postgres.Sql) => Promise<T>): Promise<T> {
  const sql = postgres(url, { max: 1, onnotice: () => {}, connect_timeout: 5 });
  try {
    return await fn(sql);
  } finally {
    await sql.end({ timeout: 5 });
  }
}

async function unreachable(): Promise<string | null> {
  try {
    await withClient(BASE_URL, (sql) => sql`SELECT 1`);
    return null;
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
}

const problem = await unreachable();
if (problem !== null) {
  if (CONFIGURED) throw new Error(`TAU_TEST_DATABASE_URL is unreachable: ${problem}`);
  console.warn(`PostgreSQL store tests ignored: nothing answers at ${BASE_URL} (${problem})`);
}
const ignore = problem !== null;

interface PgTarget extends StoreTarget {
  schema: string;
  url: string;
}

/** A fresh schema; the URL makes it the first (and only) schema of `search_path`. */
async function pgTarget(): Promise<PgTarget> {
  const schema = `tau_test_${crypto.randomUUID().replaceAll("-", "").slice(0, 16)}`;
  await withClient(BASE_URL, (sql) => sql.unsafe(`CREATE SCHEMA ${schema}`));
  const url = new URL(BASE_URL);
  url.searchParams.set("search_path", schema);
  return {
    schema,
    url: url.href,
    open: () => openStore({ url: url.href, max: 4 }),
    query: (text) =>
      withClient(url.href, async (sql) => [...await sql.unsafe(text)] as Record<string, unknown>[]),
    cleanup: async () => {
      await withClient(BASE_URL, (sql) => sql.unsafe(`DROP SCHEMA ${schema} CASCADE`));
    },
  };
}

const engine = { name: "postgres", target: pgTarget, migrations: MIGRATIONS, ignore } as const;
storeContract(engine);
queueContract(engine);
versionsContract(engine);
webhooksContract(engine);
triggersContract(engine);
lineageContract(engine);
backfillsContract(engine);

// --- PostgreSQL only: several daemons on one database ---

Deno.test("postgres: migrations have the SQLite store's version numbers and names", () => {
  // One schema version means one schema on both engines: add a migration to both or neither.
  assertEquals(
    MIGRATIONS.map((m) => [m.version, m.name]),
    SQLITE_MIGRATIONS.map((m) => [m.version, m.name]),
  );
});

/** Runs `fn` with `n` stores (separate pools) on one fresh schema, migrated by the first. */
async function withStores(n: number, fn: (stores: Store[]) => Promise<void>): Promise<void> {
  const target = await pgTarget();
  const stores: Store[] = [];
  try {
    for (let i = 0; i < n; i++) stores.push(await target.open());
    await fn(stores);
  } finally {
    for (const store of stores) await store.close();
    await target.cleanup();
  }
}

function pgTest(name: string, fn: () => Promise<void>): void {
  Deno.test({ name: `postgres: ${name}`, ignore, fn });
}

pgTest("three stores migrating an empty schema at once apply each migration once", async () => {
  for (let round = 0; round < 3; round++) {
    const target = await pgTarget();
    const stores = [1, 2, 3].map(() => new PostgresStore(target.url, { max: 2 }));
    try {
      await Promise.all(stores.map((store) => store.migrate()));
      const rows = await target.query(
        "SELECT version, name FROM schema_migrations ORDER BY version",
      );
      assertEquals(rows, MIGRATIONS.map((m) => ({ version: m.version, name: m.name })));
      await stores[0]?.deploy(deployInput());
      assertEquals((await stores[2]?.getPipeline("orders"))?.current_version, 1);
    } finally {
      for (const store of stores) await store.close();
      await target.cleanup();
    }
  }
});

pgTest("several processes opening an empty schema at once all succeed", async () => {
  const target = await pgTarget();
  try {
    const mod = new URL("../../src/store/mod.ts", import.meta.url).href;
    const code = `
      import { openStore } from ${JSON.stringify(mod)};
      const store = await openStore({ url: ${JSON.stringify(target.url)}, max: 1 });
      await store.deploy({ name: "p" + Deno.pid, code: "", hash: "h", filename: "p.ts",
        source_path: null, schedule: null, metadata: {} });
      await store.close();`;
    const children = Array.from(
      { length: 4 },
      () => new Deno.Command(Deno.execPath(), { args: ["eval", code], stderr: "piped" }).output(),
    );
    for (const out of await Promise.all(children)) {
      assertEquals(out.code, 0, new TextDecoder().decode(out.stderr));
    }
    const [row] = await target.query("SELECT count(*)::int AS n FROM schema_migrations");
    assertEquals(row?.n, MIGRATIONS.length);
    const [pipelines] = await target.query("SELECT count(*)::int AS n FROM pipelines");
    assertEquals(pipelines?.n, 4);
  } finally {
    await target.cleanup();
  }
});

pgTest("two stores recording the same tick at once create exactly one run", async () => {
  await withStores(2, async ([a, b]) => {
    if (!a || !b) throw new Error("two stores expected");
    await a.deploy(deployInput());
    await a.setSchedule("orders", { cron: null, every_s: 60, timezone: null }, new Date(0));
    const instants = Array.from(
      { length: 20 },
      (_, i) => new Date(Date.UTC(2026, 0, 1, 0, i + 1)).toISOString(),
    );
    for (const at of instants) {
      const tick = (who: string) => ({
        pipeline: "orders",
        scheduled_at: at,
        outcome: "run" as const,
        run: newRun(`${who}_${at}`, { trigger: "schedule", scheduled_at: at }),
      });
      const results = await Promise.all([a.recordTick(tick("a")), b.recordTick(tick("b"))]);
      assertEquals(results.filter((r) => r.recorded).length, 1, at);
      assertEquals(results.filter((r) => r.run_id !== null).length, 1, at);
    }
    const runs = await a.listRuns("orders", { limit: 100 });
    assertEquals(runs.length, instants.length);
    assertEquals(new Set(runs.map((r) => r.scheduled_at)).size, instants.length);
    const ticks = await b.listTicks("orders", { limit: 100 });
    assertEquals(ticks.map((t) => t.run_id).sort(), runs.map((r) => r.run_id).sort());
    assertEquals((await a.getSchedule("orders"))?.last_tick, instants.at(-1));
  });
});

pgTest("two stores creating one dependency run at once create exactly one", async () => {
  await withStores(2, async ([a, b]) => {
    if (!a || !b) throw new Error("two stores expected");
    await a.deploy(deployInput({ name: "down" }));
    for (let i = 0; i < 20; i++) {
      const run = (who: string) =>
        newRun(`${who}_${i}`, { pipeline: "down", trigger: "dependency", logical_run: `run:${i}` });
      const results = await Promise.all([
        a.createDependencyRun(run("a")),
        b.createDependencyRun(run("b")),
      ]);
      assertEquals(results.filter((r) => r !== null).length, 1, `logical run ${i}`);
      assertEquals((await b.listLogicalRun(`run:${i}`)).length, 1);
    }
  });
});

pgTest("concurrent deploys of one pipeline get consecutive versions", async () => {
  await withStores(3, async (stores) => {
    await Promise.all(
      stores.flatMap((store, s) =>
        Array.from(
          { length: 4 },
          (_, i) => store.deploy(deployInput({ hash: `h${s}_${i}`, code: `export default ${i};` })),
        )
      ),
    );
    const pipeline = await stores[0]?.getPipeline("orders");
    assertEquals(pipeline?.current_version, 12);
    for (let v = 1; v <= 12; v++) assert(await stores[1]?.getVersion("orders", v), `v${v}`);
  });
});

pgTest("concurrent dependency replacements leave one of them whole", async () => {
  await withStores(2, async ([a, b]) => {
    if (!a || !b) throw new Error("two stores expected");
    for (const name of ["orders", "x", "y", "z"]) await a.deploy(deployInput({ name }));
    for (let i = 0; i < 10; i++) {
      await Promise.all([
        a.setDependencies("orders", ["x", "y"]),
        b.setDependencies("orders", ["y", "z"]),
      ]);
      const upstreams = (await a.listDependencies()).map((e) => e.upstream);
      assert(
        ["x,y", "y,z"].includes(upstreams.join(",")),
        `got ${upstreams.join(",")}`,
      );
    }
  });
});

pgTest("a small pool serves many concurrent calls", async () => {
  const target = await pgTarget();
  const store = await openStore({ url: target.url, max: 2 });
  try {
    await store.deploy(deployInput());
    await Promise.all(
      Array.from({ length: 50 }, (_, i) => store.createRun(newRun(`run_${String(i).padStart(2)}`))),
    );
    const counts = await Promise.all(Array.from({ length: 50 }, () => store.stats()));
    assert(counts.every((s) => s.runs.queued === 50));
  } finally {
    await store.close();
    await target.cleanup();
  }
});

pgTest("log text PostgreSQL cannot hold (NUL, lone surrogates) becomes U+FFFD", async () => {
  await withStores(1, async ([store]) => {
    if (!store) throw new Error("a store expected");
    await store.deploy(deployInput());
    await store.createRun(newRun("run_1"));
    await store.appendLogs([
      { ...log("run_1", 0), message: "a\0b", step: "s\0" },
      { ...log("run_1", 1), message: "lone \ud800 surrogate" },
    ]);
    const logs = await store.listLogs("run_1");
    assertEquals(logs.map((l) => [l.message, l.step]), [
      ["a\uFFFDb", "s\uFFFD"],
      ["lone \uFFFD surrogate", null],
    ]);
    // In JSON columns they are escapes, kept as they are.
    const run = await store.updateRun("run_1", { result: { text: "a\0b" } });
    assertEquals(run?.result, { text: "a\0b" });
  });
});

pgTest("openStore: kind, and URLs it cannot use", async () => {
  const target = await pgTarget();
  try {
    const store = await target.open();
    assertEquals(store.kind, "postgres");
    await store.close();
  } finally {
    await target.cleanup();
  }
  for (const url of ["mysql://u@h/db", "sqlite:///tmp/tau.db", "not a url", ""]) {
    await assert.rejects(
      openStore({ url }),
      (err: Error & { code?: string; hint?: string }) =>
        err.code === "invalid_config" && /postgres:\/\//.test(err.hint ?? ""),
      url,
    );
  }
  // Nothing listens on port 1: the error names the store but never the password.
  await assert.rejects(
    openStore({ url: "postgresql://tau:s3cret@127.0.0.1:1/tau" }),
    (err: Error & { code?: string; hint?: string }) =>
      err.code === "internal" && /PostgreSQL store at postgresql:\/\/tau:\*\*\*@127\.0\.0\.1:1/
        .test(err.message) &&
      !err.message.includes("s3cret") && /TAU_DATABASE_URL/.test(
        err.hint ?? "",
      ),
  );
});
