/**
 * The requests a run's `duckdb` connector may send, executed inside the run's engine process on
 * the sessions the daemon opened for it. Every reply is JSON text bounded in bytes: a result is
 * refused past REPLY_MAX_BYTES (read it with a cursor instead), and a cursor batch ends at its
 * batchSize or BATCH_BUDGET_BYTES, whichever comes first. Loads span several requests (begin,
 * files, commit) inside one DuckDB transaction. Their rows never cross the channel: the run
 * stages each batch as a JSON file in its scratch folder and DuckDB's own JSON reader inserts it,
 * typed by the table's columns, in one statement.
 */
import { join } from "node:path";
import type { DuckDBConnection, DuckDBResult, DuckDBType } from "@duckdb/node-api";
import type { ColumnType, InferredColumn } from "../../sdk/connectors/_columns.ts";
import { duckdbColumnType } from "../../sdk/connectors/_declared.ts";
import {
  planSchema,
  SchemaChangeError,
  schemaDdl,
  type TargetColumn,
} from "../../sdk/connectors/_schema.ts";
import { createTableSql, quoteIdent, quoteTable, splitTable } from "../../sdk/connectors/_sql.ts";
import { LOAD_FOLDER } from "../../sdk/connectors/_duckdb_load.ts";
import type { OnSchemaChange, SchemaChanges } from "../../sdk/connectors/types.ts";
import {
  DuckDBSession,
  type DuckDBTarget,
  exactValues,
  MAX_BATCH_ROWS,
  MAX_QUERY_ROWS,
  sqlText,
  toJson,
} from "./duckdb_service.ts";
import { BATCH_BUDGET_BYTES, REPLY_MAX_BYTES, type RequestLine } from "./engine_protocol.ts";
import { JsonRows } from "./json_rows.ts";
import type { RequestArgs, RequestOp } from "./request_schemas.ts";

type Row = Record<string, unknown>;
type Params = unknown[] | Record<string, unknown>;

interface LoadState {
  session: DuckDBSession;
  table: string;
  mode: "append" | "replace" | "upsert";
  keys: string[];
  /** Where batches are appended: the target, its replacement, or a staging table. */
  into: string;
  /** The columns of `into` and their types: what each staged row is read as. */
  columns: TargetColumn[];
  /** The columns the rows write (an upsert updates only these). */
  write: string[];
  changes: SchemaChanges;
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

