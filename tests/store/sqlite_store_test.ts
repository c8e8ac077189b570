import { assertEquals } from "../helpers/assert.ts";
import { DatabaseSync } from "node:sqlite";
import { openStore } from "../../src/store/mod.ts";
import { storeContract, type StoreTarget, withStore } from "./store_contract.ts";
import { queueContract } from "./queue_contract.ts";
import { versionsContract } from "./versions_contract.ts";
import { webhooksContract } from "./webhooks_contract.ts";
import { triggersContract } from "./triggers_contract.ts";
import { lineageContract } from "./lineage_contract.ts";
import { backfillsContract } from "./backfills_contract.ts";
import { MIGRATIONS } from "../../src/store/sqlite/migrations.ts";

async function tempDbPath(): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "tau_store_test_" });
  return `${dir}/tau.db`;
}

function removeDb(path: string): Promise<void> {
  return Deno.remove(path.slice(0, path.lastIndexOf("/")), { recursive: true });
}

/** A temp file; raw queries go through a connection of their own, closed at once. */
async function sqliteTarget(): Promise<StoreTarget & { path: string }> {
  const path = await tempDbPath();
  return {
    path,
    open: () => openStore({ path }),
    query(sql: string) {
      const db = new DatabaseSync(path);
      try {
        return Promise.resolve(db.prepare(sql).all().map((row) => ({ ...row })));
      } finally {
        db.close();
      }
    },
    cleanup: () => removeDb(path),
  };
}

const engine = { name: "sqlite", target: sqliteTarget, migrations: MIGRATIONS } as const;

storeContract(engine);
queueContract(engine);
versionsContract(engine);
webhooksContract(engine);
triggersContract(engine);
lineageContract(engine);
backfillsContract(engine);

// --- SQLite only ---

Deno.test("sqlite: the database is in WAL mode", async () => {
  await withStore(engine, async (_store, db) => {
    assertEquals(await db.query("PRAGMA journal_mode"), [{ journal_mode: "wal" }]);
  });
});

Deno.test("sqlite: several processes migrating one file at once all succeed", async () => {
  const path = await tempDbPath();
  const mod = new URL("../../src/store/mod.ts", import.meta.url).href;
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

Deno.test("sqlite: openStore creates the file's directory", async () => {
  const dir = await Deno.makeTempDir({ prefix: "tau_store_test_" });
  try {
    const store = await openStore({ path: `${dir}/a/b/tau.db` });
    assertEquals(store.kind, "sqlite");
    await store.close();
    assertEquals((await Deno.stat(`${dir}/a/b/tau.db`)).isFile, true);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("sqlite: upgrading a version-1 database keeps its schedules and dependencies", async () => {
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

Deno.test("sqlite: upgrading to version 5 marks every existing version as deployed and promoted", async () => {
  const path = await tempDbPath();
  try {
    const db = new DatabaseSync(path);
    for (const migration of MIGRATIONS.filter((m) => m.version < 5)) {
      db.exec(migration.sql);
      db.prepare("INSERT INTO schema_migrations VALUES (?, ?, '2026-01-01')")
        .run(migration.version, migration.name);
    }
    db.exec(`INSERT INTO pipelines VALUES ('p', 2, NULL, NULL, '{}', '2026-01-01', '2026-01-02');
      INSERT INTO pipeline_versions VALUES ('p', 1, 'h1', 'p.ts', 'a', '{}', '2026-01-01');
      INSERT INTO pipeline_versions VALUES ('p', 2, 'h2', 'p.ts', 'b', '{}', '2026-01-02');`);
    db.close();
    const store = await openStore({ path });
    try {
      assertEquals(
        (await store.listVersions("p")).map((v) => [v.version, v.source, v.parent, v.promoted_at]),
        [[1, "deploy", null, "2026-01-01"], [2, "deploy", 1, "2026-01-02"]],
      );
    } finally {
      await store.close();
    }
  } finally {
    await removeDb(path);
  }
});
