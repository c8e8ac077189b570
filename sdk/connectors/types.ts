/**
 * The one interface every connector implements, whether it reaches a warehouse, an HTTP API
 * or object storage. Values are always bound parameters; identifiers are always quoted.
 *
 * @module
 */

/** One row: column name → value. */
export type Row = Record<string, unknown>;

/** SQL dialects the materialization engine targets. */
export type Dialect =
  | "postgres"
  | "redshift"
  | "mysql"
  | "duckdb"
  | "clickhouse"
  | "bigquery"
  | "snowflake";

/** What to read. SQL connectors use `query`/`params`; others document their own fields. */
export interface ExtractOptions {
  /** SQL text with placeholders (`$1` for PostgreSQL/DuckDB, `?` for MySQL). */
  query?: string;
  /**
   * Values bound to the placeholders (an array for SQL engines; named values where the engine
   * supports them, e.g. ClickHouse; query-string parameters for `http_api`).
   */
  params?: unknown[] | Record<string, unknown>;
  /**
   * Rows per batch for {@link Connector.extractStream}.
   * @default {10_000}
   */
  batchSize?: number;
  /** Connector-specific options (e.g. `endpoint` for `http_api`, `key` for `s3`). */
  [option: string]: unknown;
}

/** How `load` writes rows. */
export type LoadMode = "append" | "replace" | "upsert";

export interface LoadOptions {
  /** Target table, optionally schema-qualified (`raw.users`). */
  table: string;
  /**
   * `append` inserts; `replace` swaps in a new table atomically; `upsert` replaces rows whose
   * `mergeKey` matches and inserts the rest.
   * @default {"append"}
   */
  mode?: LoadMode;
  /** Column(s) identifying a row, required for `upsert`. */
  mergeKey?: string | string[];
  /** Connector-specific options (e.g. `format` for `s3`). */
  [option: string]: unknown;
}

/** Result of `execute`. */
export interface ExecuteResult {
  /** Rows affected (or returned), when the engine reports it. */
  rowCount: number;
  /** Rows returned by the statement, if any. */
  rows: Row[];
}

/** Rows in: an array, or an async iterable of batches for data that does not fit in memory. */
export type RowSource = Row[] | AsyncIterable<Row[]>;

/** One database session: statements run in order on the same connection. */
export interface SqlSession {
  execute(sql: string, params?: unknown[]): Promise<ExecuteResult>;
  /**
   * Runs several statements as one request, for engines that only keep a transaction within
   * one request (Snowflake's SQL API). Without it, statements are joined with `;` and sent
   * through {@link SqlSession.execute}.
   */
  executeScript?(statements: string[], params: unknown[]): Promise<void>;
}

export interface Connector extends AsyncDisposable {
  /** Connection name from tau.toml, or the connector type for inline connectors. */
  readonly name: string;
  readonly type: string;
  /** The SQL dialect, or null for connectors that do not speak SQL (http_api, s3). */
  readonly dialect: Dialect | null;
  /** Reads all rows into memory. */
  extract(options: ExtractOptions): Promise<Row[]>;
  /** Reads rows in batches. */
  extractStream(options: ExtractOptions): AsyncIterable<Row[]>;
  /** Writes rows in one transaction; resolves to the number of rows written. */
  load(rows: RowSource, options: LoadOptions): Promise<number>;
  /** Runs one statement with bound parameters. */
  execute(sql: string, params?: unknown[]): Promise<ExecuteResult>;
  /**
   * SQL connectors: runs `work` on a session of its own (one pooled connection held until
   * `work` settles), for statements that must share a transaction, a lock or temporary tables.
   */
  session?<T>(work: (session: SqlSession) => Promise<T>): Promise<T>;
  /** Checks the connection works (used by `tau connections --test`). */
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** Thrown for bad connector usage, e.g. `upsert` without `mergeKey`. */
export class ConnectorError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "ConnectorError";
  }
}
