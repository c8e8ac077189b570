/**
 * incremental, append_only and full_refresh on PostgreSQL, MariaDB and DuckDB: a before table,
 * a source, and the exact after table.
 */
import { assert, assertEquals, assertMatch } from "../helpers/assert.ts";
import { type Engine, engineTest } from "./engines.ts";

async function orders(e: Engine) {
  await e.exec("CREATE TABLE {s}.orders (id INT, name VARCHAR(20), amount INT, updated_at INT)");
  await e.exec("INSERT INTO {s}.orders VALUES (1, 'a', 10, 1), (2, 'b', 20, 1)");
  await e.exec("CREATE TABLE {s}.src (id INT, name VARCHAR(20), amount INT, updated_at INT)");
  await e.exec("INSERT INTO {s}.src VALUES (2, 'B', 25, 2), (3, 'c', 30, 2)");
}

const table = (e: Engine, name = "orders", order = "id") =>
  e.rows(`SELECT * FROM {s}.${name} ORDER BY ${order}`);

engineTest("incremental merge updates a changed key and inserts a new one", async (e) => {
  await orders(e);
  const result = await e.materialize({
    strategy: "incremental",
    targetTable: "{s}.orders",
    sourceQuery: "SELECT * FROM {s}.src",
    uniqueKey: "id",
  });
  assertEquals(await table(e), [
    { id: 1, name: "a", amount: 10, updated_at: 1 },
    { id: 2, name: "B", amount: 25, updated_at: 2 },
    { id: 3, name: "c", amount: 30, updated_at: 2 },
  ]);
  assertEquals(
    [result.first_run, result.rows_inserted, result.rows_updated, result.rows_deleted],
    [false, 1, 1, 0],
  );
  assert(result.statements.length > 3);
});

engineTest("incremental merge with mergeUpdateColumns leaves other columns alone", async (e) => {
  await orders(e);
  await e.materialize({
    strategy: "incremental",
    targetTable: "{s}.orders",
    sourceQuery: "SELECT * FROM {s}.src",
    uniqueKey: "id",
    mergeUpdateColumns: ["amount"],
  });
  assertEquals(await table(e), [
    { id: 1, name: "a", amount: 10, updated_at: 1 },
    { id: 2, name: "b", amount: 25, updated_at: 1 },
    { id: 3, name: "c", amount: 30, updated_at: 2 },
  ]);
});

engineTest("incremental delete+insert replaces matched rows whole", async (e) => {
  await orders(e);
  await e.exec("INSERT INTO {s}.orders VALUES (2, 'b-dup', 21, 1)"); // the target may hold dups
  const result = await e.materialize({
    strategy: "incremental",
    targetTable: "{s}.orders",
    sourceQuery: "SELECT * FROM {s}.src",
    uniqueKey: "id",
    incrementalStrategy: "delete+insert",
  });
  assertEquals(await table(e), [
    { id: 1, name: "a", amount: 10, updated_at: 1 },
    { id: 2, name: "B", amount: 25, updated_at: 2 },
    { id: 3, name: "c", amount: 30, updated_at: 2 },
  ]);
  assertEquals([result.rows_inserted, result.rows_updated, result.rows_deleted], [2, 0, 2]);
});

engineTest("incremental merge on a composite key", async (e) => {
  await e.exec("CREATE TABLE {s}.sales (region VARCHAR(5), id INT, total INT)");
  await e.exec("INSERT INTO {s}.sales VALUES ('eu', 1, 10), ('us', 1, 20)");
  await e.exec("CREATE TABLE {s}.src (region VARCHAR(5), id INT, total INT)");
  await e.exec("INSERT INTO {s}.src VALUES ('us', 1, 21), ('us', 2, 5)");
  const result = await e.materialize({
    strategy: "incremental",
    targetTable: "{s}.sales",
    sourceQuery: "SELECT * FROM {s}.src",
    uniqueKey: ["region", "id"],
  });
  assertEquals(await table(e, "sales", "region, id"), [
    { region: "eu", id: 1, total: 10 },
    { region: "us", id: 1, total: 21 },
    { region: "us", id: 2, total: 5 },
  ]);
  assertEquals([result.rows_inserted, result.rows_updated], [1, 1]);
});

engineTest(
  "a source with duplicate keys is refused, naming them, and nothing changes",
  async (e) => {
    await orders(e);
    await e.exec("INSERT INTO {s}.src VALUES (3, 'c2', 31, 2), (2, 'B2', 26, 2)");
    for (const incrementalStrategy of ["merge", "delete+insert"] as const) {
      const error = await e.materialize({
        strategy: "incremental",
        targetTable: "{s}.orders",
        sourceQuery: "SELECT * FROM {s}.src",
        uniqueKey: "id",
        incrementalStrategy,
      }).then(() => null, (err: Error) => err);
      assert(error, "a duplicated key must fail");
      assertMatch(
        error.message,
        /more than one row per uniqueKey \(id\): id=2 \(2 rows\); id=3 \(2 rows\)/,
      );
    }
    assertEquals((await table(e)).map((r) => r.name), ["a", "b"]);
  },
);

