import { assert, assertEquals, assertMatch } from "../../tests/helpers/assert.ts";
import { MaterializationError, parseConfig } from "./config.ts";
import { materialize } from "./engine.ts";
import { join, raw, render, sql } from "./sql.ts";
import type { Connector } from "../connectors/types.ts";

const base = { targetTable: "analytics.orders", sourceQuery: "SELECT * FROM raw.orders" };

function problem(input: unknown): string {
  try {
    parseConfig(input);
  } catch (err) {
    assert(err instanceof MaterializationError);
    return err.message;
  }
  throw new Error("expected the config to be refused");
}

Deno.test("configs get their defaults and keys as a list", () => {
  const config = parseConfig({ strategy: "incremental", ...base, uniqueKey: "id" });
  assertEquals(config.keys, ["id"]);
  assert(config.strategy === "incremental");
  assertEquals(config.incrementalStrategy, "merge");
  assertEquals(config.onSchemaChange, "append_new_columns");
  const scd2 = parseConfig({
    strategy: "scd_type_2",
    ...base,
    uniqueKey: ["a", "b"],
    trackedColumns: ["c"],
  });
  assert(scd2.strategy === "scd_type_2");
  assertEquals([scd2.validFromColumn, scd2.validToColumn, scd2.isCurrentColumn, scd2.hashColumn], [
    "valid_from",
    "valid_to",
    "is_current",
    "row_hash",
  ]);
  assertEquals(scd2.keys, ["a", "b"]);
});

Deno.test("bad configs are refused with every problem named", () => {
  assertMatch(
    problem({ strategy: "incremental", ...base }),
    /uniqueKey: incrementalStrategy "merge" needs uniqueKey/,
  );
  assertMatch(
    problem({ strategy: "full_refresh", ...base, uniqueKey: "id" }),
    /Unrecognized key.*uniqueKey/,
  );
  assertMatch(problem({ strategy: "snapshots", ...base }), /strategy/);
  assertMatch(
    problem({ strategy: "view", targetTable: "a..b", sourceQuery: "" }),
    /targetTable.*sourceQuery|sourceQuery/,
  );
  assertMatch(
    problem({
      strategy: "incremental",
      ...base,
      incrementalStrategy: "insert_overwrite",
      incrementalColumn: "t",
    }),
    /insert_overwrite replaces the whole table/,
  );
  assertMatch(
    problem({ strategy: "scd_type_1", ...base, uniqueKey: "id", trackedColumns: [] }),
    /trackedColumns/,
  );
  assertMatch(problem({ strategy: "snapshot", ...base, retainSnapshots: 0 }), /retainSnapshots/);
  assertMatch(
    problem({ strategy: "partitioned", ...base, partitionBy: "d", partitionGranularity: "week" }),
    /partitionGranularity/,
  );
});

Deno.test("materialize refuses connectors that do not speak SQL", async () => {
  const api = { name: "api", type: "http_api", dialect: null } as unknown as Connector;
  const error = await materialize({ strategy: "view", ...base }, { connection: api }).then(
    () => null,
    (err: Error) => err,
  );
  assertMatch(String(error?.message), /Connection api \(http_api\) does not speak SQL/);
});

Deno.test("sql keeps values out of the text and numbers placeholders in order", () => {
  const inner = sql`b = ${2}`;
  const statement = render(
    sql`SELECT ${raw('"x"')} FROM t WHERE a = ${"it's"} AND ${inner} AND ${
      join([sql`${3}`, sql`${4}`])
    }`,
    (i) => `$${i}`,
  );
  assertEquals(statement, {
    sql: 'SELECT "x" FROM t WHERE a = $1 AND b = $2 AND $3, $4',
    params: ["it's", 2, 3, 4],
  });
});
