/**
 * The incremental high-water mark keeps the source's precision on PostgreSQL, MariaDB and DuckDB:
 * an unchanged source with microsecond timestamps (or integer marks past 2^53) reads nothing on
 * the next run, and one row just past the mark is read exactly once.
 */
import { assertEquals } from "../helpers/assert.ts";
import { type Engine, engineTest } from "./engines.ts";

/** Runs the incremental model on {s}.events with `column` as the mark; returns what changed. */
async function run(e: Engine, column: string) {
  const result = await e.materialize({
    strategy: "incremental",
    targetTable: "{s}.copy",
    sourceQuery: "SELECT * FROM {s}.events",
    uniqueKey: "id",
    incrementalColumn: column,
  });
  return [result.first_run, result.rows_inserted, result.rows_updated];
}

engineTest("a microsecond timestamp mark reads nothing from an unchanged source", async (e) => {
  await e.exec("CREATE TABLE {s}.events (id INT, v VARCHAR(5), updated_at {ts})");
  await e.exec(
    "INSERT INTO {s}.events VALUES (1, 'a', '2026-01-01 10:00:00.123455'), " +
      "(2, 'b', '2026-01-01 10:00:00.123456')",
  );
  assertEquals(await run(e, "updated_at"), [true, 2, 0]);
  assertEquals(await run(e, "updated_at"), [false, 0, 0], "an unchanged source reads nothing");
  assertEquals(await run(e, "updated_at"), [false, 0, 0], "nor on the run after");
  // 1 µs past the mark: a JavaScript Date could not tell it from the mark.
  await e.exec("INSERT INTO {s}.events VALUES (3, 'c', '2026-01-01 10:00:00.123457')");
  assertEquals(await run(e, "updated_at"), [false, 1, 0]);
  await e.exec(
    "UPDATE {s}.events SET v = 'bb', updated_at = '2026-01-01 10:00:00.123458' " +
      "WHERE id = 2",
  );
  assertEquals(await run(e, "updated_at"), [false, 0, 1]);
  assertEquals(await run(e, "updated_at"), [false, 0, 0]);
  assertEquals(await e.rows("SELECT id, v FROM {s}.copy ORDER BY id"), [
    { id: 1, v: "a" },
    { id: 2, v: "bb" },
    { id: 3, v: "c" },
  ]);
});

engineTest("a BIGINT mark past 2^53 is not rounded", async (e) => {
  await e.exec("CREATE TABLE {s}.events (id INT, v VARCHAR(5), seq BIGINT)");
  // 2^53 + 1 and 2^53 + 3 are not doubles: as JavaScript numbers they round to a neighbour.
  await e.exec(
    "INSERT INTO {s}.events VALUES (1, 'a', 9007199254740992), (2, 'b', 9007199254740993)",
  );
  assertEquals(await run(e, "seq"), [true, 2, 0]);
  assertEquals(await run(e, "seq"), [false, 0, 0], "an unchanged source reads nothing");
  await e.exec("INSERT INTO {s}.events VALUES (3, 'c', 9007199254740994)");
  assertEquals(await run(e, "seq"), [false, 1, 0]);
  await e.exec("UPDATE {s}.events SET v = 'bb', seq = 9007199254740995 WHERE id = 2");
  assertEquals(await run(e, "seq"), [false, 0, 1]);
  assertEquals(await run(e, "seq"), [false, 0, 0]);
});

engineTest("a target whose marks are all NULL reads the whole source", async (e) => {
  await e.exec("CREATE TABLE {s}.events (id INT, v VARCHAR(5), seq BIGINT)");
  await e.exec("INSERT INTO {s}.events VALUES (1, 'a', NULL)");
  assertEquals(await run(e, "seq"), [true, 1, 0]);
  await e.exec("INSERT INTO {s}.events VALUES (2, 'b', 5)");
  assertEquals(await run(e, "seq"), [false, 1, 1], "no mark yet: every source row is read");
  assertEquals(await run(e, "seq"), [false, 0, 0]);
});
