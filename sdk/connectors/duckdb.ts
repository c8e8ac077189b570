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
import { request, scratchFolder } from "../_channel.ts";
import { FILE_ROWS, LoadStager } from "./_duckdb_load.ts";
import { type ColumnType, inferColumns, withColumnTypes } from "./_columns.ts";
import { noChanges, onSchemaChangeOf, SchemaChangeError } from "./_schema.ts";
import { batches, mergeKeys, peekFirst } from "./_sql.ts";
import { checkColumns, checkKeysPresent } from "./_warehouse.ts";
import type {
  Connector,
  ExecuteResult,
  ExtractOptions,
  LoadOptions,
  LoadResult,
  Row,
  RowSource,
  SqlSession,
} from "./types.ts";

/** Staged files of a load the engine holds at once: one being read while the next is written. */
const FILES_IN_FLIGHT = 2;

type Typed = { columns: Record<string, ColumnType> };

/** Where an inline DuckDB database lives. */
export interface DuckDBOptions {
  /**
   * Inline use only: a database file relative to the run's scratch folder, or `:memory:`.
   * Named connections take their path from tau.toml.
   * @default {":memory:"}
   */
  path?: string;
  /**
   * Connection name reported as `connector.name` (`ctx.connection` sets the declared name).
   * @default {"duckdb"}
   */
  name?: string;
}

/** Sends one request to the trusted side and resolves with its reply (the run's channel). */
export type Send = (op: string, payload: Record<string, unknown>) => Promise<unknown>;

/** How the proxy reaches the trusted side: requests, and the folder loads stage files in. */
export interface DuckDBChannel {
  send: Send;
  /** The run's scratch folder, where its engine reads staged files. */
  scratch(): string;
}

const RUN_CHANNEL: DuckDBChannel = { send: request, scratch: scratchFolder };

class DuckDBProxy implements Connector {
  readonly dialect = "duckdb" as const;
  readonly #target: Record<string, unknown>;
  readonly #send: Send;
  readonly #scratch: () => string;

  constructor(
    readonly name: string,
    readonly type: string,
    target: Record<string, unknown>,
    channel: DuckDBChannel = RUN_CHANNEL,
  ) {
    this.#target = target;
    this.#send = channel.send;
    this.#scratch = channel.scratch;
  }