  /**
   * Serves one request; resolves with its reply value as JSON text. Its arguments passed the
   * op's schema in the daemon (request_schemas.ts) before they were sent here.
   */
  async handle(request: RequestLine): Promise<string> {
    const op = request.op as RequestOp;
    switch (op) {
      case "duckdb.query": {
        const a = argsOf(request, op);
        const reserve = a.types ? TYPES_FRAME_BYTES : 0;
        const { rows, columns } = await this.#allRows(
          this.#session(request),
          a.sql,
          bindings(a.params),
          reserve,
        );
        return a.types ? `{"columns":${columns},"rows":${rows.text()}}` : rows.text();
      }
      case "duckdb.execute": {
        const a = argsOf(request, op);
        const { rows, first, columns } = await this.#allRows(
          this.#session(request),
          a.sql,
          bindings(a.params),
          EXECUTE_FRAME_BYTES + (a.types ? TYPES_FRAME_BYTES : 0),
        );
        const count = rows.count === 1 && typeof first?.Count === "number"
          ? first.Count
          : rows.count;
        const types = a.types ? `,"columns":${columns}` : "";
        return `{"rowCount":${count},"rows":${rows.text()}${types}}`;
      }
      case "duckdb.cursor_open": {
        const a = argsOf(request, op);
        const { cursor, columns } = await this.#openCursor(
          this.#session(request),
          a.sql,
          bindings(a.params),
        );
        return a.types ? `{"cursor":${cursor},"columns":${columns}}` : `{"cursor":${cursor}}`;
      }
      case "duckdb.cursor_next": {
        const a = argsOf(request, op);
        return await this.#nextBatch(a.cursor, Math.min(a.batchSize ?? 10_000, MAX_BATCH_ROWS));
      }
      case "duckdb.load_begin":
        return JSON.stringify(
          await this.#beginLoad(this.#session(request), argsOf(request, op)),
        );
      case "duckdb.load_file": {
        const a = argsOf(request, op);
        return JSON.stringify(await this.#insertFile(a.load, a.file));
      }
      case "duckdb.load_commit":
        return JSON.stringify(await this.#commitLoad(argsOf(request, op).load));
      case "duckdb.load_abort":
        return JSON.stringify(await this.#abortLoad(argsOf(request, op).load));
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
      for await (const chunk of result.yieldConvertedRowObjects(await exactValues())) {
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
      return { rows, first, columns: resultTypes(result) };
    });
  }

  async #openCursor(session: DuckDBSession, sql: string, params: Params) {
    const result = await session.serialize((c) => c.stream(sql, params as never[]));
    const id = this.#nextId++;
    this.#cursors.set(id, {
      iterator: result.yieldConvertedRowObjects(await exactValues())[Symbol.asyncIterator](),
      pending: [],
      next: 0,
      exhausted: false,
    });
    return { cursor: id, columns: resultTypes(result) };
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

  /**
   * Opens a load: one transaction in which the target's columns are brought in line with the
   * rows (see sdk/connectors/_schema.ts) and the rows appended. A refused schema change is a
   * reply (`refused`), not an error, so the run raises the connector's own SchemaChangeError.
   */
  async #beginLoad(session: DuckDBSession, p: RequestArgs["duckdb.load_begin"]) {
    const table = p.table;
    const mode = p.mode ?? "append";
    const keys = p.mergeKey === undefined ? [] : asArray(p.mergeKey).map(String);
    const source: InferredColumn[] = p.columns;
    const onSchemaChange: OnSchemaChange = p.onSchemaChange ?? "append_new_columns";
    const id = this.#nextId++;
    const state = await session.serialize(async (c) => {
      await c.run("BEGIN TRANSACTION");
      try {
        const { schema } = splitTable(table);
        if (schema) await c.run(`CREATE SCHEMA IF NOT EXISTS ${q(schema)}`);
        const target = await targetColumns(c, table);
        const plan = planSchema({
          dialect: "duckdb",
          table,
          mode,
          onSchemaChange,
          source,
          target,
          keys,
        });
        const write = plan.write.map((col) => col.name);
        let into = table;
        if (mode === "replace") {
          into = `${table}__tau_new`;
          await c.run(`DROP TABLE IF EXISTS ${quoteTable("duckdb", into)}`);
          await c.run(createTableSql("duckdb", into, source));
        } else if (target === null) {
          await c.run(createTableSql("duckdb", table, source));
        } else {
          for (const ddl of schemaDdl("duckdb", quoteTable("duckdb", table), plan)) {
            await c.run(ddl);
          }
        }
        if (mode === "upsert") {
          into = `tau_stage_${id}`;
          await c.run(
            `CREATE TEMP TABLE ${q(into)} AS SELECT ${write.map(q).join(", ")} FROM ${
              quoteTable("duckdb", table)
            } LIMIT 0`,
          );
        }
        // The stage holds exactly the written columns, typed as in the target (a temporary
        // table is not among the database's own columns).
        const typed = (await targetColumns(c, mode === "upsert" ? table : into)) ?? [];
        const columns = mode === "upsert" ? typed.filter((col) => write.includes(col.name)) : typed;
        return {
          session,
          table,
          mode,
          keys,
          into,
          columns,
          write,
          changes: plan.changes,
          written: 0,
        } satisfies LoadState;
      } catch (err) {
        await c.run("ROLLBACK").catch(() => {});
        throw err;
      }
    }).catch((err) => {
      if (!(err instanceof SchemaChangeError)) throw err;
      return { refused: { message: err.message, hint: err.hint, details: err.details } };
    });
    if ("refused" in state) return state;
    this.#loads.set(id, state);
    return { load: id };
  }

  /**
   * Inserts a file of rows the run staged (a JSON array of objects): DuckDB reads each column
   * as the table's type, and a key the table does not have is not read.
   */
  async #insertFile(id: number, file: string) {
    const state = this.#load(id);
    const path = join(state.session.target.scratch, LOAD_FOLDER, file);
    const columns = state.columns.map((col) => q(col.name)).join(", ");
    const types = state.columns.map((col) => `${sqlText(col.name)}: ${sqlText(readAs(col.type))}`);
    const added = await state.session.serialize(async (c) => {
      const result = await c.run(
        `INSERT INTO ${quoteTable("duckdb", state.into)} (${columns}) SELECT ${columns} ` +
          `FROM read_json(${sqlText(path)}, format = 'array', columns = {${types.join(", ")}})`,
      );
      return Number(result.rowsChanged);
    }).catch(async (err) => {
      await this.#abortLoad(id);
      throw new Error(loadErrorMessage(err, state.written));
    });
    state.written += added;
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
          await upsertFromStage(c, target, q(state.into), state.keys, state.write);
        }
        await c.run("COMMIT");
      });
    } catch (err) {
      await this.#abortLoad(id);
      throw err;
    }
    this.#loads.delete(id);
    return { rows: state.written, schema_changes: state.changes };
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

