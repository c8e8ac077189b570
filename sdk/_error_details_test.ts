/**
 * The driver detail kept from real failures: postgres.js and mysql2 against the servers on this
 * machine, DuckDB's own messages, and Deno's fetch refused, unresolved and in a failed TLS
 * handshake.
 */
import { assert, assertEquals } from "../tests/helpers/assert.ts";
import pg from "postgres";
import mysql from "mysql2/promise";
import { DuckDBInstance } from "@duckdb/node-api";
import { caretExcerpt, errorDetails, MAX_DETAILS_JSON, sqlPosition } from "./_error_details.ts";
import { SENT_DETAIL_CHARS } from "./_limits.ts";

async function caught(work: () => Promise<unknown>): Promise<unknown> {
  try {
    await work();
  } catch (err) {
    return err;
  }
  throw new Error("expected a failure");
}

Deno.test("sqlPosition maps a 1-based character offset to line, column and a caret", () => {
  const sql = "SELECT id,\n       customer\nFROM t";
  assertEquals(sqlPosition(sql, 19), {
    offset: 19,
    line: 2,
    column: 8,
    excerpt: "       customer\n       ^",
  });
  assertEquals(sqlPosition(sql, 1)?.line, 1);
  assertEquals(sqlPosition(sql, 1)?.column, 1);
  assertEquals(sqlPosition(sql, 0), null);
  assertEquals(sqlPosition(sql, sql.length + 2), null);
  // PostgreSQL counts characters: an emoji before the error is one, not two UTF-16 units.
  assertEquals(sqlPosition("SELECT '😀', x", 14)?.column, 14);
});

Deno.test("caretExcerpt cuts a long line around the column and keeps the caret under it", () => {
  const line = `${"a".repeat(200)}X${"b".repeat(200)}`;
  const [shown, caret] = caretExcerpt(line, 201).split("\n");
  assert.ok(shown!.startsWith("…") && shown!.endsWith("…"), shown);
  assertEquals(shown![caret!.indexOf("^")], "X");
  assert.ok(shown!.length <= 82);
  assertEquals(caretExcerpt("a\tb", 3), "a b\n  ^");
});

Deno.test("postgres.js: SQLSTATE, the server's hint, the statement and the mapped position", async () => {
  const sql = pg({ host: "127.0.0.1", user: "postgres", database: "test", onnotice: () => {} });
  const table = `tau_details_${crypto.randomUUID().slice(0, 8)}`;
  try {
    await sql.unsafe(`CREATE TABLE ${table} (id int PRIMARY KEY, customer_name text)`);
    const query = `SELECT id,\n       customer_nam\nFROM ${table}`;
    const missing = errorDetails(await caught(() => sql.unsafe(query)));
    assertEquals(missing?.source, "postgres");
    assertEquals(missing?.code, "42703");
    assertEquals(missing?.column, "customer_nam");
    assertEquals(missing?.statement, query);
    assertEquals(missing?.position?.line, 2);
    assertEquals(missing?.position?.column, 8);
    assertEquals(missing?.position?.excerpt, "       customer_nam\n       ^");
    assert.ok(missing?.hint?.includes("customer_name"), missing?.hint);

    // A load into a table that lacks a source column: the message names both.
    const load = errorDetails(
      await caught(() => sql.unsafe(`INSERT INTO ${table} (id, plan) VALUES (1, 'x')`)),
    );
    assertEquals([load?.code, load?.table, load?.column], ["42703", table, "plan"]);

    const insert = `INSERT INTO ${table} VALUES (1, 'a'), (1, 'b')`;
    const dup = errorDetails(await caught(() => sql.unsafe(insert)));
    assertEquals(dup?.code, "23505");
    assertEquals(dup?.table, table);
    assertEquals(dup?.schema, "public");
    assertEquals(dup?.constraint, `${table}_pkey`);
    assertEquals(dup?.detail, "Key (id)=(1) already exists.");

    const nope = errorDetails(await caught(() => sql.unsafe("SELECT * FROM tau_no_such_table")));
    assertEquals([nope?.code, nope?.table], ["42P01", "tau_no_such_table"]);

    const long = `SELECT ${"1, ".repeat(SENT_DETAIL_CHARS)} nope`;
    const cut = errorDetails(await caught(() => sql.unsafe(long)));
    assertEquals(cut?.statement?.length, SENT_DETAIL_CHARS + 1);
    assert.ok(cut?.position?.excerpt.includes("nope"), "the position is mapped on the whole text");
  } finally {
    await sql.unsafe(`DROP TABLE IF EXISTS ${table}`);
    await sql.end();
  }
});

Deno.test("postgres.js: a refused connection is a network error naming the target", async () => {
  const port = await closedPort();
  const sql = pg({ host: "127.0.0.1", port, user: "postgres", max: 1, connect_timeout: 5 });
  try {
    const details = errorDetails(await caught(() => sql`SELECT 1`));
    assertEquals(details?.source, "network");
    assertEquals(details?.code, "ECONNREFUSED");
    assertEquals(details?.target, `127.0.0.1:${port}`);
  } finally {
    await sql.end();
  }
});

