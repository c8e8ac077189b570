/**
 * MySQL / MariaDB connector on the `mysql2` driver.
 *
 * Driver settings, chosen once for every connection:
 * - values with parameters go through server-side prepared statements (`execute`), so a value
 *   is never spliced into SQL text; statements without parameters use the text protocol, and
 *   client-side formatting is switched off (`queryFormat`) so `?` is never filled in locally;
 * - the session time zone is UTC and `DATETIME`/`TIMESTAMP` values come back as `Date`s read
 *   as UTC; `DATE` values come back as `"YYYY-MM-DD"` strings (no time zone shift);
 * - `BIGINT` values come back as numbers, or as strings when beyond `Number.MAX_SAFE_INTEGER`;
 *   `DECIMAL` values as strings (exact); `BOOLEAN` (`TINYINT(1)`) as `0`/`1`; `JSON` as
 *   objects on MySQL and as text on MariaDB (where `JSON` is an alias of `LONGTEXT`);
 * - a pool of up to 4 connections, so a stream can be read while another load writes;
 * - `LOAD DATA LOCAL INFILE` is disabled (the client never reads local files).
 *
 * @module
 */
import type { Pool, PoolConnection, ResultSetHeader } from "mysql2/promise";
import { withColumnTypes } from "./_columns.ts";
import { mysqlColumnTypes, type MysqlField } from "./_declared.ts";
import { bindValue } from "./_sql.ts";
import { DEFAULT_BATCH, fail, loadRows } from "./_mysql_load.ts";
import {
  type Connector,
  type ExecuteResult,
  type ExtractOptions,
  type LoadOptions,
  type LoadResult,
  type Row,
  type RowSource,
  type SqlSession,
} from "./types.ts";

/** How to reach a MySQL or MariaDB server: a `dsn`, or `host`/`user`/… fields. */
export interface MysqlOptions {
  /**
   * Connection URL, `mysql://user:password@host:port/database` (percent-encode special
   * characters in the user and password). The only query parameter understood is `ssl`
   * (`true`/`false`). Fields given separately (`host`, `password`, …) take precedence.
   */
  dsn?: string;
  /** Server host name or IP address (required unless the `dsn` has one). */
  host?: string;
  /**
   * Server port.
   * @default {the `dsn`'s port, else 3306}
   */
  port?: number;
  /** User name (required unless the `dsn` has one). */
  user?: string;
  /**
   * Password, usually from `ctx.secret(...)`. Never read from the environment.
   * @default {the `dsn`'s password, else ""}
   */
  password?: string;
  /**
   * Default database; without one, table names must be qualified (`db.table`).
   * @default {the `dsn`'s database, if it names one}
   */
  database?: string;
  /**
   * Use TLS and verify the server certificate against the runtime's root certificates.
   * @default {the `dsn`'s `ssl`, else false}
   */
  ssl?: boolean;
  /**
   * Connection name shown in logs and errors.
   * @default {"mysql"}
   */
  name?: string;
}

interface Settings {
  host: string;
  port: number;
  user: string;
  password: string;
  database: string | undefined;
  ssl: boolean;
}

/** The part of mysql2's callback-style connection used for streaming. */
type RowStream = AsyncIterable<Row> & {
  destroy(): void;
  on(event: "fields", listener: (fields: MysqlField[]) => void): void;
};
interface StreamingConnection {
  query(sql: string): { stream(): RowStream };
  execute(sql: string, values: unknown[]): { stream(): RowStream };
}

/** mysql2's type for bound values; ours are normalized by bindValue first. */
type Values = Parameters<PoolConnection["execute"]>[1];

