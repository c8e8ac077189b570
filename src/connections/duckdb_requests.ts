/**
 * The requests a run's `duckdb` connector may send, executed on one run's DuckDB sessions.
 * Loads span several requests (begin, batches, commit) so that streaming input stays bounded;
 * they run inside one DuckDB transaction and use the appender, DuckDB's fast path.
 */
import type { DuckDBAppender, DuckDBConnection } from "@duckdb/node-api";
import {
  createTableSql,
  inferColumns,
  quoteIdent,
  quoteTable,
  splitTable,
} from "../../sdk/connectors/_sql.ts";
import { type DuckDBSession, MAX_BATCH_ROWS, toJson } from "./duckdb_service.ts";

type Row = Record<string, unknown>;

interface LoadState {
  session: DuckDBSession;
  table: string;
  mode: "append" | "replace" | "upsert";
  keys: string[];
  /** Where batches are appended: the target, its replacement, or a staging table. */
  into: string;
  columns: string[];
  written: number;
}

interface Cursor {
  session: DuckDBSession;
  iterator: AsyncIterator<Record<string, unknown>[]>;
  buffer: Row[];
}

const q = (name: string) => quoteIdent("duckdb", name);

export class DuckDBRequests {
  #loads = new Map<number, LoadState>();
  #cursors = new Map<number, Cursor>();
  #nextId = 1;

  constructor(private readonly sessionFor: (request: Record<string, unknown>) => DuckDBSession) {}

  async handle(op: string, p: Record<string, unknown>): Promise<unknown> {
    switch (op) {
      case "duckdb.query":
        return await this.sessionFor(p).query(String(p.sql), bindings(p.params));
      case "duckdb.execute": {
        const rows = await this.sessionFor(p).query(String(p.sql), bindings(p.params));
        const count = rows.length === 1 && typeof rows[0]?.Count === "number"
          ? rows[0].Count as number
          : rows.length;
        return { rowCount: count, rows };
      }
      case "duckdb.cursor_open":
        return this.#openCursor(p, String(p.sql), bindings(p.params));
      case "duckdb.cursor_next":
        return await this.#nextBatch(
          Number(p.cursor),
          Math.min(Number(p.batchSize) || 10_000, MAX_BATCH_ROWS),
        );
      case "duckdb.load_begin":
        return await this.#beginLoad(p);
      case "duckdb.load_batch":
        return await this.#appendBatch(Number(p.load), asArray(p.rows) as Row[]);
      case "duckdb.load_commit":
        return await this.#commitLoad(Number(p.load));
      case "duckdb.load_abort":
        return await this.#abortLoad(Number(p.load));
      default:
        throw new Error(`Unknown request ${op}`);
    }
  }

  async #openCursor(
    p: Record<string, unknown>,
    sql: string,
    params: unknown[] | Record<string, unknown>,
  ) {
    const session = this.sessionFor(p);
    const result = await session.serialize((c) => c.stream(sql, params as never[]));
    const id = this.#nextId++;
    this.#cursors.set(id, {
      session,
      iterator: result.yieldRowObjectJs()[Symbol.asyncIterator](),
      buffer: [],
    });
    return { cursor: id };
  }

  async #nextBatch(id: number, size: number) {
    const cursor = this.#cursors.get(id);
    if (!cursor) throw new Error(`Unknown cursor ${id}`);
    while (cursor.buffer.length < size) {
      const next = await cursor.iterator.next();
      if (next.done) break;
      for (const row of next.value) cursor.buffer.push(toJson(row) as Row);
    }
    const rows = cursor.buffer.splice(0, size);
    const done = rows.length < size;
    if (done) this.#cursors.delete(id);
    return { rows, done };
  }

  async #beginLoad(p: Record<string, unknown>) {
    const session = this.sessionFor(p);
    const table = String(p.table);
    const mode = (p.mode ?? "append") as LoadState["mode"];
    const keys = asArray(p.mergeKey).map(String);
    const sample = asArray(p.sample) as Row[];
    const id = this.#nextId++;
    const state = await session.serialize(async (c) => {
      await c.run("BEGIN TRANSACTION");
      try {
        const { schema } = splitTable(table);
        if (schema) await c.run(`CREATE SCHEMA IF NOT EXISTS ${q(schema)}`);
        const inferred = inferColumns(sample);
        let into = table;
        if (mode === "replace") {
          into = `${table}__tau_new`;
          await c.run(`DROP TABLE IF EXISTS ${quoteTable("duckdb", into)}`);
          await c.run(createTableSql("duckdb", into, inferred));
        } else {
          await c.run(createTableSql("duckdb", table, inferred));
        }
        if (mode === "upsert") {
          into = `tau_stage_${id}`;
          await c.run(
            `CREATE TEMP TABLE ${q(into)} AS SELECT * FROM ${quoteTable("duckdb", table)} LIMIT 0`,
          );
        }
        const columns = await tableColumns(c, into);
        return { session, table, mode, keys, into, columns, written: 0 } satisfies LoadState;
      } catch (err) {
        await c.run("ROLLBACK").catch(() => {});
        throw err;
      }
    });
    this.#loads.set(id, state);
    return { load: id };
  }

  async #appendBatch(id: number, rows: Row[]) {
    const state = this.#load(id);
    await state.session.serialize(async (c) => {
      const { schema, name } = splitTable(state.into);
      const appender = await c.createAppender(name, schema);
      try {
        for (const row of rows) appendRow(appender, state.columns, row);
        appender.closeSync();
      } catch (err) {
        try {
          appender.closeSync();
        } catch { /* the error above is the one to report */ }
        throw err;
      }
    }).catch(async (err) => {
      await this.#abortLoad(id);
      throw err;
    });
    state.written += rows.length;
    return { rows: state.written };
  }

  async #commitLoad(id: number) {
    const state = this.#load(id);
    try {
      await state.session.serialize(async (c) => {
        const target = quoteTable("duckdb", state.table);
        if (state.mode === "replace") {
          await c.run(`DROP TABLE IF EXISTS ${target}`);
          await c.run(
            `ALTER TABLE ${quoteTable("duckdb", state.into)} RENAME TO ${
              q(splitTable(state.table).name)
            }`,
          );
        } else if (state.mode === "upsert") {
          await upsertFromStage(c, target, q(state.into), state.keys, state.columns);
        }
        await c.run("COMMIT");
      });
    } catch (err) {
      await this.#abortLoad(id);
      throw err;
    }
    this.#loads.delete(id);
    return { rows: state.written };
  }

  async #abortLoad(id: number) {
    const state = this.#loads.get(id);
    this.#loads.delete(id);
    if (state) await state.session.serialize((c) => c.run("ROLLBACK")).catch(() => {});
    return { aborted: true };
  }

  #load(id: number): LoadState {
    const state = this.#loads.get(id);
    if (!state) throw new Error(`Unknown or finished load ${id}`);
    return state;
  }
}

