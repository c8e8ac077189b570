/**
 * partitioned, view, onSchemaChange and concurrent runs on PostgreSQL, MariaDB and DuckDB.
 */
import { materialize } from "../../sdk/materialize/mod.ts";
import type { OnSchemaChange } from "../../sdk/materialize/mod.ts";
import { assert, assertEquals, assertMatch } from "../helpers/assert.ts";
import { engineTest, openEngine } from "./engines.ts";

engineTest("partitioned replaces the source's days and expires old ones", async (e) => {
  await e.exec("CREATE TABLE {s}.raw_events (event_id INT, event_date DATE, kind VARCHAR(10))");
  await e.exec(
    "INSERT INTO {s}.raw_events VALUES (1, '2025-12-20', 'old'), (2, '2025-12-30', 'a'), (3, '2025-12-31', 'b'), (4, '2025-12-31', 'c')",
  );
  const config = {
    strategy: "partitioned" as const,
    targetTable: "{s}.events",
    sourceQuery: "SELECT * FROM {s}.raw_events",
    uniqueKey: "event_id",
    partitionBy: "event_date",
    partitionGranularity: "day" as const,
    partitionExpirationDays: 7,
  };
  const now = new Date("2026-01-01T12:00:00Z"); // keeps 2025-12-25 onwards
  const first = await e.materialize(config, now);
  assertEquals([first.first_run, first.rows_inserted], [true, 3]);
  // The source now re-delivers 2025-12-31 with one row fewer and one changed, plus a new day.
  await e.exec("DELETE FROM {s}.raw_events");
  await e.exec(
    "INSERT INTO {s}.raw_events VALUES (3, '2025-12-31', 'B'), (5, '2026-01-01', 'd')",
  );
  const second = await e.materialize(config, new Date("2026-01-07T12:00:00Z")); // from 12-31
  assertEquals([second.rows_inserted, second.rows_deleted], [2, 3]);
  const rows = await e.rows("SELECT event_id, kind FROM {s}.events ORDER BY event_id");
  assertEquals(rows, [{ event_id: 3, kind: "B" }, { event_id: 5, kind: "d" }]);
});

engineTest("partitioned by month on a timestamp column", async (e) => {
  await e.exec("CREATE TABLE {s}.raw (id INT, seen_at {ts})");
  await e.exec("INSERT INTO {s}.raw VALUES (1, '2026-01-05 10:00:00'), (2, '2026-02-03 10:00:00')");
  const config = {
    strategy: "partitioned" as const,
    targetTable: "{s}.monthly",
    sourceQuery: "SELECT * FROM {s}.raw",
    partitionBy: "seen_at",
    partitionGranularity: "month" as const,
  };
  await e.materialize(config);
  await e.exec("DELETE FROM {s}.raw");
  await e.exec("INSERT INTO {s}.raw VALUES (3, '2026-01-20 10:00:00')");
  const result = await e.materialize(config);
  assertEquals([result.rows_inserted, result.rows_deleted], [1, 1]);
  assertEquals((await e.rows("SELECT id FROM {s}.monthly ORDER BY id")).map((r) => r.id), [2, 3]);
});

engineTest("view is created, redefined with new columns, and never replaces a table", async (e) => {
  await e.exec("CREATE TABLE {s}.users (id INT, active INT, name VARCHAR(10))");
  await e.exec("INSERT INTO {s}.users VALUES (1, 1, 'a'), (2, 0, 'b')");
  const first = await e.materialize({
    strategy: "view",
    targetTable: "{s}.v_active_users",
    sourceQuery: "SELECT id FROM {s}.users WHERE active = 1",
  });
  assertEquals(first.first_run, true);
  await e.materialize({
    strategy: "view",
    targetTable: "{s}.v_active_users",
    sourceQuery: "SELECT id, name FROM {s}.users WHERE active = 1",
  });
  assertEquals(await e.rows("SELECT * FROM {s}.v_active_users"), [{ id: 1, name: "a" }]);
  const error = await e.materialize({
    strategy: "view",
    targetTable: "{s}.users",
    sourceQuery: "SELECT 1 AS x",
  }).then(() => null, (err: Error) => err);
  assertMatch(String(error?.message), /is a table; a view cannot replace it/);
});

