/**
 * The one interface every connector implements, whether it reaches a warehouse, an HTTP API
 * or object storage. Values are always bound parameters; identifiers are always quoted.
 *
 * @module
 */
import type { OnSchemaChange } from "../materialize/config.ts";

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

/** What `load` does when the rows' columns differ from the table's (as for materializations). */
export type { OnSchemaChange };

/** Where and how `load` writes. Connectors without tables document their own fields. */
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
  /**
   * When the rows' columns differ from the existing table's: `append_new_columns` adds new
   * columns; `sync_all_columns` also drops the columns the rows lack and widens a column whose
   * values no longer fit its type; `ignore` writes only the columns the table has; `fail`
   * refuses any difference. Except with `sync_all_columns`, a column whose values would not fit
   * its type (rounded, truncated or refused) is refused. Columns the rows lack are kept: an
   * upsert never overwrites them, an append leaves them NULL. `replace` rebuilds the table from
   * the rows (only `fail` refuses a difference there).
   * @default {"append_new_columns"}
   */
  onSchemaChange?: OnSchemaChange;
  /** Connector-specific options (e.g. `format` for `s3`). */
  [option: string]: unknown;
}

/** How a load changed the target table's columns; every list is empty when nothing changed. */
export interface SchemaChanges {
  /** Columns of the rows that the table did not have, added to it. */
  added: { column: string; type: string }[];
  /** Columns of the table that the rows lack (kept as they are). */
  missing: string[];
  /** Columns of the table removed (`sync_all_columns`, or a `replace` whose rows lack them). */
  dropped: string[];
  /** Columns of the rows not written because the table lacks them (`ignore`). */
  ignored: string[];
  /** Columns whose type changed: the table's type before and after. */
  type_changes: { column: string; from: string; to: string }[];
}

/** Result of `load`. */
export interface LoadResult {
  /** Rows written. */
  rows: number;
  /** What changed in the table's columns; null for connectors without tables (s3, http_api). */
  schema_changes: SchemaChanges | null;
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
  /** Runs one statement with bound parameters on this session's connection. */
  execute(sql: string, params?: unknown[]): Promise<ExecuteResult>;
  /**
   * Runs several statements as one request, for engines that only keep a transaction within
   * one request (Snowflake's SQL API). Without it, statements are joined with `;` and sent
   * through {@link SqlSession.execute}.
   */
  executeScript?(statements: string[], params: unknown[]): Promise<void>;
}

/**
 * A connection to one system: what `ctx.connection(name)` and the inline connector functions
 * return. Open it with `await using` so it closes when the block ends; a connector opens its
 * network connection on first use, not when it is created.
 */
export interface Connector extends AsyncDisposable {
  /** Connection name from tau.toml; for inline connectors, the `name` option or the type. */
  readonly name: string;
  /** Connector type, as named in tau.toml: `postgres`, `duckdb`, `s3`, `http_api`, … */
  readonly type: string;
  /** The SQL dialect, or null for connectors that do not speak SQL (http_api, s3). */
  readonly dialect: Dialect | null;
  /** Reads all rows into memory. */
  extract(options: ExtractOptions): Promise<Row[]>;
  /** Reads rows in batches. */
  extractStream(options: ExtractOptions): AsyncIterable<Row[]>;
  /** Writes rows in one transaction; resolves to the rows written and the schema changes. */
  load(rows: RowSource, options: LoadOptions): Promise<LoadResult>;
  /** Runs one statement with bound parameters. */
  execute(sql: string, params?: unknown[]): Promise<ExecuteResult>;
  /**
   * SQL connectors: runs `work` on a session of its own (one pooled connection held until
   * `work` settles), for statements that must share a transaction, a lock or temporary tables.
   */
  session?<T>(work: (session: SqlSession) => Promise<T>): Promise<T>;
  /** Checks the connection works (used by `tau connections --test`). */
  ping(): Promise<void>;
  /** Closes the connection (and its pool); `await using` calls it for you. */
  close(): Promise<void>;
}

/** Thrown for bad connector usage, e.g. `upsert` without `mergeKey`. */
export class ConnectorError extends Error {
  /** Makes the error; `options.cause` keeps the driver's own error. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "ConnectorError";
  }
}
