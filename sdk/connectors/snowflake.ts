/**
 * Snowflake connector over the SQL API v2 (`POST /api/v2/statements`) with `fetch`: no driver,
 * nothing read from the environment or from files. Pipelines import {@link snowflake} from
 * `tau/connectors`.
 *
 * @module
 */
import { authHeaders } from "./_snowflake_auth.ts";
import { loadSnowflake } from "./_snowflake_load.ts";
import { type Binding, binding, decodeRow, type RowType } from "./_snowflake_rows.ts";
import { batchSizeOf, HttpWarehouse, queryOf, readText, rebatch } from "./_warehouse.ts";
import {
  type Connector,
  ConnectorError,
  type ExecuteResult,
  type ExtractOptions,
  type LoadOptions,
  type LoadResult,
  type Row,
  type RowSource,
  type SqlSession,
} from "./types.ts";

/** How to reach Snowflake. Give `privateKey` (key-pair auth) or `token`; passwords do not work. */
export interface SnowflakeOptions {
  /** Account identifier: `orgname-accountname`, or a locator such as `xy12345.eu-west-1`. */
  account: string;
  /** Login name of the user (required for key-pair auth). */
  user?: string;
  /**
   * Unencrypted PEM private key (`BEGIN PRIVATE KEY` or `BEGIN RSA PRIVATE KEY`) whose public
   * key is set on the user (`ALTER USER … SET RSA_PUBLIC_KEY = '…'`). Each request carries a
   * JWT signed with it.
   */
  privateKey?: string;
  /** An OAuth access token or a programmatic access token, used instead of `privateKey`. */
  token?: string;
  /**
   * What `token` is.
   * @default {"OAUTH"}
   */
  tokenType?: "OAUTH" | "PROGRAMMATIC_ACCESS_TOKEN";
  /**
   * Warehouse that runs the statements.
   * @default {the user's DEFAULT_WAREHOUSE}
   */
  warehouse?: string;
  /**
   * Database for unqualified names (case-sensitive).
   * @default {the user's default namespace}
   */
  database?: string;
  /**
   * Schema for unqualified names (case-sensitive).
   * @default {the user's default namespace}
   */
  schema?: string;
  /**
   * Role the statements run as.
   * @default {the user's DEFAULT_ROLE}
   */
  role?: string;
  /**
   * Seconds a statement may run before Snowflake cancels it.
   * @default {the account's STATEMENT_TIMEOUT_IN_SECONDS}
   */
  timeout?: number;
  /**
   * Base URL of the account.
   * @default {"https://<account>.snowflakecomputing.com"}
   */
  baseUrl?: string;
  /**
   * Connection name reported as `connector.name`.
   * @default {"snowflake"}
   */
  name?: string;
}

/** The parts of a SQL API `ResultSet` / `QueryStatus` that are used. */
interface ResultSet {
  code?: string;
  message?: string;
  sqlState?: string;
  statementHandle?: string;
  statementStatusUrl?: string;
  resultSetMetaData?: { rowType?: RowType[]; partitionInfo?: unknown[] };
  data?: (string | null)[][];
  stats?: { numRowsInserted?: number; numRowsUpdated?: number; numRowsDeleted?: number };
}

/** Polling a running statement: first wait, growth factor, longest wait. */
const POLL = { first: 100, factor: 2, max: 2_000 };

class Snowflake extends HttpWarehouse implements Connector {
  readonly type = "snowflake";
  readonly dialect = "snowflake" as const;
  readonly #options: SnowflakeOptions;
  readonly #base: string;
  readonly #auth: () => Promise<Record<string, string>>;

  constructor(options: SnowflakeOptions) {
    super(options.name ?? "snowflake");
    if (typeof options.account !== "string" || !/^[A-Za-z0-9._-]+$/.test(options.account)) {
      throw new ConnectorError(`${this.name}: account is required (e.g. "myorg-myaccount")`);
    }
    const base = options.baseUrl ?? `https://${options.account}.snowflakecomputing.com`;
    if (!/^https?:\/\/[^/@]+\/?$/.test(base)) {
      throw new ConnectorError(
        `${this.name}: baseUrl must be an http(s) origin without credentials`,
      );
    }
    this.#options = options;
    this.#base = base.replace(/\/$/, "");
    this.#auth = authHeaders(options, this.name);
  }

