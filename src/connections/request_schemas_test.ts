import { assert, assertEquals } from "../../tests/helpers/assert.ts";
import { parseRequest, REQUEST_OPS } from "./request_schemas.ts";

Deno.test("request schemas: the duckdb ops, each validated and split into target and arguments", () => {
  assertEquals([...REQUEST_OPS].sort(), [
    "duckdb.cursor_next",
    "duckdb.cursor_open",
    "duckdb.execute",
    "duckdb.load_abort",
    "duckdb.load_begin",
    "duckdb.load_commit",
    "duckdb.load_file",
    "duckdb.query",
  ]);
  assertEquals(
    parseRequest("duckdb.query", { connection: "lake", sql: "SELECT 1", params: [1], extra: 1 }),
    {
      op: "duckdb.query",
      target: { connection: "lake" },
      args: { sql: "SELECT 1", params: [1] },
    },
  );
  assertEquals(
    parseRequest("duckdb.cursor_next", { connection: "duckdb", inline_path: "a.db", cursor: 2 })
      .target,
    { connection: "duckdb", inline_path: "a.db" },
  );
});

Deno.test("request schemas: refusals name the op and the field", () => {
  const refused: [string, Record<string, unknown>, RegExp][] = [
    ["duckdb.drop_everything", {}, /^Unknown request duckdb.drop_everything$/],
    ["toString", {}, /^Unknown request toString$/],
    ["duckdb.query", { sql: 1 }, /^Invalid request duckdb.query: sql: expected string$/],
    ["duckdb.query", { sql: "x".repeat(1_000_001) }, /^Invalid request duckdb.query: sql: /],
    ["duckdb.query", { sql: "", connection: "x".repeat(65) }, /: connection: /],
    ["duckdb.cursor_next", { cursor: 1, batchSize: 0 }, /: batchSize: /],
    ["duckdb.cursor_next", { cursor: "1" }, /: cursor: expected number$/],
    ["duckdb.load_file", { load: 1, file: "../x.json" }, /: file: expected a staged load/],
    ["duckdb.load_file", { load: 1, file: "1_1.json/../../x" }, /: file: expected a staged/],
    ["duckdb.load_begin", { table: "t", mode: "merge" }, /: mode: /],
    ["duckdb.load_begin", { table: "t", mergeKey: [""] }, /: mergeKey/],
  ];
  for (const [op, payload, message] of refused) {
    let error: Error | undefined;
    try {
      parseRequest(op, payload);
    } catch (err) {
      error = err as Error;
    }
    assert(error && message.test(error.message), `${op}: ${error?.message}`);
  }
});