Deno.test("mysql2: errno, sqlState, sqlMessage and the statement", async () => {
  const conn = await mysql.createConnection({ host: "127.0.0.1", user: "root", database: "test" });
  try {
    const details = errorDetails(await caught(() => conn.query("SELECT nmae FROM dual")));
    assertEquals(details?.source, "mysql");
    assertEquals(details?.code, "ER_BAD_FIELD_ERROR");
    assertEquals(details?.errno, 1054);
    assertEquals(details?.sql_state, "42S22");
    assertEquals(details?.column, "nmae");
    assertEquals(details?.statement, "SELECT nmae FROM dual");
    assert.ok(details?.sql_message?.startsWith("Unknown column 'nmae'"), details?.sql_message);
  } finally {
    await conn.end();
  }
});

Deno.test("DuckDB: the error type, candidate bindings and the position in the statement", async () => {
  const db = await DuckDBInstance.create(":memory:");
  const conn = await db.connect();
  try {
    await conn.run("CREATE TABLE t (id INT, customer_name VARCHAR, customer_id INT)");
    const statement = "SELECT id,\n  customer FROM t";
    const raw = await caught(() => conn.run(statement)) as Error;
    // What the duckdb connector raises in a run: DuckDB's message, with the statement it sent.
    const err = Object.assign(new Error(raw.message), { name: "DuckDBError", statement });
    const details = errorDetails(err);
    assertEquals(details?.source, "duckdb");
    assertEquals(details?.code, "Binder");
    assertEquals(details?.candidates, ["customer_id", "customer_name"]);
    assertEquals(details?.column, "customer");
    assertEquals(details?.statement, statement);
    assertEquals([details?.position?.line, details?.position?.column], [2, 3]);

    const wide = `SELECT ${
      Array.from({ length: 30 }, (_, i) => `id AS c${i}`).join(", ")
    }, nope FROM t`;
    const cut = await caught(() => conn.run(wide)) as Error;
    const mapped = errorDetails(Object.assign(new Error(cut.message), {
      name: "DuckDBError",
      statement: wide,
    }));
    assertEquals(mapped?.position?.column, wide.indexOf("nope") + 1);

    const table = await caught(() => conn.run("SELECT * FROM tt")) as Error;
    const catalog = errorDetails(Object.assign(new Error(table.message), { name: "DuckDBError" }));
    assertEquals([catalog?.code, catalog?.table], ["Catalog", "tt"]);
    assertEquals(catalog?.suggestion, "t");
  } finally {
    conn.closeSync();
    db.closeSync();
  }
});

Deno.test("fetch failed: the cause chain and its innermost reason", async () => {
  const port = await closedPort();
  const refused = errorDetails(await caught(() => fetch(`http://127.0.0.1:${port}/x?token=s3`)));
  assertEquals(refused?.source, "fetch");
  assertEquals(refused?.code, "ECONNREFUSED");
  assertEquals(refused?.target, `127.0.0.1:${port}`);
  assertEquals(refused?.causes?.[0], "fetch failed");
  assert.ok(refused?.reason?.includes("Connection refused"), refused?.reason);
  assert.ok(!JSON.stringify(refused).includes("token=s3"), "the query string is left out");

  const dns = errorDetails(await caught(() => fetch("http://tau-no-such-host.invalid/")));
  assertEquals([dns?.code, dns?.target], ["ENOTFOUND", "tau-no-such-host.invalid:80"]);

  // PostgreSQL does not answer a TLS hello: the handshake fails.
  const tls = errorDetails(await caught(() => fetch("https://127.0.0.1:5432/")));
  assertEquals([tls?.code, tls?.target], ["TLS", "127.0.0.1:5432"]);

  // Under a connector's own error (the HTTP connector keeps fetch's as its cause).
  const wrapped = new Error("api: GET /x failed after 1 attempt", {
    cause: await caught(() => fetch(`http://127.0.0.1:${port}/`)),
  });
  assertEquals(errorDetails(wrapped)?.code, "ECONNREFUSED");
});

Deno.test("details stay under their JSON budget by dropping their largest fields whole", () => {
  const quote = '"'.repeat(SENT_DETAIL_CHARS); // two JSON characters each, once escaped
  const err = Object.assign(new Error("boom"), {
    name: "PostgresError",
    code: "42703",
    query: `SELECT ${quote}`,
    detail: quote,
    hint: quote,
    table_name: "t",
  });
  const details = errorDetails(err)!;
  assert.ok(JSON.stringify(details).length <= MAX_DETAILS_JSON);
  assertEquals([details.code, details.table], ["42703", "t"]);
  assert.ok(details.statement === undefined || details.statement.startsWith("SELECT"));
});

Deno.test("errors no driver explained have no details", () => {
  assertEquals(errorDetails(new Error("plain")), null);
  assertEquals(errorDetails(new TypeError("x is not a function")), null);
  assertEquals(errorDetails("a string"), null);
  const cyclic = new Error("loop");
  (cyclic as { cause?: unknown }).cause = cyclic;
  assertEquals(errorDetails(cyclic), null);
});

/** A local port nothing listens on: bound, then released. */
async function closedPort(): Promise<number> {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  await Promise.resolve();
  return port;
}
