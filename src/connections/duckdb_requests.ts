/**
 * The requests a run's `duckdb` connector may send, executed inside the run's engine process on
 * the sessions the daemon opened for it. Every reply is JSON text bounded in bytes: a result is
 * refused past REPLY_MAX_BYTES (read it with a cursor instead), and a cursor batch ends at its
 * batchSize or BATCH_BUDGET_BYTES, whichever comes first. Loads span several requests (begin,
 * batches, commit) so that streaming input stays bounded; they run inside one DuckDB transaction
 * and use the appender, DuckDB's fast path.
 */
import type { DuckDBAppender, DuckDBConnection } from "@duckdb/node-api";
import {
  createTableSql,
  inferColumns,
  quoteIdent,
  quoteTable,
  splitTable,
} from "../../sdk/connectors/_sql.ts";
import {
  DuckDBSession,
  type DuckDBTarget,
  MAX_BATCH_ROWS,
  MAX_QUERY_ROWS,
  toJson,
} from "./duckdb_service.ts";
import { BATCH_BUDGET_BYTES, REPLY_MAX_BYTES, type RequestLine } from "./engine_protocol.ts";
import { JsonRows } from "./json_rows.ts";

type Row = Record<string, unknown>;
type Params = unknown[] | Record<string, unknown>;

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
  iterator: AsyncIterator<Row[]>;
  /** JSON of rows read from DuckDB but not sent yet, from `next` on. */
  pending: string[];
  next: number;
  exhausted: boolean;
}

const q = (name: string) => quoteIdent("duckdb", name);
const MIB = 1024 * 1024;
/** Bytes of `{"rowCount":N,"rows":}` around an execute reply's rows. */
const EXECUTE_FRAME_BYTES = 64;

export class DuckDBRequests {
  #sessions = new Map<number, DuckDBSession>();
  #loads = new Map<number, LoadState>();
  #cursors = new Map<number, Cursor>();
  #nextId = 1;

  /** Registers a session with the target the daemon decided; it opens on first use. */
  open(session: number, target: DuckDBTarget): void {
    if (!this.#sessions.has(session)) this.#sessions.set(session, new DuckDBSession(target));
  }

  /** Serves one request; resolves with its reply value as JSON text. */
  async handle(request: RequestLine): Promise<string> {
    const a = request.args;
    const sql = () => String(a.sql);
    switch (request.op) {
      case "duckdb.query":
        return (await this.#allRows(this.#session(request), sql(), bindings(a.params), 0)).rows
          .text();
      case "duckdb.execute": {
        const { rows, first } = await this.#allRows(
          this.#session(request),
          sql(),
          bindings(a.params),
          EXECUTE_FRAME_BYTES,
        );
        const count = rows.count === 1 && typeof first?.Count === "number"
          ? first.Count
          : rows.count;
        return `{"rowCount":${count},"rows":${rows.text()}}`;
      }
      case "duckdb.cursor_open":
        return JSON.stringify(
          await this.#openCursor(this.#session(request), sql(), bindings(a.params)),
        );
      case "duckdb.cursor_next":
        return await this.#nextBatch(
          Number(a.cursor),
          Math.min(Number(a.batchSize) || 10_000, MAX_BATCH_ROWS),
        );
      case "duckdb.load_begin":
        return JSON.stringify(await this.#beginLoad(this.#session(request), a));
      case "duckdb.load_batch":
        return JSON.stringify(await this.#appendBatch(Number(a.load), asArray(a.rows) as Row[]));
      case "duckdb.load_commit":
        return JSON.stringify(await this.#commitLoad(Number(a.load)));
      case "duckdb.load_abort":
        return JSON.stringify(await this.#abortLoad(Number(a.load)));
      default:
        throw new Error(`Unknown request ${request.op}`);
    }
  }

  /** Stops running statements, then closes every database (rolling back open loads). */
  async closeAll(graceMs: number): Promise<void> {
    const sessions = [...this.#sessions.values()];
    for (const session of sessions) session.interrupt();
    const settled = Promise.allSettled(sessions.map((s) => s.settled()));
    await Promise.race([settled, new Promise((r) => setTimeout(r, graceMs))]);
    for (const session of sessions) session.close();
  }

  #session(request: RequestLine): DuckDBSession {
    const session = this.#sessions.get(request.session ?? -1);
    if (!session) throw new Error(`Unknown session ${request.session}`);
    return session;
  }

  /** Every row of a result as one JSON array, refused past MAX_QUERY_ROWS or the byte cap. */
  async #allRows(session: DuckDBSession, sql: string, params: Params, reserveBytes: number) {
    return await session.serialize(async (c) => {
      const result = await c.stream(sql, params as never[]);
      const rows = new JsonRows(REPLY_MAX_BYTES - reserveBytes);
      let first: Row | undefined;
      for await (const chunk of result.yieldRowObjectJs()) {
        for (const row of chunk) {
          if (rows.count >= MAX_QUERY_ROWS) {
            throw new Error(
              `The query returned more than ${MAX_QUERY_ROWS} rows; read large results with extractStream`,
            );
          }
          const json = toJson(row) as Row;
          first ??= json;
          if (!rows.tryAdd(JSON.stringify(json))) {
            throw new Error(
              `The query returned more than ${
                REPLY_MAX_BYTES / MIB
              } MiB of JSON; read large results with extractStream`,
            );
          }
        }
      }
      return { rows, first };
    });
  }

  async #openCursor(session: DuckDBSession, sql: string, params: Params) {
    const result = await session.serialize((c) => c.stream(sql, params as never[]));
    const id = this.#nextId++;
    this.#cursors.set(id, {
      iterator: result.yieldRowObjectJs()[Symbol.asyncIterator](),
      pending: [],
      next: 0,
      exhausted: false,
    });
    return { cursor: id };
  }

