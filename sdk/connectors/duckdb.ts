/**
 * DuckDB and MotherDuck. The engine is native code, which would ignore every sandbox
 * permission, so it runs outside the run's sandbox: in a DuckDB process Tau starts for this run
 * alone, held to the run's memory and CPU limits and locked to its allowed directories. This
 * connector is a proxy that sends each call over the run's channel.
 *
 * `extract` and `execute` return at most 1,000,000 rows or 16 MiB of JSON; read larger results
 * with `extractStream`, whose batches end at `batchSize` rows or about 4 MiB, whichever is first.
 *
 * @module
 */
import { request } from "../_channel.ts";
import { batches, peekFirst } from "./_sql.ts";
import type {
  Connector,
  ExecuteResult,
  ExtractOptions,
  LoadOptions,
  Row,
  RowSource,
  SqlSession,
} from "./types.ts";

/** Rows per load request; keeps each protocol line well under the parent's 1 MiB cap. */
const LOAD_BATCH_BYTES = 256 * 1024;
const SAMPLE_ROWS = 100;
const IN_FLIGHT = 4;

export interface DuckDBOptions {
  /**
   * Inline use only: a database file relative to the run's scratch folder, or `:memory:`.
   * Named connections take their path from tau.toml.
   * @default {":memory:"}
   */
  path?: string;
  /** Connection name (set by `ctx.connection`). @default {"duckdb"} */
  name?: string;
}

class DuckDBProxy implements Connector {
  readonly dialect = "duckdb" as const;
  readonly #target: Record<string, unknown>;

  constructor(readonly name: string, readonly type: string, target: Record<string, unknown>) {
    this.#target = target;
  }

  #call(op: string, payload: Record<string, unknown>): Promise<unknown> {
    return request(op, { connection: this.name, ...this.#target, ...payload });
  }

  async extract(options: ExtractOptions): Promise<Row[]> {
    return await this.#call("duckdb.query", {
      sql: requireQuery(options),
      params: options.params ?? [],
    }) as Row[];
  }

  async *extractStream(options: ExtractOptions): AsyncIterable<Row[]> {
    const { cursor } = await this.#call("duckdb.cursor_open", {
      sql: requireQuery(options),
      params: options.params ?? [],
    }) as { cursor: number };
    for (;;) {
      const { rows, done } = await this.#call("duckdb.cursor_next", {
        cursor,
        batchSize: options.batchSize ?? 10_000,
      }) as { rows: Row[]; done: boolean };
      if (rows.length > 0) yield rows;
      if (done) return;
    }
  }

  async load(source: RowSource, options: LoadOptions): Promise<number> {
    const mode = options.mode ?? "append";
    if (mode === "upsert" && (options.mergeKey === undefined || options.mergeKey.length === 0)) {
      throw new Error(`Cannot upsert into ${options.table}: mode "upsert" needs mergeKey`);
    }
    const { first, all } = await peekFirst(batches(source, 5_000));
    if (!first) return 0;
    const { load } = await this.#call("duckdb.load_begin", {
      table: options.table,
      mode,
      mergeKey: options.mergeKey ?? [],
      // Types are inferred from a sample; the rows themselves follow in size-bounded batches.
      sample: first.slice(0, SAMPLE_ROWS),
    }) as { load: number };
    // A few batches in flight keep both sides busy; the trusted side applies them in order.
    const inFlight: Promise<unknown>[] = [];
    try {
      for await (const batch of all) {
        for (const chunk of splitBySize(batch)) {
          inFlight.push(this.#call("duckdb.load_batch", { load, rows: chunk }));
          if (inFlight.length >= IN_FLIGHT) await inFlight.shift();
        }
      }
      await Promise.all(inFlight);
    } catch (err) {
      await Promise.allSettled(inFlight);
      await this.#call("duckdb.load_abort", { load }).catch(() => {});
      throw err;
    }
    const { rows } = await this.#call("duckdb.load_commit", { load }) as { rows: number };
    return rows;
  }

  async execute(sql: string, params: unknown[] = []): Promise<ExecuteResult> {
    return await this.#call("duckdb.execute", { sql, params }) as ExecuteResult;
  }

  // One DuckDB connection serves the whole run on Tau's side, so every call shares a session.
  session<T>(work: (session: SqlSession) => Promise<T>): Promise<T> {
    return work(this);
  }

  async ping(): Promise<void> {
    await this.extract({ query: "SELECT 1" });
  }

  async close(): Promise<void> {}

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

function requireQuery(options: ExtractOptions): string {
  if (typeof options.query !== "string") throw new Error("duckdb extract needs { query }");
  return options.query;
}

/** Splits a batch so each request stays small enough for the channel. */
function* splitBySize(rows: Row[]): Iterable<Row[]> {
  let chunk: Row[] = [];
  let size = 0;
  for (const row of rows) {
    const bytes = JSON.stringify(row).length;
    if (chunk.length > 0 && size + bytes > LOAD_BATCH_BYTES) {
      yield chunk;
      chunk = [];
      size = 0;
    }
    chunk.push(row);
    size += bytes;
  }
  if (chunk.length > 0) yield chunk;
}

/**
 * An inline DuckDB database living in the run's scratch folder (or in memory), run by the DuckDB
 * process Tau starts for the run. For a shared database file, configure a named connection in
 * tau.toml.
 *
 * @example
 * ```ts ignore
 * await using db = duckdb();
 * await db.execute("CREATE TABLE t AS SELECT 42 AS answer");
 * ```
 */
export function duckdb(options: DuckDBOptions = {}): Connector {
  return new DuckDBProxy(options.name ?? "duckdb", "duckdb", {
    inline_path: options.path ?? ":memory:",
  });
}

/** Internal: the proxy for a named connection (the trusted side knows its path). */
export function namedDuckDB(name: string, type: "duckdb" | "motherduck"): Connector {
  return new DuckDBProxy(name, type, {});
}