  async #call(
    method: string,
    path: string,
    body?: unknown,
  ): Promise<{ status: number; result: ResultSet }> {
    const headers: Record<string, string> = {
      ...await this.#auth(),
      Accept: "application/json",
      "User-Agent": "tau/1.0",
    };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    const response = await this.http.fetch(new URL(this.#base + path), {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = response.ok ? await response.text() : await readText(response);
    let result: ResultSet;
    try {
      result = JSON.parse(text);
    } catch {
      result = { message: text.trim() || response.statusText };
    }
    if (!response.ok) {
      const code = result.code ? `, code ${result.code}` : "";
      const state = result.sqlState ? `, SQL state ${result.sqlState}` : "";
      throw new ConnectorError(
        `${this.name}: Snowflake error (HTTP ${response.status}${code}${state}): ${result.message}`,
      );
    }
    return { status: response.status, result };
  }

  /** Submits one statement and waits for it (202 → poll `statementStatusUrl`). */
  async #submit(
    sql: string,
    bindings?: Record<string, Binding>,
    statements = 1,
  ): Promise<ResultSet> {
    const o = this.#options;
    const body: Record<string, unknown> = { statement: sql };
    if (statements > 1) body.parameters = { MULTI_STATEMENT_COUNT: String(statements) };
    for (const key of ["timeout", "database", "schema", "warehouse", "role"] as const) {
      if (o[key] !== undefined) body[key] = o[key];
    }
    if (bindings && Object.keys(bindings).length > 0) body.bindings = bindings;
    let { status, result } = await this.#call("POST", "/api/v2/statements", body);
    for (let wait = POLL.first; status === 202; wait = Math.min(wait * POLL.factor, POLL.max)) {
      await new Promise((resolve) => setTimeout(resolve, wait));
      ({ status, result } = await this.#call("GET", this.#statusPath(result)));
    }
    return result;
  }

  /** The status URL's path on this account (never another host). */
  #statusPath(result: ResultSet): string {
    const handle = result.statementHandle;
    if (result.statementStatusUrl) {
      const url = new URL(result.statementStatusUrl, this.#base);
      return url.pathname + url.search;
    }
    if (!handle) throw new ConnectorError(`${this.name}: Snowflake answered 202 without a handle`);
    return `/api/v2/statements/${encodeURIComponent(handle)}`;
  }

  /** The rows of every partition, one partition at a time. */
  async *#partitions(first: ResultSet): AsyncGenerator<Row[]> {
    const rowType = first.resultSetMetaData?.rowType ?? [];
    yield (first.data ?? []).map((values) => decodeRow(rowType, values));
    const count = first.resultSetMetaData?.partitionInfo?.length ?? 1;
    for (let partition = 1; partition < count; partition++) {
      const handle = encodeURIComponent(first.statementHandle ?? "");
      const path = `/api/v2/statements/${handle}?partition=${partition}`;
      const { result } = await this.#call("GET", path);
      yield (result.data ?? []).map((values) => decodeRow(rowType, values));
    }
  }

  /** Bindings for `?` placeholders; Snowflake binds by position only. */
  #bindings(params: unknown[] | Record<string, unknown> | undefined): Record<string, Binding> {
    if (params === undefined) return {};
    if (!Array.isArray(params)) {
      throw new ConnectorError(
        `${this.name}: Snowflake binds by position: pass params as an array for ? placeholders`,
      );
    }
    return Object.fromEntries(params.map((value, i) => [String(i + 1), binding(value)]));
  }

  async #execute(sql: string, bindings?: Record<string, Binding>): Promise<ExecuteResult> {
    const result = await this.#submit(sql, bindings);
    const rows: Row[] = [];
    for await (const page of this.#partitions(result)) rows.push(...page);
    const s = result.stats;
    const changed = s
      ? (s.numRowsInserted ?? 0) + (s.numRowsUpdated ?? 0) + (s.numRowsDeleted ?? 0)
      : null;
    return { rows, rowCount: changed ?? rows.length };
  }

  async extract(options: ExtractOptions): Promise<Row[]> {
    const rows: Row[] = [];
    for await (const batch of this.extractStream(options)) rows.push(...batch);
    return rows;
  }

  extractStream(options: ExtractOptions): AsyncIterable<Row[]> {
    const query = queryOf(options.query, this.name);
    const size = batchSizeOf(options.batchSize, this.name);
    const bindings = this.#bindings(options.params);
    const pages = async function* (self: Snowflake) {
      yield* self.#partitions(await self.#submit(query, bindings));
    };
    return rebatch(pages(this), size);
  }

  load(rows: RowSource, options: LoadOptions): Promise<LoadResult> {
    return loadSnowflake(
      {
        run: async (sql, bindings) => void await this.#submit(sql, bindings),
        query: async (sql) => (await this.#execute(sql)).rows,
      },
      rows,
      options,
    );
  }

  execute(sql: string, params?: unknown[]): Promise<ExecuteResult> {
    return this.#execute(sql, this.#bindings(params));
  }

  /**
   * The SQL API runs each request in a session of its own; statements that must share one (an
   * explicit transaction) go as one multi-statement request through `executeScript`.
   */
  session<T>(work: (session: SqlSession) => Promise<T>): Promise<T> {
    return work({
      execute: (sql, params) => this.execute(sql, params),
      executeScript: async (statements, params) => {
        await this.#submit(statements.join(";\n"), this.#bindings(params), statements.length);
      },
    });
  }
}

