/**
 * The extractor against DuckDB's own parser: for SELECT statements, `json_serialize_sql` gives
 * DuckDB's parse tree, whose BASE_TABLE nodes (less the statement's CTE names) are exactly the
 * tables the query reads. Each query's reads must match.
 */
import { DuckDBInstance } from "@duckdb/node-api";
import { assertEquals } from "../../tests/helpers/assert.ts";
import { statementTables } from "./sql_tables.ts";

const QUERIES = [
  "SELECT * FROM raw_orders",
  'SELECT o.id FROM "Main"."Orders" AS o JOIN customers c ON o.cid = c.id',
  "SELECT * FROM a, b AS x, s.c",
  "WITH t AS (SELECT * FROM src WHERE x > 1) SELECT * FROM t JOIN other USING (id)",
  "SELECT * FROM (SELECT id FROM inner_t) s LEFT JOIN LATERAL (SELECT 1 FROM lat) l ON true",
  "SELECT extract(year FROM ts), a IS DISTINCT FROM b FROM events",
  "SELECT * FROM read_csv('x.csv') JOIN dims ON true",
  "FROM orders SELECT count(*)",
  "SELECT (SELECT max(v) FROM sub) AS m FROM main_t WHERE id IN (SELECT id FROM ids)",
  "SELECT * FROM a UNION ALL SELECT * FROM b EXCEPT SELECT * FROM c",
  "SELECT 'FROM nope' AS s, \"from\" FROM t -- FROM comment\n",
];

/** Every BASE_TABLE node of a parse tree, as `schema.table` (schema "" when none). */
function baseTables(node: unknown, out: string[] = []): string[] {
  if (Array.isArray(node)) { for (const n of node) baseTables(n, out); }
  else if (node && typeof node === "object") {
    const o = node as Record<string, unknown>;
    if (o.type === "BASE_TABLE" && typeof o.table_name === "string") {
      out.push([o.schema_name, o.table_name].filter((p) => p).join("."));
    }
    for (const v of Object.values(o)) baseTables(v, out);
  }
  return out;
}

function cteNames(node: unknown, out = new Set<string>()): Set<string> {
  if (Array.isArray(node)) { for (const n of node) cteNames(n, out); }
  else if (node && typeof node === "object") {
    const o = node as Record<string, unknown>;
    const map = (o.cte_map as { map?: { key: string }[] } | undefined)?.map;
    for (const entry of map ?? []) out.add(entry.key.toLowerCase());
    for (const v of Object.values(o)) cteNames(v, out);
  }
  return out;
}

Deno.test("sql tables: reads match DuckDB's own parse tree", async () => {
  const instance = await DuckDBInstance.create(":memory:");
  const c = await instance.connect();
  try {
    for (const sql of QUERIES) {
      const reader = await c.runAndReadAll("SELECT json_serialize_sql($1::VARCHAR) AS tree", [sql]);
      const tree = JSON.parse(String(reader.getRowObjectsJS()[0]!.tree));
      assertEquals(tree.error, false, `${sql}: ${tree.error_message}`);
      const ctes = cteNames(tree);
      const expected = [...new Set(baseTables(tree).filter((t) => !ctes.has(t.toLowerCase())))]
        .sort();
      const got = [...new Set(statementTables(sql).reads.map((n) => n.parts.join(".")))].sort();
      assertEquals(got, expected, sql);
    }
  } finally {
    c.closeSync();
    instance.closeSync();
  }
});
