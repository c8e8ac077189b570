import { assertEquals } from "../../tests/helpers/assert.ts";
import { statementTables } from "./sql_tables.ts";

/** Reads and writes as dotted names, in order. */
function tables(sql: string): { reads: string[]; writes: string[] } {
  const { reads, writes } = statementTables(sql);
  const dotted = (n: { parts: string[] }) => n.parts.join(".");
  return { reads: reads.map(dotted), writes: writes.map(dotted) };
}

const CASES: [string, string, string[], string[]][] = [
  ["a plain select", "SELECT * FROM raw_orders", ["raw_orders"], []],
  ["schema-qualified and quoted", 'SELECT 1 FROM "Raw"."Orders" o', ["Raw.Orders"], []],
  ["joins", "SELECT * FROM a JOIN s.b ON a.id = b.id LEFT OUTER JOIN c USING (id)", [
    "a",
    "s.b",
    "c",
  ], []],
  ["a comma list with aliases", "SELECT * FROM a AS x, b y, c WHERE 1=1", ["a", "b", "c"], []],
  [
    "a CTE is not a table",
    "WITH recent AS (SELECT * FROM orders WHERE d > 1), t2 (x) AS (SELECT 1) " +
    "SELECT * FROM recent JOIN t2 ON true",
    ["orders"],
    [],
  ],
  ["a subquery", "SELECT * FROM (SELECT id FROM inner_t) s JOIN (FROM other) o ON true", [
    "inner_t",
    "other",
  ], []],
  [
    "table functions and files are not tables",
    "SELECT * FROM read_csv('x.csv') JOIN 'y.parquet' ON true, duckdb_tables()",
    [],
    [],
  ],
  [
    "FROM inside functions and IS DISTINCT FROM",
    "SELECT extract(year FROM ts), trim(both ' ' FROM s), a IS DISTINCT FROM b FROM t",
    ["t"],
    [],
  ],
  ["strings and comments hide keywords", "SELECT 'FROM x' -- FROM y\n /* JOIN z */ FROM t", [
    "t",
  ], []],
  ["insert select", "INSERT INTO dst (a, b) SELECT a, b FROM src", ["src"], ["dst"]],
  ["create table as", 'CREATE OR REPLACE TABLE "main".summary AS SELECT * FROM raw_orders', [
    "raw_orders",
  ], ["main.summary"]],
  ["create with columns", "CREATE TABLE IF NOT EXISTS s.t (id INTEGER)", [], ["s.t"]],
  [
    "a temp table is not kept",
    "CREATE TEMP TABLE stage AS SELECT * FROM src; " +
    "INSERT INTO dst SELECT * FROM stage",
    ["src"],
    ["dst"],
  ],
  ["update from", "UPDATE t SET a = s.a FROM s WHERE t.id = s.id", ["s"], ["t"]],
  ["delete", "DELETE FROM t USING s WHERE t.id = s.id", ["s"], ["t"]],
  [
    "merge",
    "MERGE INTO t USING (SELECT * FROM s) AS src ON t.id = src.id " +
    "WHEN MATCHED THEN UPDATE SET a = src.a WHEN NOT MATCHED THEN INSERT VALUES (src.id)",
    ["s"],
    ["t"],
  ],
  ["upsert", "INSERT INTO t SELECT * FROM s ON CONFLICT (id) DO UPDATE SET a = excluded.a", [
    "s",
  ], ["t"]],
  ["rename keeps the schema", "ALTER TABLE a.t__new RENAME TO t", [], ["a.t"]],
  ["truncate", "TRUNCATE TABLE x", [], ["x"]],
  ["duckdb FROM-first", "FROM orders SELECT count(*)", ["orders"], []],
  ["a lock clause is not a write", "SELECT * FROM t FOR UPDATE", ["t"], []],
  ["dollar quotes", "SELECT $q$ FROM nope $q$ FROM t WHERE x = $1", ["t"], []],
];

for (const [name, sql, reads, writes] of CASES) {
  Deno.test(`sql tables: ${name}`, () => {
    assertEquals(tables(sql), { reads, writes });
  });
}

Deno.test("sql tables: quoted parts are marked", () => {
  const { reads } = statementTables('SELECT * FROM "Main".orders');
  assertEquals(reads, [{ parts: ["Main", "orders"], quoted: [true, false] }]);
});
