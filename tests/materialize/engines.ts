/**
 * The three engines materializations are executed on for real in the tests: PostgreSQL and
 * MariaDB (the services on this machine) through their connectors, and DuckDB through the
 * trusted-side session the daemon uses. Each test gets a schema of its own.
 */
import { postgres } from "../../sdk/connectors/postgres.ts";
import { mysql } from "../../sdk/connectors/mysql.ts";
import type { Connector, Row, SqlSession } from "../../sdk/connectors/types.ts";
import { type MaterializationConfig, parseConfig } from "../../sdk/materialize/config.ts";
import { dialectFor } from "../../sdk/materialize/dialects/mod.ts";
import { type MaterializeResult, runMaterialization } from "../../sdk/materialize/engine.ts";
import { DuckDBSession } from "../../src/connections/duckdb_service.ts";

export type EngineName = "postgres" | "mysql" | "duckdb";
export const ENGINES: EngineName[] = ["postgres", "mysql", "duckdb"];

export interface Engine {
  name: EngineName;
  /** This test's schema (a database on MySQL). */
  schema: string;
  /** A connector for the public `materialize()` entry point. */
  connector: Connector;
  /** Runs setup SQL; `{s}` is this test's schema, `{ts}` a timestamp type with a zone. */
  exec(sql: string): Promise<void>;
  /** Rows of a query with values normalized for comparison across engines. */
  rows(sql: string): Promise<Row[]>;
  /** One materialization with a fixed clock. */
  materialize(config: MaterializationConfig, now?: Date): Promise<MaterializeResult>;
  close(): Promise<void>;
}

const TIMESTAMP: Record<EngineName, string> = {
  postgres: "timestamptz",
  mysql: "DATETIME(6)",
  duckdb: "TIMESTAMPTZ",
};

export async function openEngine(name: EngineName): Promise<Engine> {
  const schema = `tau_mt_${crypto.randomUUID().slice(0, 8)}`;
  const connector = name === "postgres"
    ? postgres({ host: "127.0.0.1", port: 5432, user: "postgres", database: "test" })
    : name === "mysql"
    ? mysql({ host: "127.0.0.1", port: 3306, user: "root", database: "test" })
    : duckdbConnector();
  const fill = (sql: string) => sql.replaceAll("{s}", schema).replaceAll("{ts}", TIMESTAMP[name]);
  const execute = async (sql: string) => (await connector.execute(fill(sql))).rows;
  await execute(name === "mysql" ? `CREATE DATABASE ${schema}` : `CREATE SCHEMA ${schema}`);
  return {
    name,
    schema,
    connector,
    exec: async (sql) => void await execute(sql),
    rows: async (sql) => (await execute(sql)).map(normalize),
    materialize: (config, now = new Date("2026-01-01T00:00:00Z")) => {
      const filled = JSON.parse(fill(JSON.stringify(config)));
      return connector.session!((session) =>
        runMaterialization(session, dialectFor(name), parseConfig(filled), { now })
      );
    },
    close: async () => {
      await execute(name === "mysql" ? `DROP DATABASE ${schema}` : `DROP SCHEMA ${schema} CASCADE`)
        .catch(() => {});
      await connector.close();
    },
  };
}

/** Registers one test per engine, each with a fresh schema. */
export function engineTest(name: string, fn: (engine: Engine) => Promise<void>): void {
  for (const engine of ENGINES) {
    Deno.test(`${name} [${engine}]`, async () => {
      const e = await openEngine(engine);
      try {
        await fn(e);
      } finally {
        await e.close();
      }
    });
  }
}

/** A DuckDB connector over an in-memory, locked-down session, as the daemon runs it. */
function duckdbConnector(): Connector {
  const scratch = Deno.makeTempDirSync({ prefix: "tau_duck_spill_" });
  const db = new DuckDBSession({
    path: ":memory:",
    allowedDirectories: [],
    scratch,
    tempDirectory: scratch,
  });
  const session: SqlSession = {
    execute: async (sql, params = []) => {
      const rows = await db.query(sql, params);
      return { rowCount: rows.length, rows };
    },
  };
  const unsupported = () => Promise.reject(new Error("not used in these tests"));
  return {
    name: "duckdb",
    type: "duckdb",
    dialect: "duckdb",
    extract: unsupported,
    extractStream: () => ({ [Symbol.asyncIterator]: () => ({ next: unsupported }) }),
    load: unsupported,
    execute: session.execute,
    session: (work) => work(session),
    ping: () => Promise.resolve(),
    close: () => Promise.resolve(db.close()),
    [Symbol.asyncDispose]: () => Promise.resolve(db.close()),
  };
}

/** Dates as ISO text, booleans as 0/1 (MySQL has no boolean type), numeric text as numbers. */
function normalize(row: Row): Row {
  const out: Row = {};
  for (const [key, value] of Object.entries(row)) out[key.toLowerCase()] = normalizeValue(value);
  return out;
}

function normalizeValue(value: unknown): unknown {
  if (value instanceof Date) return value.toISOString();
  if (typeof value === "boolean") return value ? 1 : 0;
  if (typeof value === "bigint") return Number(value);
  if (typeof value === "string" && /^-?\d+(\.\d+)?$/.test(value)) return Number(value);
  if (typeof value === "string" && /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/.test(value)) {
    return new Date(value).toISOString();
  }
  return value;
}