  /** Up to `size` rows, ending early at BATCH_BUDGET_BYTES; `done` once the result is read. */
  async #nextBatch(id: number, size: number): Promise<string> {
    const cursor = this.#cursors.get(id);
    if (!cursor) throw new Error(`Unknown cursor ${id}`);
    const batch = new JsonRows(REPLY_MAX_BYTES);
    while (batch.count < size) {
      if (cursor.next === cursor.pending.length && !(await fill(cursor))) break;
      const row = cursor.pending[cursor.next] as string;
      // A row larger than the budget travels alone, as long as it fits in a reply.
      if (!batch.tryAdd(row, batch.count === 0 ? REPLY_MAX_BYTES : BATCH_BUDGET_BYTES)) {
        if (batch.count > 0) break;
        throw new Error(`A row of the result is larger than ${REPLY_MAX_BYTES / MIB} MiB of JSON`);
      }
      cursor.next++;
    }
    const done = cursor.next === cursor.pending.length && !(await fill(cursor));
    if (done) this.#cursors.delete(id);
    return `{"rows":${batch.text()},"done":${done}}`;
  }

  async #beginLoad(session: DuckDBSession, p: Record<string, unknown>) {
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

/** Reads the cursor's next chunk from DuckDB; false when the result has no more rows. */
async function fill(cursor: Cursor): Promise<boolean> {
  if (cursor.exhausted) return false;
  const next = await cursor.iterator.next();
  if (next.done) {
    cursor.exhausted = true;
    return false;
  }
  cursor.pending = next.value.map((row) => JSON.stringify(toJson(row)));
  cursor.next = 0;
  return cursor.pending.length > 0 || await fill(cursor);
}

/** Positional (array) or named (object) parameters, as DuckDB accepts both. */
function bindings(value: unknown): Params {
  if (value && typeof value === "object" && !Array.isArray(value)) {
    return value as Record<string, unknown>;
  }
  return asArray(value);
}

function asArray(value: unknown): unknown[] {
  if (value === undefined || value === null) return [];
  return Array.isArray(value) ? value : [value];
}