engineTest("NULL keys are refused: they could never be matched again", async (e) => {
  await orders(e);
  await e.exec("INSERT INTO {s}.src VALUES (NULL, 'x', 1, 2)");
  const error = await e.materialize({
    strategy: "incremental",
    targetTable: "{s}.orders",
    sourceQuery: "SELECT * FROM {s}.src",
    uniqueKey: "id",
  }).then(() => null, (err: Error) => err);
  assertMatch(String(error?.message), /1 source row\(s\) have a NULL in uniqueKey \(id\)/);
  assertEquals((await table(e)).length, 2);
});

engineTest("incremental reads only rows past the high-water mark, across three runs", async (e) => {
  await e.exec("CREATE TABLE {s}.events (id INT, v VARCHAR(5), updated_at INT)");
  const run = () =>
    e.materialize({
      strategy: "incremental",
      targetTable: "{s}.copy",
      sourceQuery: "SELECT * FROM {s}.events",
      uniqueKey: "id",
      incrementalColumn: "updated_at",
    });
  await e.exec("INSERT INTO {s}.events VALUES (1, 'a', 100), (2, 'b', 100)");
  const first = await run();
  assertEquals([first.first_run, first.rows_inserted], [true, 2]);
  // A row updated in place but not moved past the mark is not read again (documented).
  await e.exec("UPDATE {s}.events SET v = 'A' WHERE id = 1");
  await e.exec("INSERT INTO {s}.events VALUES (3, 'c', 101)");
  const second = await run();
  assertEquals([second.first_run, second.rows_inserted, second.rows_updated], [false, 1, 0]);
  await e.exec("UPDATE {s}.events SET v = 'bb', updated_at = 102 WHERE id = 2");
  const third = await run();
  assertEquals([third.rows_inserted, third.rows_updated], [0, 1]);
  assertEquals(await table(e, "copy"), [
    { id: 1, v: "a", updated_at: 100 },
    { id: 2, v: "bb", updated_at: 102 },
    { id: 3, v: "c", updated_at: 101 },
  ]);
  const mark = third.statements.find((s) => /updated_at.? > (\(SELECT max\(|@tau_hwm)/.test(s));
  assert(mark, "the source filter compares with the mark in SQL");
  // The schema's random name may itself hold "101"; only the rest of the statement counts.
  assert(!mark.replaceAll(e.schema, "").includes("101"), "the mark is never pasted into the SQL");
});

engineTest("insert_overwrite replaces the whole table; append only inserts", async (e) => {
  await orders(e);
  const overwrite = await e.materialize({
    strategy: "incremental",
    targetTable: "{s}.orders",
    sourceQuery: "SELECT * FROM {s}.src",
    incrementalStrategy: "insert_overwrite",
  });
  assertEquals((await table(e)).map((r) => r.id), [2, 3]);
  assertEquals([overwrite.rows_inserted, overwrite.rows_deleted], [2, 2]);
  const append = await e.materialize({
    strategy: "append_only",
    targetTable: "{s}.orders",
    sourceQuery: "SELECT * FROM {s}.src",
  });
  assertEquals((await table(e)).map((r) => r.id), [2, 2, 3, 3]);
  assertEquals(append.rows_inserted, 2);
});

engineTest("full_refresh swaps in the new table and runs its hooks", async (e) => {
  await orders(e);
  const first = await e.materialize({
    strategy: "full_refresh",
    targetTable: "{s}.products",
    sourceQuery: "SELECT id, name FROM {s}.orders",
  });
  assertEquals([first.first_run, first.rows_inserted], [true, 2]);
  const second = await e.materialize({
    strategy: "full_refresh",
    targetTable: "{s}.products",
    sourceQuery: "SELECT id, name FROM {s}.src",
    postHook: "DELETE FROM {s}.products WHERE id = 3",
  });
  assertEquals(await table(e, "products"), [{ id: 2, name: "B" }]);
  assertEquals([second.first_run, second.rows_inserted, second.rows_deleted], [false, 1, 2]);
});

engineTest("a full_refresh that fails half-way leaves the old table intact", async (e) => {
  await orders(e);
  await e.materialize({
    strategy: "full_refresh",
    targetTable: "{s}.products",
    sourceQuery: "SELECT id, name FROM {s}.orders",
  });
  // A scalar subquery that returns two rows for id 2 fails while the new table is being built.
  await e.exec("INSERT INTO {s}.src VALUES (2, 'again', 0, 3)");
  const error = await e.materialize({
    strategy: "full_refresh",
    targetTable: "{s}.products",
    sourceQuery:
      "SELECT o.id, (SELECT s.name FROM {s}.src s WHERE s.id = o.id) AS name FROM {s}.orders o",
  }).then(() => null, (err: Error) => err);
  assert(error, "the source query must fail");
  assertEquals(await table(e, "products"), [{ id: 1, name: "a" }, { id: 2, name: "b" }]);
  // Only this test's schema: other suites may be using the same servers meanwhile.
  const leftovers = await e.rows(
    e.name === "duckdb"
      ? "SELECT table_name FROM duckdb_tables() WHERE schema_name = '{s}' AND table_name LIKE '%tau%'"
      : "SELECT table_name FROM information_schema.tables WHERE table_schema = '{s}' AND table_name LIKE '%tau%'",
  );
  assertEquals(leftovers, []);
});