/** Reads a DSN without ever echoing it (it holds the password). */
function parseDsn(dsn: string): Partial<Settings> {
  let url: URL;
  try {
    url = new URL(dsn);
  } catch {
    fail("dsn is not a valid URL (expected mysql://user:password@host:port/database)");
  }
  if (url.protocol !== "mysql:" && url.protocol !== "mariadb:") {
    fail(`dsn must start with mysql://, not ${url.protocol}//`);
  }
  let ssl: boolean | undefined;
  for (const [key, value] of url.searchParams) {
    if (key !== "ssl") fail(`unknown dsn parameter "${key}" (only ssl is supported)`);
    if (!["true", "false", "1", "0"].includes(value)) {
      fail("dsn parameter ssl must be true or false");
    }
    ssl = value === "true" || value === "1";
  }
  const decode = (part: string, what: string) => {
    try {
      return decodeURIComponent(part);
    } catch {
      fail(`dsn ${what} has a malformed percent-encoding`);
    }
  };
  const database = decode(url.pathname.replace(/^\//, ""), "database");
  if (database.includes("/")) fail("dsn path must be a single database name");
  return {
    host: url.hostname.replace(/^\[(.*)\]$/, "$1"),
    port: url.port ? Number(url.port) : undefined,
    user: decode(url.username, "user"),
    password: decode(url.password, "password"),
    database: database || undefined,
    ssl,
  };
}

function settingsOf(options: MysqlOptions): Settings {
  const url = options.dsn === undefined ? null : parseDsn(options.dsn);
  const s: Settings = {
    host: options.host ?? url?.host ?? "",
    port: options.port ?? url?.port ?? 3306,
    user: options.user ?? url?.user ?? "",
    password: options.password ?? url?.password ?? "",
    database: options.database ?? url?.database,
    ssl: options.ssl ?? url?.ssl ?? false,
  };
  if (!s.host) fail("host is required (or a dsn)");
  if (!s.user) fail("user is required");
  if (!Number.isInteger(s.port) || s.port < 1 || s.port > 65535) fail("port must be 1-65535");
  return s;
}

/** A parameter as bound in queries: Dates as DATETIME (UTC), the rest as {@link bindValue}. */
function bindParam(value: unknown): unknown {
  return value instanceof Date ? value : bindValue(value);
}

/** MySQL placeholders are positional (`?`): params must be an array. */
function positional(params: ExtractOptions["params"]): unknown[] {
  if (params === undefined) return [];
  if (!Array.isArray(params)) fail("params must be an array of values for the ? placeholders");
  return params;
}

function requireQuery(options: ExtractOptions): string {
  if (typeof options.query !== "string" || options.query.trim() === "") {
    fail("extract needs a query");
  }
  return options.query;
}

// ---- loads -------------------------------------------------------------------------------

/**
 * A MySQL or MariaDB connection (dialect `"mysql"`, `?` placeholders). Connects on first use;
 * `close()` (or `await using`) releases the pool.
 *
 * Loads run in one InnoDB transaction. `append` inserts; `replace` fills `<table>__tau_new`
 * and then swaps it in with one atomic `RENAME TABLE`; `upsert` stages each batch in a
 * temporary table, updates the target rows with the same `mergeKey` (only the columns the rows
 * carry) and inserts the others (no unique index needed; a later batch wins over an earlier
 * one). A table created by a failed load is dropped again. Columns follow `onSchemaChange`; MySQL
 * commits DDL at once, so a column added by a load that then fails stays.
 *
 * @example Copy a day of orders, inline
 * ```ts
 * import { pipeline } from "tau";
 * import { mysql } from "tau/connectors";
 *
 * export default pipeline({
 *   name: "shop_orders_copy",
 *   net: ["db.internal:3306"],
 *   secrets: ["DB_PW"],
 * }, async (ctx) => {
 *   await using db = mysql({
 *     host: "db.internal",
 *     user: "etl",
 *     password: ctx.secret("DB_PW"),
 *     database: "shop",
 *   });
 *   const rows = await db.extract({
 *     query: "SELECT * FROM orders WHERE day = ?",
 *     params: ["2024-05-01"],
 *   });
 *   const loaded = await db.load(rows, { table: "orders_copy", mode: "upsert", mergeKey: ["id"] });
 *   return { rows: loaded.rows };
 * });
 * ```
 */
export function mysql(options: MysqlOptions): Connector {
  const settings = settingsOf(options);
  let pooling: Promise<Pool> | null = null;
  // Connections whose session was set up (time zone); keyed by the driver's connection.
  const prepared = new WeakSet<object>();
  let maxPacket: number | null = null;

  function pool(): Promise<Pool> {
    pooling ??= import("mysql2/promise").then((driver) =>
      driver.createPool({
        host: settings.host,
        port: settings.port,
        user: settings.user,
        password: settings.password,
        database: settings.database,
        ssl: settings.ssl ? { rejectUnauthorized: true } : undefined,
        charset: "UTF8MB4_UNICODE_CI",
        timezone: "Z",
        dateStrings: ["DATE"],
        supportBigNumbers: true,
        bigNumberStrings: false,
        multipleStatements: false,
        flags: ["-LOCAL_FILES"],
        // Text-protocol statements are sent as written: values only travel as prepared
        // statement parameters.
        queryFormat: (sql: string) => sql,
        // Bounds server-side statements (server limit: max_prepared_stmt_count).
        maxPreparedStatements: 64,
        connectionLimit: 4,
        connectTimeout: 10_000,
        enableKeepAlive: true,
      })
    );
    return pooling;
  }

  async function acquire(): Promise<PoolConnection> {
    const conn = await (await pool()).getConnection();
    if (!prepared.has(conn.connection)) {
      try {
        await conn.query("SET time_zone = '+00:00'");
      } catch (error) {
        conn.destroy();
        throw error;
      }
      prepared.add(conn.connection);
    }
    return conn;
  }

  async function withConnection<T>(fn: (conn: PoolConnection) => Promise<T>): Promise<T> {
    const conn = await acquire();
    try {
      return await fn(conn);
    } finally {
      conn.release();
    }
  }

  async function run(conn: PoolConnection, sql: string, params: unknown[] | undefined) {
    const [result, fields] = params && params.length > 0
      ? await conn.execute(sql, params.map(bindParam) as Values)
      : await conn.query(sql);
    // The column types travel with the rows, for `load`.
    if (Array.isArray(result)) withColumnTypes(result as Row[], mysqlColumnTypes(fields));
    return result;
  }

  async function executeOn(conn: PoolConnection, sql: string, params: unknown[] | undefined) {
    const result = await run(conn, sql, params);
    if (Array.isArray(result)) return { rowCount: result.length, rows: result as Row[] };
    return { rowCount: (result as ResultSetHeader).affectedRows ?? 0, rows: [] };
  }

  const connector: Connector = {
    name: options.name ?? "mysql",
    type: "mysql",
    dialect: "mysql",

    async extract(opts: ExtractOptions): Promise<Row[]> {
      const sql = requireQuery(opts);
      const params = positional(opts.params);
      return await withConnection(async (conn) => {
        const result = await run(conn, sql, params);
        return Array.isArray(result) ? result as Row[] : [];
      });
    },

    async *extractStream(opts: ExtractOptions): AsyncIterable<Row[]> {
      const sql = requireQuery(opts);
      const size = opts.batchSize ?? DEFAULT_BATCH;
      if (!Number.isInteger(size) || size < 1) fail("batchSize must be a positive integer");
      const params = positional(opts.params);
      const conn = await acquire();
      // The promise typings call it a promise connection; at run time it is the core one.
      const core = conn.connection as unknown as StreamingConnection;
      let stream: RowStream | null = null;
      let finished = false;
      try {
        stream = params.length > 0
          ? core.execute(sql, params.map(bindParam)).stream()
          : core.query(sql).stream();
        let types = {};
        stream.on("fields", (fields) => types = mysqlColumnTypes(fields));
        let batch: Row[] = [];
        for await (const row of stream) {
          batch.push(row);
          if (batch.length >= size) {
            yield withColumnTypes(batch, types);
            batch = [];
          }
        }
        if (batch.length > 0) yield withColumnTypes(batch, types);
        finished = true;
      } finally {
        if (finished) conn.release();
        else {
          // Stopped early or failed: the rest of the result is still on the wire, so the
          // connection cannot be reused.
          stream?.destroy();
          conn.destroy();
        }
      }
    },

    load(rows: RowSource, opts: LoadOptions): Promise<LoadResult> {
      return withConnection(async (conn) => {
        if (maxPacket === null) {
          const [[row]] = await conn.query("SELECT @@max_allowed_packet AS p") as unknown as [
            { p: number | string }[],
          ];
          maxPacket = Number(row?.p ?? 4 << 20);
        }
        return await loadRows(conn, rows, opts, maxPacket);
      });
    },

    execute(sql: string, params?: unknown[]): Promise<ExecuteResult> {
      return withConnection((conn) => executeOn(conn, sql, params));
    },

    session<T>(work: (session: SqlSession) => Promise<T>): Promise<T> {
      return withConnection((conn) =>
        work({ execute: (sql, params) => executeOn(conn, sql, params) })
      );
    },

    ping(): Promise<void> {
      return withConnection((conn) => conn.ping());
    },

    async close(): Promise<void> {
      const current = pooling;
      pooling = null;
      const p = await current?.catch(() => null);
      await p?.end();
    },

    [Symbol.asyncDispose](): Promise<void> {
      return connector.close();
    },
  };
  return connector;
}
