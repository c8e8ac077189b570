/**
 * The three engines `load` is tested against for real: PostgreSQL and MariaDB at 127.0.0.1, and
 * DuckDB through the connector a run gets (its requests served by a real engine process, as the
 * daemon serves them). Each engine names its tables after this test run and drops them after.
 */
import { mysql } from "../../sdk/connectors/mysql.ts";
import { postgres } from "../../sdk/connectors/postgres.ts";
import { namedDuckDB } from "../../sdk/connectors/duckdb.ts";
import { quoteTable } from "../../sdk/connectors/_sql.ts";
import type { Connector, Dialect, Row } from "../../sdk/connectors/types.ts";
import { parseConnections } from "../../src/connections/registry.ts";
import { runRequests } from "../../src/connections/run_requests.ts";
import { NO_OS_BOUNDARY } from "../../src/sandbox/os_boundary.ts";

export interface Engine {
  name: "postgres" | "mariadb" | "duckdb";
  dialect: Dialect;
  db: Connector;
  /** A table name unique to this test run. */
  table(tag: string): string;
  /** Column name → the engine's type text (`numeric(12,2)`, `BIGINT`…), in column order. */
  types(table: string): Promise<Record<string, string>>;
  /** Every row, ordered by `id`. */
  rows(table: string): Promise<Row[]>;
  close(): Promise<void>;
}

const RUN = `t13_${crypto.randomUUID().slice(0, 8)}`;

export function postgresEngine(): Engine {
  const db = postgres({ host: "127.0.0.1", port: 5432, user: "postgres", database: "test" });
  const tables: string[] = [];
  return {
    name: "postgres",
    dialect: "postgres",
    db,
    table: (tag) => remember(tables, `${RUN}_${tag}`),
    types: async (table) =>
      Object.fromEntries(
        (await db.extract({
          query: `SELECT a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type
                    FROM pg_attribute a WHERE a.attrelid = $1::regclass AND a.attnum > 0
                     AND NOT a.attisdropped ORDER BY a.attnum`,
          params: [table],
        })).map((r) => [r.name, r.type]),
      ),
    rows: (table) =>
      db.extract({ query: `SELECT * FROM ${quoteTable("postgres", table)} ORDER BY id` }),
    close: async () => {
      for (const t of tables) await db.execute(`DROP TABLE IF EXISTS ${quoteTable("postgres", t)}`);
      await db.close();
    },
  };
}

export function mariadbEngine(): Engine {
  const db = mysql({ host: "127.0.0.1", port: 3306, user: "root", password: "", database: "test" });
  const tables: string[] = [];
  return {
    name: "mariadb",
    dialect: "mysql",
    db,
    table: (tag) => remember(tables, `${RUN}_${tag}`),
    types: async (table) =>
      Object.fromEntries(
        (await db.extract({
          query:
            "SELECT COLUMN_NAME AS name, COLUMN_TYPE AS type FROM information_schema.COLUMNS " +
            "WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION",
          params: [table],
        })).map((r) => [r.name, r.type]),
      ),
    rows: (table) =>
      db.extract({ query: `SELECT * FROM ${quoteTable("mysql", table)} ORDER BY id` }),
    close: async () => {
      for (const t of tables) await db.execute(`DROP TABLE IF EXISTS ${quoteTable("mysql", t)}`);
      await db.close();
    },
  };
}

export async function duckdbEngine(): Promise<Engine> {
  const home = await Deno.makeTempDir({ prefix: "tau_load_" });
  const scratch = await Deno.makeTempDir({ prefix: "tau_load_scratch_" });
  const handler = runRequests({
    declared: ["lake"],
    registry: parseConnections({ lake: { type: "duckdb", path: "lake.duckdb" } }),
    home,
    scratchDir: scratch,
    limits: { memory_mb: 1024, cpu_s: 600, threads: 64, timeout_ms: 600_000 },
    boundary: NO_OS_BOUNDARY,
  });
  // Replies are JSON text, parsed as the run's channel parses them.
  const db = namedDuckDB("lake", "duckdb", {
    send: async (op, payload) => JSON.parse(await handler.handle(op, payload)),
    scratch: () => scratch,
  });
  return {
    name: "duckdb",
    dialect: "duckdb",
    db,
    table: (tag) => `${RUN}_${tag}`,
    types: async (table) =>
      Object.fromEntries(
        (await db.extract({
          query: "SELECT column_name AS name, data_type AS type FROM information_schema.columns " +
            "WHERE table_name = $1 ORDER BY ordinal_position",
          params: [table],
        })).map((r) => [r.name, r.type]),
      ),
    rows: (table) =>
      db.extract({ query: `SELECT * FROM ${quoteTable("duckdb", table)} ORDER BY id` }),
    close: async () => {
      await handler.close();
      await Deno.remove(home, { recursive: true });
      await Deno.remove(scratch, { recursive: true });
    },
  };
}

export const ENGINES: (() => Engine | Promise<Engine>)[] = [
  postgresEngine,
  mariadbEngine,
  duckdbEngine,
];

function remember(tables: string[], name: string): string {
  tables.push(name);
  return name;
}
