/**
 * DuckDB on the trusted side. Loading a native addon needs --allow-ffi and native code ignores
 * every Deno permission, so embedded DuckDB never runs inside a run: the run's `duckdb`
 * connector sends requests over its channel and this service executes them in an instance
 * locked down before the run's first statement (allowed_directories, no external access, no
 * extension installs, configuration locked).
 */
import type { DuckDBConnection, DuckDBInstance } from "@duckdb/node-api";
import { dirname, isAbsolute, resolve } from "node:path";

export interface DuckDBTarget {
  /** Database file, `:memory:`, or `md:NAME?motherduck_token=…`. */
  path: string;
  /** Directories statements may read and write (read_csv, COPY … TO). */
  allowedDirectories: string[];
  /**
   * Where DuckDB spills. DuckDB quietly adds its temp directory to `allowed_directories`, and
   * its default (`.tmp` beside the database, or under the daemon's working directory for
   * `:memory:`) is shared between runs; a folder in the run's scratch is neither.
   */
  tempDirectory: string;
  readOnly?: boolean;
}

type Row = Record<string, unknown>;

/** Rows one non-streaming query may return; the rest of a result must be streamed. */
export const MAX_QUERY_ROWS = 1_000_000;
/** Rows one cursor batch may hold. */
export const MAX_BATCH_ROWS = 100_000;
const MEMORY_LIMIT = "2GB";
const THREADS = 2;

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
  if (value instanceof Uint8Array) return btoa(String.fromCharCode(...value));
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
 * DuckDB is single-writer, and two instances of one file in one process would both hold its
 * (per-process) file lock. So a database file serves one run's session at a time: the next
 * run's first request waits until the previous session closes.
 */
const fileHolders = new Map<string, Promise<void>>();

async function holdFile(path: string): Promise<() => void> {
  if (path === ":memory:") return () => {};
  const previous = fileHolders.get(path) ?? Promise.resolve();
  let release!: () => void;
  const mine = new Promise<void>((resolve) => release = resolve);
  const chained = previous.then(() => mine);
  fileHolders.set(path, chained);
  await previous;
  return () => {
    release();
    if (fileHolders.get(path) === chained) fileHolders.delete(path);
  };
}

/** One locked-down DuckDB connection, opened on first use. */
export class DuckDBSession {
  #release: (() => void) | undefined;
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
    this.#release = await holdFile(path);
    const options: Record<string, string> = {
      autoinstall_known_extensions: "false",
      autoload_known_extensions: "false",
      temp_directory: this.target.tempDirectory,
    };
    if (this.target.readOnly) options.access_mode = "READ_ONLY";
    this.#instance = await DuckDBInstance.create(path, options);
    const connection = await this.#instance.connect();
    const dirs = this.target.allowedDirectories.map((d) => `'${d.replaceAll("'", "''")}'`);
    // The engine runs inside the daemon: bound what one run's queries may take from it.
    await connection.run(`SET memory_limit = '${MEMORY_LIMIT}'`);
    await connection.run(`SET threads = ${THREADS}`);
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
      for await (const chunk of result.yieldRowObjectJs()) {
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

  close(): void {
    try {
      this.#connection?.closeSync();
      this.#instance?.closeSync();
    } catch { /* already closed */ }
    this.#release?.();
    this.#release = undefined;
  }
}

/** Resolves a database path for a connection: relative paths are relative to `base`. */
export function resolveDatabasePath(path: string, base: string): string {
  if (path === ":memory:" || path.startsWith("md:")) return path;
  return isAbsolute(path) ? path : resolve(base, path);
}

/** The directories a file database lives in are not granted implicitly: only what is listed. */
export function databaseDirectory(path: string): string | null {
  return path === ":memory:" || path.startsWith("md:") ? null : dirname(path);
}
