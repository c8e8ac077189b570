/**
 * One locked-down DuckDB database. Loading a native addon needs --allow-ffi and native code
 * ignores every Deno permission, so embedded DuckDB never runs inside a run: it runs in the
 * run's own engine process (engine_main.ts), which opens each session the daemon names with the
 * target the daemon decided, locked down before the run's first statement (allowed_directories,
 * no external access, no extension installs, its memory and threads bounded, configuration
 * locked).
 */
import { base64 } from "../core/base64.ts";
import type { DuckDBConnection, DuckDBInstance, DuckDBValueConverter, JS } from "@duckdb/node-api";

export interface DuckDBTarget {
  /** Database file, `:memory:`, or `md:NAME?motherduck_token=…`. */
  path: string;
  /** Directories statements may read and write (read_csv, COPY … TO). */
  allowedDirectories: string[];
  /** The run's scratch folder, where the engine sees it: loads read their staged rows there. */
  scratch: string;
  /**
   * Where DuckDB spills. DuckDB quietly adds its temp directory to `allowed_directories`, and
   * its default (`.tmp` beside the database, or under the daemon's working directory for
   * `:memory:`) is shared between runs; a folder in the run's scratch is neither.
   */
  tempDirectory: string;
  readOnly?: boolean;
  /** DuckDB's `memory_limit`, in MiB. @default {2048} */
  memoryLimitMb?: number;
  /** DuckDB's worker threads. @default {2} */
  threads?: number;
}

type Row = Record<string, unknown>;

/** A SQL string literal. */
export const sqlText = (text: string): string => `'${text.replaceAll("'", "''")}'`;

/** Rows one non-streaming query may return; the rest of a result must be streamed. */
export const MAX_QUERY_ROWS = 1_000_000;
/** Rows one cursor batch may hold. */
export const MAX_BATCH_ROWS = 100_000;

/** Converts DuckDB's JS values to plain JSON: safe bigints as numbers, dates as ISO text. */
export function toJson(value: unknown): unknown {
  if (value === null || value === undefined) return null;
  if (typeof value === "bigint") {
    return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER)
      ? Number(value)
      : value.toString();
  }
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return value.map(toJson);
  if (value instanceof Uint8Array) return base64(value);
  if (typeof value === "object") {
    const proto = Object.getPrototypeOf(value);
    if (proto === Object.prototype || proto === null) {
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, toJson(v)]));
    }
    return String(value);
  }
  return value;
}

/**
 * DuckDB's JS values, except that a DECIMAL is a number only when that number is exactly the
 * decimal (else its exact text), and a DATE is `YYYY-MM-DD` text (as the other connectors give
 * it), not a Date at midnight UTC.
 */
async function loadExactValues(): Promise<DuckDBValueConverter<JS>> {
  // Loaded as the sessions load it: on first use, never in the daemon.
  const { DuckDBTypeId, JSDuckDBValueConverter } = await import("@duckdb/node-api");
  return (value, type, converter) => {
    if (value === null) return null;
    if (type.typeId === DuckDBTypeId.DECIMAL) return exactDecimal(String(value));
    if (type.typeId === DuckDBTypeId.DATE) return String(value);
    return JSDuckDBValueConverter(value, type, converter);
  };
}
let exact: Promise<DuckDBValueConverter<JS>> | undefined;
/** The converter every result is read with. */
export const exactValues = (): Promise<DuckDBValueConverter<JS>> => exact ??= loadExactValues();

/** `"11.50"` → 11.5; `"12345678901234567.89"` stays text (no JS number is exactly it). */
export function exactDecimal(text: string): number | string {
  const n = Number(text);
  let canonical = text.includes(".") ? text.replace(/0+$/, "").replace(/\.$/, "") : text;
  canonical = canonical.replace(/^(-?)0+(?=\d)/, "$1");
  if (canonical === "-0") canonical = "0";
  return Number.isFinite(n) && String(n) === canonical ? n : text;
}

/** One locked-down DuckDB connection, opened on first use. */
export class DuckDBSession {
  #instance: DuckDBInstance | undefined;
  #connection: DuckDBConnection | undefined;
  #opening: Promise<DuckDBConnection> | undefined;
  #queue: Promise<unknown> = Promise.resolve();

  constructor(readonly target: DuckDBTarget) {}

  connection(): Promise<DuckDBConnection> {
    this.#opening ??= this.#open();
    return this.#opening;
  }

  async #open(): Promise<DuckDBConnection> {
    const { DuckDBInstance } = await import("@duckdb/node-api");
    const { path } = this.target;
    const options: Record<string, string> = {
      autoinstall_known_extensions: "false",
      autoload_known_extensions: "false",
      temp_directory: this.target.tempDirectory,
    };
    if (this.target.readOnly) options.access_mode = "READ_ONLY";
    this.#instance = await DuckDBInstance.create(path, options);
    const connection = await this.#instance.connect();
    const dirs = this.target.allowedDirectories.map(sqlText);
    // Bounded by the run's own limits (see engine_launch.ts), so a query spills or fails with
    // DuckDB's out-of-memory error before the run's memory limit is reached.
    await connection.run(`SET memory_limit = '${this.target.memoryLimitMb ?? 2048}MiB'`);
    await connection.run(`SET threads = ${this.target.threads ?? 2}`);
    // Order matters: allow-list first, then switch external access off, then lock everything.
    await connection.run(`SET allowed_directories = [${dirs.join(", ")}]`);
    await connection.run("SET enable_external_access = false");
    await connection.run("SET lock_configuration = true");
    this.#connection = connection;
    return connection;
  }

  /** Runs work on the connection one request at a time (DuckDB connections are not shared). */
  serialize<T>(work: (c: DuckDBConnection) => Promise<T>): Promise<T> {
    const next = this.#queue.then(async () => work(await this.connection()));
    this.#queue = next.catch(() => {});
    return next;
  }

  /** All rows of a query, refused past {@link MAX_QUERY_ROWS} (use a cursor for more). */
  async query(sql: string, params: unknown[] | Record<string, unknown> = []): Promise<Row[]> {
    return await this.serialize(async (c) => {
      const result = await c.stream(sql, params as never[]);
      const rows: Row[] = [];
      for await (const chunk of result.yieldConvertedRowObjects(await exactValues())) {
        for (const row of chunk) rows.push(toJson(row) as Row);
        if (rows.length > MAX_QUERY_ROWS) {
          throw new Error(
            `The query returned more than ${MAX_QUERY_ROWS} rows; read large results with extractStream`,
          );
        }
      }
      return rows;
    });
  }

  /** Settles once the work queued so far has finished (or failed). */
  settled(): Promise<unknown> {
    return this.#queue;
  }

  /** Asks a running statement to stop (DuckDB checks between vectors). */
  interrupt(): void {
    this.#connection?.interrupt();
  }

  /** Closes the connection and the database (checkpointing a file database). */
  close(): void {
    try {
      this.#connection?.closeSync();
      this.#instance?.closeSync();
    } catch { /* already closed */ }
  }
}