  async #call(op: string, payload: Record<string, unknown>): Promise<unknown> {
    try {
      return await this.#send(op, { connection: this.name, ...this.#target, ...payload });
    } catch (err) {
      // Raised again here, so its stack leads back to the pipeline's own call.
      throw new DuckDBError(err, payload);
    }
  }

  async extract(options: ExtractOptions): Promise<Row[]> {
    const { rows, columns } = await this.#call("duckdb.query", {
      sql: requireQuery(options),
      params: options.params ?? [],
      types: true,
    }) as Typed & { rows: Row[] };
    return withColumnTypes(rows, columns);
  }

  async *extractStream(options: ExtractOptions): AsyncIterable<Row[]> {
    const { cursor, columns } = await this.#call("duckdb.cursor_open", {
      sql: requireQuery(options),
      params: options.params ?? [],
      types: true,
    }) as Typed & { cursor: number };
    for (;;) {
      const { rows, done } = await this.#call("duckdb.cursor_next", {
        cursor,
        batchSize: options.batchSize ?? 10_000,
      }) as { rows: Row[]; done: boolean };
      if (rows.length > 0) yield withColumnTypes(rows, columns);
      if (done) return;
    }
  }

  async load(source: RowSource, options: LoadOptions): Promise<LoadResult> {
    const mode = options.mode ?? "append";
    const keys = mode === "upsert" ? mergeKeys(options.mergeKey, options.table) : [];
    const onSchemaChange = onSchemaChangeOf(options);
    const { first, all } = await peekFirst(batches(source, 5_000));
    if (!first) return { rows: 0, schema_changes: noChanges() };
    // The first batch fixes the columns and their types; the rows follow in bounded batches.
    const columns = inferColumns(first);
    checkKeysPresent(keys, columns, options.table);
    const begun = await this.#call("duckdb.load_begin", {
      table: options.table,
      mode,
      mergeKey: keys,
      onSchemaChange,
      columns,
    }) as { load: number } | { refused: Refusal };
    if ("refused" in begun) {
      const { message, hint, details } = begun.refused;
      throw new SchemaChangeError(message, hint, details);
    }
    const { load } = begun;
    const stager = new LoadStager(load, this.#scratch());
    const known = new Set(columns.map((column) => column.name));
    // The engine inserts a file while the next is written; it applies them in order.
    const inFlight: Promise<unknown>[] = [];
    const send = async (rows: Row[]) => {
      for (const text of stager.texts(rows)) {
        const file = await stager.write(text);
        const inserted = this.#call("duckdb.load_file", { load, file });
        inFlight.push(inserted.finally(() => stager.remove(file)));
        if (inFlight.length >= FILES_IN_FLIGHT) await inFlight.shift();
      }
    };
    try {
      // Small batches are gathered, so that a file (and a statement) carries many rows.
      let gathered: Row[] = [];
      for await (const batch of all) {
        checkColumns(batch, known, options.table);
        gathered = gathered.length === 0 ? batch : gathered.concat(batch);
        if (gathered.length < FILE_ROWS) continue;
        await send(gathered);
        gathered = [];
      }
      await send(gathered);
      await Promise.all(inFlight);
    } catch (err) {
      await Promise.allSettled(inFlight);
      await this.#call("duckdb.load_abort", { load }).catch(() => {});
      throw err;
    }
    return await this.#call("duckdb.load_commit", { load }) as LoadResult;
  }

  async execute(sql: string, params: unknown[] = []): Promise<ExecuteResult> {
    const { columns, ...result } = await this.#call("duckdb.execute", {
      sql,
      params,
      types: true,
    }) as ExecuteResult & Typed;
    withColumnTypes(result.rows, columns);
    return result;
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

/** A failed DuckDB request, with the statement (or load table) it was about. */
class DuckDBError extends Error {
  readonly statement: string | undefined;
  readonly table: string | undefined;

  constructor(cause: unknown, payload: Record<string, unknown>) {
    super(cause instanceof Error ? cause.message : String(cause), { cause });
    this.name = "DuckDBError";
    this.statement = typeof payload.sql === "string" ? payload.sql : undefined;
    this.table = typeof payload.table === "string" ? payload.table : undefined;
  }
}

function requireQuery(options: ExtractOptions): string {
  if (typeof options.query !== "string") throw new Error("duckdb extract needs { query }");
  return options.query;
}

/** A schema change the engine refused, sent as a reply so it is raised here as itself. */
type Refusal = { message: string; hint: string; details: SchemaChangeError["details"] };

/**
 * An inline DuckDB database living in the run's scratch folder (or in memory), run by the DuckDB
 * process Tau starts for the run. For a shared database file, configure a named connection in
 * tau.toml.
 *
 * @example Scratch SQL in memory (no `net` needed)
 * ```ts
 * import { pipeline } from "tau";
 * import { duckdb } from "tau/connectors";
 *
 * export default pipeline({ name: "scratch_sql" }, async () => {
 *   await using db = duckdb();
 *   await db.execute("CREATE TABLE t AS SELECT 42 AS answer");
 *   const [row] = await db.extract({ query: "SELECT answer FROM t" });
 *   return { answer: row?.answer };
 * });
 * ```
 */
export function duckdb(options: DuckDBOptions = {}): Connector {
  return new DuckDBProxy(options.name ?? "duckdb", "duckdb", {
    inline_path: options.path ?? ":memory:",
  });
}

/** Internal: the proxy for a named connection (the trusted side knows its path). */
export function namedDuckDB(
  name: string,
  type: "duckdb" | "motherduck",
  channel?: DuckDBChannel,
): Connector {
  return new DuckDBProxy(name, type, {}, channel);
}
