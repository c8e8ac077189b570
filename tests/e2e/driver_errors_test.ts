/**
 * A run that fails in a driver keeps what the driver said in `error.details`, with a hint for
 * that kind of failure: PostgreSQL and MariaDB on this machine, the run's DuckDB engine, and
 * fetch to a refused port, an unresolvable host and a failed TLS handshake (all declared, so
 * the sandbox lets them through).
 */
import pg from "postgres";
import mysql from "mysql2/promise";
import { assert, assertEquals, assertMatch } from "../helpers/assert.ts";
import { startDaemon, type TestDaemon } from "../helpers/daemon.ts";

const SECRET = "tau-driver-secret-value";
const TABLE = "tau_driver_errors";
const COLUMNS = "(id INT, customer_name TEXT, note TEXT)";
/** Where the fixture's query names the missing column `customer`. */
const AT = { line: 2, column: 8, excerpt: "       customer\n       ^" };

async function failedRun(d: TestDaemon, which: string) {
  const run = await d.tau("run", "driver_errors", "--params", JSON.stringify({ case: which }));
  assertEquals(run.json.status, "failed", run.stdout);
  assert.ok(!run.stdout.includes(SECRET), "the secret in the statement is redacted");
  return run.json.error;
}

Deno.test("driver errors: details and a hint for each kind of failure", async (t) => {
  // The fixture declares 127.0.0.1:2 to find nothing listening there.
  const probe = await Deno.connect({ hostname: "127.0.0.1", port: 2 }).then(
    (conn) => (conn.close(), "open"),
    () => "closed",
  );
  assertEquals(probe, "closed", "this test needs nothing listening on 127.0.0.1:2");

  const lake = await Deno.makeTempDir({ prefix: "tau_lake_" });
  const config = `
[connections.warehouse]
type = "postgres"
dsn = "postgres://postgres@127.0.0.1:5432/test"

[connections.shop]
type = "mysql"
dsn = "mysql://root@127.0.0.1:3306/test"

[connections.lake]
type = "duckdb"
path = "${lake}/lake.duckdb"
`;
  const pgSql = pg({ host: "127.0.0.1", user: "postgres", database: "test", onnotice: () => {} });
  const my = await mysql.createConnection({ host: "127.0.0.1", user: "root", database: "test" });
  await pgSql.unsafe(`DROP TABLE IF EXISTS ${TABLE}; CREATE TABLE ${TABLE} ${COLUMNS}`);
  await my.query(`DROP TABLE IF EXISTS ${TABLE}`);
  await my.query(`CREATE TABLE ${TABLE} ${COLUMNS}`);
  const d = await startDaemon({ DRIVER_NOTE_SECRET: SECRET }, { config });
  try {
    await d.deploy("driver_errors.ts");

    await t.step(
      "PostgreSQL: SQLSTATE, position in the statement, the statement, a hint",
      async () => {
        const error = await failedRun(d, "postgres");
        assertEquals(error.kind, "exception");
        assertEquals(error.step, "extract");
        assertEquals(error.details?.source, "postgres", JSON.stringify(error));
        assertEquals(error.details.code, "42703");
        assertEquals(error.details.column, "customer");
        assertEquals(error.details.position.line, AT.line);
        assertEquals(error.details.position.column, AT.column);
        assertEquals(error.details.position.excerpt, AT.excerpt);
        assertMatch(error.details.statement, /^SELECT id,\n {7}customer\nFROM tau_driver_errors/);
        assert.ok(error.details.statement.includes("[REDACTED:DRIVER_NOTE_SECRET]"));
        assertMatch(error.hint, /no table the statement reads has a column "customer"/);
      },
    );

    await t.step("MariaDB: errno, sqlState, sqlMessage, the statement, a hint", async () => {
      const error = await failedRun(d, "mysql");
      assertEquals(error.details?.source, "mysql", JSON.stringify(error));
      assertEquals(error.details.errno, 1054);
      assertEquals(error.details.sql_state, "42S22");
      assertEquals(error.details.code, "ER_BAD_FIELD_ERROR");
      assertMatch(error.details.sql_message, /^Unknown column 'customer'/);
      assertMatch(error.details.statement, /^SELECT id,\n {7}customer\nFROM tau_driver_errors/);
      assertMatch(error.hint, /has a column "customer"/);
    });

    await t.step("DuckDB: candidate bindings, the position, and the pipeline's line", async () => {
      const error = await failedRun(d, "duckdb");
      assertEquals(error.details?.source, "duckdb", JSON.stringify(error));
      assertEquals(error.details.code, "Binder");
      assert.ok(error.details.candidates.includes("customer_name"), JSON.stringify(error));
      assertEquals(error.details.position.line, AT.line);
      assertEquals(error.details.position.column, AT.column);
      assertMatch(error.details.statement, /^SELECT id,/);
      assertMatch(error.hint, /bind instead: .*customer_name/);
      // Raised again by the connector, so the location is the pipeline's extract call.
      assertEquals(error.location?.file, "driver_errors.ts", JSON.stringify(error));
    });

    await t.step("fetch to a refused port: the cause and a hint naming the target", async () => {
      const error = await failedRun(d, "refused");
      assertEquals(error.kind, "exception");
      assertEquals(error.message, "fetch failed");
      assertEquals(error.details?.source, "fetch", JSON.stringify(error));
      assertEquals(error.details.code, "ECONNREFUSED");
      assertEquals(error.details.target, "127.0.0.1:2");
      assertEquals(error.details.causes[0], "fetch failed");
      assertMatch(error.details.reason, /Connection refused/);
      assertMatch(error.hint, /127\.0\.0\.1:2: is the host\/port .* right and the server up\?/);
    });

    await t.step("fetch to an unresolvable host: a DNS failure, not a permission", async () => {
      const error = await failedRun(d, "unresolvable");
      assertEquals(error.kind, "exception");
      assertEquals(error.details.code, "ENOTFOUND", JSON.stringify(error));
      assertEquals(error.details.target, "tau-no-such-host.invalid:80");
      assertMatch(error.hint, /does not resolve \(DNS\)/);
    });

    await t.step("fetch with a failed TLS handshake", async () => {
      const error = await failedRun(d, "tls");
      assertEquals(error.details.code, "TLS", JSON.stringify(error));
      assertMatch(error.hint, /TLS handshake with 127\.0\.0\.1:5432 failed/);
    });
  } finally {
    await d.stop();
    await pgSql.unsafe(`DROP TABLE IF EXISTS ${TABLE}`);
    await pgSql.end();
    await my.query(`DROP TABLE IF EXISTS ${TABLE}`);
    await my.end();
    await Deno.remove(lake, { recursive: true });
  }
});