async function tableColumns(c: DuckDBConnection, table: string): Promise<string[]> {
  const reader = await c.runAndReadAll(`DESCRIBE ${quoteTable("duckdb", table)}`);
  return reader.getRowObjectsJS().map((r) => String(r.column_name));
}

async function upsertFromStage(
  c: DuckDBConnection,
  target: string,
  stage: string,
  keys: string[],
  columns: string[],
) {
  const keyList = keys.map(q).join(", ");
  // A NULL key would never match and be inserted again on every run: refuse it, as the other
  // SQL connectors do.
  const nulls = await c.runAndReadAll(
    `SELECT count(*) AS n FROM ${stage} WHERE ${keys.map((k) => `${q(k)} IS NULL`).join(" OR ")}`,
  );
  if (Number(nulls.getRowObjectsJS()[0]?.n ?? 0) > 0) {
    throw new Error(
      `Cannot upsert: ${nulls.getRowObjectsJS()[0]?.n} row(s) have a NULL in ${keys.join(", ")}`,
    );
  }
  const dup = await c.runAndReadAll(
    `SELECT ${keyList} FROM ${stage} GROUP BY ${keyList} HAVING count(*) > 1 LIMIT 1`,
  );
  const [first] = dup.getRowObjectsJS();
  if (first) {
    const shown = keys.map((k) => `${k}=${JSON.stringify(toJson(first[k]))}`).join(", ");
    throw new Error(`Cannot upsert: more than one row has ${shown}`);
  }
  const match = keys.map((k) => `${target}.${q(k)} = ${stage}.${q(k)}`).join(" AND ");
  await c.run(`DELETE FROM ${target} WHERE EXISTS (SELECT 1 FROM ${stage} WHERE ${match})`);
  const cols = columns.map(q).join(", ");
  await c.run(`INSERT INTO ${target} (${cols}) SELECT ${cols} FROM ${stage}`);
}

/** Appends one row in the table's column order; DuckDB casts text to the column's type. */
function appendRow(appender: DuckDBAppender, columns: string[], row: Row): void {
  for (const column of columns) {
    const value = row[column];
    if (value === null || value === undefined) appender.appendNull();
    else if (typeof value === "boolean") appender.appendBoolean(value);
    else if (typeof value === "bigint") appender.appendBigInt(value);
    else if (typeof value === "number") {
      if (Number.isSafeInteger(value)) appender.appendBigInt(BigInt(value));
      else appender.appendDouble(value);
    } else if (typeof value === "string") appender.appendVarchar(value);
    else appender.appendVarchar(JSON.stringify(value));
  }
  appender.endRow();
}

/** Positional (array) or named (object) parameters, as DuckDB accepts both. */
function bindings(value: unknown): unknown[] | Record<string, unknown> {
  if (value && typeof value === "object" && !Array.isArray(value)) {
    return value as Record<string, unknown>;
  }
  return asArray(value);
}

function asArray(value: unknown): unknown[] {
  if (value === undefined || value === null) return [];
  return Array.isArray(value) ? value : [value];
}
