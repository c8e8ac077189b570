/**
 * Issue 13 item 2: a query result of one engine, loaded into another, keeps its column types and
 * its values — decimals, big integers, timestamps with time zone, dates, booleans, JSON and a
 * NULL-only column — for every pair of PostgreSQL, MariaDB and DuckDB (for real).
 */
import { assertEquals } from "../helpers/assert.ts";
import { columnTypes, parseSqlType } from "../../sdk/connectors/_columns.ts";
import type { Row } from "../../sdk/connectors/types.ts";
import { duckdbEngine, type Engine, mariadbEngine, postgresEngine } from "./engines.ts";

/** The source table in each engine's own types. */
const DDL: Record<Engine["name"], string> = {
  postgres:
    "(id int8, dec numeric(14,2), big int8, ts timestamptz, d date, b boolean, j jsonb, n numeric(10,2))",
  mariadb:
    "(id BIGINT, `dec` DECIMAL(14,2), big BIGINT, ts DATETIME(3), d DATE, b BOOLEAN, j JSON, n DECIMAL(10,2))",
  duckdb:
    "(id BIGINT, dec DECIMAL(14,2), big BIGINT, ts TIMESTAMPTZ, d DATE, b BOOLEAN, j JSON, n DECIMAL(10,2))",
};
const TS = ["2024-05-01 10:00:00.123", "2024-05-31 22:00:00"];
const VALUES = (zone: string) =>
  `(1, 11.00, 9007199254740993, '${TS[0]}${zone}', '2024-05-01', true, '{"a":[1,2]}', NULL),
   (2, 12345678901.99, -5, '${TS[1]}${zone}', '2023-12-31', false, '[]', NULL)`;

/** What every target must hold, whatever the pair. */
const EXPECTED = [
  {
    id: "1",
    dec: "11",
    big: "9007199254740993",
    ts: Date.parse(`${TS[0]}Z`),
    d: "2024-05-01",
    b: true,
    j: { a: [1, 2] },
    n: null,
  },
  {
    id: "2",
    dec: "12345678901.99",
    big: "-5",
    ts: Date.parse(`${TS[1]}Z`),
    d: "2023-12-31",
    b: false,
    j: [],
    n: null,
  },
];
const KINDS = {
  id: "bigint",
  dec: "decimal",
  big: "bigint",
  ts: "timestamp",
  d: "date",
  b: "boolean",
  j: "json",
  n: "decimal",
};

/** Values as comparable text: a decimal without trailing zeros, a timestamp as epoch ms. */
function normalize(row: Row): Row {
  const decimal = (v: unknown) => {
    const text = String(v);
    return text.includes(".") ? text.replace(/0+$/, "").replace(/\.$/, "") : text;
  };
  return {
    id: String(row.id),
    dec: decimal(row.dec),
    big: String(row.big),
    ts: new Date(row.ts as string).getTime(),
    d: row.d,
    b: row.b === true || row.b === 1,
    j: typeof row.j === "string" ? JSON.parse(row.j) : row.j,
    n: row.n,
  };
}

Deno.test("load keeps column types and values across engines", async (t) => {
  const engines = [await postgresEngine(), await mariadbEngine(), await duckdbEngine()];
  try {
    for (const source of engines) {
      const src = source.table("src");
      const q = source.name === "mariadb" ? "`" : '"';
      await source.db.execute(`CREATE TABLE ${q}${src}${q} ${DDL[source.name]}`);
      await source.db.execute(
        `INSERT INTO ${q}${src}${q} VALUES ${VALUES(source.name === "mariadb" ? "" : "+00")}`,
      );
      const rows = await source.db.extract({ query: `SELECT * FROM ${q}${src}${q} ORDER BY id` });
      for (const target of engines) {
        await t.step(`${source.name} → ${target.name}`, async () => {
          const table = target.table(`from_${source.name}`);
          assertEquals((await target.db.load(rows, { table, mode: "replace" })).rows, 2);
          const kinds = Object.fromEntries(
            Object.entries(await target.types(table)).map(([c, type]) => [
              c,
              parseSqlType(type)?.kind,
            ]),
          );
          // MariaDB's JSON is an alias of LONGTEXT (with a validity check): it reads as text.
          const json = target.name === "mariadb" ? "text" : "json";
          assertEquals(kinds, { ...KINDS, j: json });
          assertEquals((await target.rows(table)).map(normalize), EXPECTED);
        });
      }
    }
  } finally {
    for (const engine of engines) await engine.close();
  }
});

Deno.test("DuckDB results: decimals exact, dates as text, column types attached", async () => {
  const duck = await duckdbEngine();
  try {
    const rows = await duck.db.extract({
      query: "SELECT 12345678901234567.89::DECIMAL(20,2) AS wide, 1.50::DECIMAL(3,2) AS narrow, " +
        "DATE '2024-05-01' AS day, 9007199254740993::BIGINT AS big",
    });
    // A decimal no JS number holds exactly stays text; one that fits is a number.
    assertEquals(rows, [{
      wide: "12345678901234567.89",
      narrow: 1.5,
      day: "2024-05-01",
      big: "9007199254740993",
    }]);
    assertEquals(columnTypes(rows), {
      wide: { kind: "decimal", precision: 20, scale: 2 },
      narrow: { kind: "decimal", precision: 3, scale: 2 },
      day: { kind: "date" },
      big: { kind: "bigint" },
    });
  } finally {
    await duck.close();
  }
});