/** A table's columns and types, in order; null when it does not exist. */
async function targetColumns(c: DuckDBConnection, table: string): Promise<TargetColumn[] | null> {
  const { schema, name } = splitTable(table);
  const reader = await c.runAndReadAll(
    `SELECT column_name AS name, data_type AS type FROM duckdb_columns()
      WHERE table_name = $name AND schema_name = coalesce($schema, current_schema())
        AND database_name = current_database()
      ORDER BY column_index`,
    { name, schema },
  );
  const columns = reader.getRowObjectsJS().map((r) => ({
    name: String(r.name),
    type: String(r.type),
  }));
  return columns.length > 0 ? columns : null;
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
  // Only the staged columns are updated: a column the rows lack keeps its value.
  const match = keys.map((k) => `${target}.${q(k)} = ${stage}.${q(k)}`).join(" AND ");
  const others = columns.filter((c) => !keys.includes(c));
  if (others.length > 0) {
    const set = others.map((c) => `${q(c)} = ${stage}.${q(c)}`).join(", ");
    await c.run(`UPDATE ${target} SET ${set} FROM ${stage} WHERE ${match}`);
  }
  const cols = columns.map(q).join(", ");
  await c.run(
    `INSERT INTO ${target} (${cols}) SELECT ${cols} FROM ${stage} ` +
      `WHERE NOT EXISTS (SELECT 1 FROM ${target} WHERE ${match})`,
  );
}

/**
 * The type a staged column is read as. A JSON column is read as text, as the other connectors
 * load it: a string is the document's text, anything else is written as its JSON.
 */
const readAs = (type: string) => type === "JSON" ? "VARCHAR" : type;

/**
 * DuckDB's error about a staged file, told as the load's: a value that does not fit its column
 * is a Conversion error naming its row (counted over the whole load), without the file's path or
 * the JSON reader's advice on its own options.
 */
function loadErrorMessage(err: unknown, before: number): string {
  const message = err instanceof Error ? err.message : String(err);
  return message
    .replace(/\n?Try setting 'auto_detect'[^\n]*/, "")
    .replace(
      /^Invalid Input Error: JSON transform error in file "[^"]*", in record\/value (\d+):/,
      (_, n) => `Conversion Error: row ${before + Number(n)} of the load:`,
    );
}

/** Bytes of `{"columns":…}` around rows: a few per column, far below this. */
const TYPES_FRAME_BYTES = 64 * 1024;

/** A result's column types as JSON text (`{"amount":{"kind":"decimal",…}}`). */
function resultTypes(result: DuckDBResult): string {
  const types: Record<string, ColumnType> = {};
  const names = result.deduplicatedColumnNames();
  result.columnTypes().forEach((type: DuckDBType, i: number) => {
    const decimal = type as { width?: number; scale?: number };
    const known = duckdbColumnType({
      typeId: type.typeId,
      alias: type.alias,
      width: decimal.width,
      scale: decimal.scale,
    });
    if (known && names[i] !== undefined) types[names[i]] = known;
  });
  return JSON.stringify(types);
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
/** The request's arguments, typed by its op (the daemon validated them with the op's schema). */
function argsOf<Op extends RequestOp>(request: RequestLine, _op: Op): RequestArgs[Op] {
  return request.args as RequestArgs[Op];
}

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