/**
 * A Snowflake connector. Nothing is sent until first use; options are checked at once.
 *
 * - `params[i]` binds the i-th `?` (integers as FIXED, other numbers as REAL, booleans as
 *   BOOLEAN, everything else as TEXT, which Snowflake casts where a date/timestamp is needed).
 * - Values read back: integer NUMBER as a number when exact (text otherwise), NUMBER with a
 *   scale as exact text, FLOAT as a number, BOOLEAN as a boolean, DATE as `"YYYY-MM-DD"`, TIME
 *   as `"HH:MM:SS.fffffffff"`, TIMESTAMP_NTZ as ISO text without zone, TIMESTAMP_LTZ as ISO UTC
 *   text, TIMESTAMP_TZ as ISO text with its offset, VARIANT/OBJECT/ARRAY parsed, the rest as text.
 * - `extractStream` reads the result partitions one at a time; statements still running after
 *   45 s are polled until done.
 * - `load` stages rows with multi-row INSERTs and changes the target with one atomic statement
 *   (see `_snowflake_load.ts`); `batchSize` (a load option, default 1,000, capped at 10,000
 *   bindings per statement) sets rows per INSERT. Identifiers are quoted, hence
 *   case-sensitive: name tables and columns as stored (`ORDERS`, not `orders`, for objects
 *   created unquoted).
 * - The sandbox must allow `<account>.snowflakecomputing.com`.
 *
 * @example Copy a day of orders with key-pair auth, inline
 * ```ts
 * import { pipeline } from "tau";
 * import { snowflake } from "tau/connectors";
 *
 * export default pipeline({
 *   name: "sf_orders_copy",
 *   net: ["myorg-myaccount.snowflakecomputing.com"],
 *   secrets: ["SNOWFLAKE_KEY"],
 * }, async (ctx) => {
 *   await using sf = snowflake({
 *     account: "myorg-myaccount",
 *     user: "ETL",
 *     privateKey: ctx.secret("SNOWFLAKE_KEY"),
 *     warehouse: "LOAD_WH",
 *     database: "RAW",
 *     schema: "PUBLIC",
 *   });
 *   const rows = await sf.extract({
 *     query: "SELECT * FROM ORDERS WHERE DAY = ?",
 *     params: ["2024-05-01"],
 *   });
 *   const loaded = await sf.load(rows, { table: "ORDERS_COPY", mode: "upsert", mergeKey: "ID" });
 *   return { rows: loaded.rows };
 * });
 * ```
 */
export function snowflake(options: SnowflakeOptions): Connector {
  return new Snowflake(options);
}
