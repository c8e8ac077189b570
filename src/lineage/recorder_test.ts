import { assert, assertEquals } from "../../tests/helpers/assert.ts";
import { LineageRecorder, MAX_ENTRIES } from "./recorder.ts";
import { mermaid } from "./mermaid.ts";

const rows = (r: LineageRecorder) =>
  r.entries().map((e) => `${e.direction} ${e.connection}.${e.schema_name}.${e.table_name}`);

Deno.test("recorder: loads write their target, statements their SQL's tables", () => {
  const r = new LineageRecorder();
  r.observe("duckdb.load_begin", { connection: "wh", table: "Raw.Orders", columns: [] }, "load");
  r.observe("duckdb.execute", {
    connection: "wh",
    sql: 'CREATE OR REPLACE TABLE "Summary" AS SELECT * FROM raw.orders JOIN dims d ON true',
  }, "build");
  assertEquals(rows(r), [
    "write wh.raw.orders",
    "write wh.main.summary",
    "read wh.raw.orders",
    "read wh.main.dims",
  ]);
  assertEquals(r.entries()[0]!.step, "load");
  assertEquals(r.entries()[1]!.step, "build");
});

Deno.test("recorder: Tau's scaffolding, catalogs, inline databases and cursors are not lineage", () => {
  const r = new LineageRecorder();
  const wh = (sql: string) => r.observe("duckdb.execute", { connection: "wh", sql }, null);
  wh("CREATE TABLE main.summary__tau_stage_ab12 AS SELECT 1");
  wh("CREATE TABLE summary__tau_new AS SELECT * FROM src");
  wh("ALTER TABLE summary__tau_new RENAME TO summary");
  wh("SELECT * FROM information_schema.tables");
  wh("SELECT 'table' AS kind FROM duckdb_tables() WHERE schema_name = 'main'");
  r.observe("duckdb.query", { inline_path: "x.db", connection: "", sql: "SELECT * FROM t" }, null);
  r.observe("duckdb.cursor_next", { connection: "wh", cursor: 1 }, null);
  assertEquals(rows(r), ["read wh.main.src", "write wh.main.summary"]);
});

Deno.test("recorder: a run's tables are bounded, and said to be", () => {
  const r = new LineageRecorder();
  for (let i = 0; i < MAX_ENTRIES + 10; i++) {
    r.observe("duckdb.query", { connection: "wh", sql: `SELECT * FROM t${i}` }, null);
  }
  assertEquals(r.entries().length, MAX_ENTRIES);
  assert(r.truncated);
  r.observe("duckdb.query", { connection: "wh", sql: `SELECT * FROM ${"x".repeat(300)}` }, null);
  assertEquals(r.entries().length, MAX_ENTRIES);
});

Deno.test("mermaid: boxes for pipelines, cylinders for tables, labels escaped", () => {
  const text = mermaid([
    { pipeline: "b", table: "wh.main.raw", direction: "read" },
    { pipeline: "a", table: "wh.main.raw", direction: "write" },
    { pipeline: "a", table: 'wh.main."x"]', direction: "write" },
  ]);
  assertEquals(
    text,
    [
      "flowchart LR",
      '  p_a["a"]',
      '  t_wh_main__x__[("wh.main.#34;x#34;#93;")]',
      '  t_wh_main_raw[("wh.main.raw")]',
      '  p_b["b"]',
      "  p_a --> t_wh_main__x__",
      "  p_a --> t_wh_main_raw",
      "  t_wh_main_raw --> p_b",
    ].join("\n"),
  );
});