const drift: [OnSchemaChange, string[], Record<string, unknown>[]][] = [
  ["append_new_columns", ["id", "a", "b", "c"], [
    { id: 1, a: "a1", b: "b1", c: null },
    { id: 2, a: "a2", b: null, c: "c2" },
  ]],
  ["sync_all_columns", ["id", "a", "c"], [
    { id: 1, a: "a1", c: null },
    { id: 2, a: "a2", c: "c2" },
  ]],
  ["ignore", ["id", "a", "b"], [
    { id: 1, a: "a1", b: "b1" },
    { id: 2, a: "a2", b: null },
  ]],
];

for (const [mode, columns, rows] of drift) {
  engineTest(`onSchemaChange ${mode}: a new column and a dropped column`, async (e) => {
    await e.exec("CREATE TABLE {s}.src (id INT, a VARCHAR(5), b VARCHAR(5))");
    await e.exec("INSERT INTO {s}.src VALUES (1, 'a1', 'b1')");
    const config = {
      strategy: "append_only" as const,
      targetTable: "{s}.log",
      sourceQuery: "SELECT * FROM {s}.src",
      onSchemaChange: mode,
    };
    await e.materialize(config);
    await e.exec("DROP TABLE {s}.src");
    await e.exec("CREATE TABLE {s}.src (id INT, a VARCHAR(5), c VARCHAR(5))");
    await e.exec("INSERT INTO {s}.src VALUES (2, 'a2', 'c2')");
    await e.materialize(config);
    const table = await e.rows("SELECT * FROM {s}.log ORDER BY id");
    assertEquals(Object.keys(table[0] ?? {}), columns);
    assertEquals(table, rows);
  });
}

engineTest("onSchemaChange fail names the drift and changes nothing", async (e) => {
  await e.exec("CREATE TABLE {s}.src (id INT, a VARCHAR(5))");
  await e.exec("INSERT INTO {s}.src VALUES (1, 'a1')");
  const config = {
    strategy: "incremental" as const,
    targetTable: "{s}.t",
    sourceQuery: "SELECT * FROM {s}.src",
    uniqueKey: "id",
    onSchemaChange: "fail" as const,
  };
  await e.materialize(config);
  await e.exec("ALTER TABLE {s}.src ADD COLUMN z INT");
  const error = await e.materialize(config).then(() => null, (err: Error) => err);
  assertMatch(String(error?.message), /columns changed \(new column\(s\) z\)/);
  assertEquals(await e.rows("SELECT * FROM {s}.t"), [{ id: 1, a: "a1" }]);
});

engineTest("two concurrent runs on one target do not interleave", async (e) => {
  await e.exec("CREATE TABLE {s}.src (id INT, v INT)");
  await e.exec("INSERT INTO {s}.src VALUES (1, 1), (2, 2), (3, 3)");
  // A second connector: its own pool, as a second run would have.
  const other = await openEngine(e.name);
  try {
    const config = {
      strategy: "incremental" as const,
      targetTable: `${e.schema}.t`,
      sourceQuery: `SELECT * FROM ${e.schema}.src`,
      uniqueKey: "id",
    };
    const both = e.name === "duckdb"
      // One DuckDB file serves one run at a time; within a run calls are queued.
      ? [
        materialize(config, { connection: e.connector }),
        materialize(config, { connection: e.connector }),
      ]
      : [
        materialize(config, { connection: e.connector }),
        materialize(config, { connection: other.connector }),
      ];
    const results = await Promise.all(both);
    assertEquals(results.map((r) => r.first_run).sort(), [false, true]);
    const second = results.find((r) => !r.first_run);
    assertEquals([second?.rows_inserted, second?.rows_updated], [0, 3]);
    assertEquals((await e.rows("SELECT id FROM {s}.t ORDER BY id")).map((r) => r.id), [1, 2, 3]);
    assert(results.every((r) => r.statements.length > 0));
  } finally {
    await other.close();
  }
});
