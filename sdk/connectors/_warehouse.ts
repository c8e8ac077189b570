/**
 * Plumbing shared by the HTTP warehouse connectors (ClickHouse, BigQuery, Snowflake): one
 * `fetch` wrapper that `close()` can abort, a line splitter for streamed bodies, re-batching,
 * and the checks and names every staged load uses.
 *
 * @module
 */
import { inferColumns, type InferredColumn } from "./_columns.ts";
import {
  onSchemaChangeOf,
  planSchema,
  schemaDdl,
  type SchemaPlan,
  type TargetColumn,
} from "./_schema.ts";
import {
  batches,
  createTableSql,
  mergeKeys,
  peekFirst,
  quoteIdent,
  quoteTable,
  splitTable,
} from "./_sql.ts";
import {
  ConnectorError,
  type Dialect,
  type ExecuteResult,
  type LoadMode,
  type LoadOptions,
  type Row,
  type RowSource,
} from "./types.ts";
import { errorText } from "../_error_text.ts";

/** The fetches of one connector; `close()` aborts those in flight and refuses new ones. */
export class HttpSession {
  #abort = new AbortController();
  #closed = false;

  /** `label` starts every error message (the connection name). */
  constructor(readonly label: string) {}

  /** `fetch` with the session's abort signal; network failures become ConnectorErrors. */
  async fetch(url: URL, init: RequestInit): Promise<Response> {
    if (this.#closed) throw new ConnectorError(`${this.label}: the connector is closed`);
    try {
      return await fetch(url, { ...init, signal: this.#abort.signal });
    } catch (error) {
      if (this.#closed) throw new ConnectorError(`${this.label}: the connector is closed`);
      // The origin only: URLs never hold credentials, but paths and queries need not be shown.
      const reason = errorText(error);
      throw new ConnectorError(`${this.label}: cannot reach ${url.origin}: ${reason}`, {
        cause: error,
      });
    }
  }

  /** Aborts requests in flight; later calls throw. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#abort.abort();
  }
}

/** Reads a body as text, at most `limit` characters (error bodies can be large pages). */
export async function readText(response: Response, limit = 4_000): Promise<string> {
  const text = await response.text().catch(() => "");
  return text.length > limit ? text.slice(0, limit) + "…" : text;
}

/** Splits a streamed UTF-8 body into lines (without `\n`/`\r\n`); empty lines are skipped. */
export async function* lines(body: ReadableStream<Uint8Array>): AsyncIterable<string> {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let rest = "";
  try {
    while (true) {
      const { done, value } = await reader.read();
      if (done) break;
      rest += value;
      let start = 0;
      for (let end = rest.indexOf("\n"); end !== -1; end = rest.indexOf("\n", start)) {
        const line = rest.slice(start, end).replace(/\r$/, "");
        start = end + 1;
        if (line !== "") yield line;
      }
      rest = rest.slice(start);
    }
    if (rest.trim() !== "") yield rest;
  } finally {
    // Stopping early (a consumer's `break`) must release the connection.
    await reader.cancel().catch(() => {});
  }
}

/** Regroups rows arriving in pages of any size into batches of exactly `size` (the last may be smaller). */
export async function* rebatch(pages: AsyncIterable<Row[]>, size: number): AsyncIterable<Row[]> {
  let batch: Row[] = [];
  for await (const page of pages) {
    for (const row of page) {
      batch.push(row);
      if (batch.length === size) {
        yield batch;
        batch = [];
      }
    }
  }
  if (batch.length > 0) yield batch;
}

/** `batchSize` of extract options, checked. */
export function batchSizeOf(value: unknown, label: string, fallback = 10_000): number {
  const size = value ?? fallback;
  if (typeof size !== "number" || !Number.isInteger(size) || size < 1) {
    throw new ConnectorError(`${label}: batchSize must be a positive integer`);
  }
  return size;
}

/** The query of extract options, checked. */
export function queryOf(query: unknown, label: string): string {
  if (typeof query !== "string" || query.trim() === "") {
    throw new ConnectorError(`${label}: extract needs a query`);
  }
  return query;
}

/** The load mode, checked. */
export function modeOf(options: LoadOptions): LoadMode {
  const mode = options.mode ?? "append";
  if (mode !== "append" && mode !== "replace" && mode !== "upsert") {
    throw new ConnectorError(`Cannot load into ${options.table}: unknown mode "${mode}"`);
  }
  if (typeof options.table !== "string" || options.table.split(".").some((p) => p === "")) {
    throw new ConnectorError(`Cannot load into ${options.table}: table must be a non-empty name`);
  }
  return mode;
}

/** Refuses merge keys that are not columns of the rows (the engine's error would be vaguer). */
export function checkKeysPresent(keys: string[], columns: InferredColumn[], table: string): void {
  const names = new Set(columns.map((c) => c.name));
  for (const key of keys) {
    if (!names.has(key)) {
      throw new ConnectorError(
        `Cannot upsert into ${table}: mergeKey column "${key}" is not in the rows`,
      );
    }
  }
}

/**
 * Refuses a row with a column the first batch did not have: the first batch fixes the columns.
 * `prefix` starts the message (`mysql: `).
 */
export function checkColumns(
  rows: Row[],
  known: ReadonlySet<string>,
  table: string,
  prefix = "",
): void {
  for (const row of rows) {
    for (const key in row) {
      if (known.has(key)) continue;
      throw new ConnectorError(
        `${prefix}Cannot load into ${table}: column "${key}" is not in the first batch ` +
          "(the first batch fixes the columns; give them all there, null where unknown)",
      );
    }
  }
}

/** A table next to `table` in the same schema/dataset: `raw.users` → `raw.users__tau_stage`. */
export function sibling(table: string, suffix: string): string {
  const { schema, name } = splitTable(table);
  return schema === null ? name + suffix : `${schema}.${name}${suffix}`;
}

/** Rows per INSERT: `batchSize` from load options, capped so one statement binds ≤ `maxParams`. */
export function rowsPerInsert(
  options: LoadOptions,
  columns: number,
  fallback: number,
  maxParams: number,
): number {
  const wanted = batchSizeOf(options.batchSize, `Cannot load into ${options.table}`, fallback);
  return Math.max(1, Math.min(wanted, Math.floor(maxParams / Math.max(columns, 1))));
}

/** A value as bound text: Dates as ISO 8601, objects as JSON; null and undefined give null. */
export function textOf(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  if (typeof value === "string") return value;
  if (value instanceof Date) return value.toISOString();
  if (typeof value === "object" && !(value instanceof Uint8Array)) return JSON.stringify(value);
  return String(value);
}

/** Integer text as a number when exact, else the text unchanged (BIGINT beyond 2^53). */
export function exactInteger(text: string): number | string {
  const n = Number(text);
  return Number.isSafeInteger(n) ? n : text;
}

/** Duplicate merge keys across batches are only visible once all rows are staged. */
export async function refuseStagedDuplicates(
  query: (sql: string) => Promise<Row[]>,
  dialect: Dialect,
  staged: string,
  keys: string[],
  table: string,
): Promise<void> {
  const keyList = keys.map((k) => quoteIdent(dialect, k)).join(", ");
  const [duplicate] = await query(
    `SELECT ${keyList} FROM ${staged} GROUP BY ${keyList} HAVING COUNT(*) > 1 LIMIT 1`,
  );
  if (duplicate) {
    const values = JSON.stringify(keys.map((k) => duplicate[k] ?? null)).slice(1, -1);
    throw new ConnectorError(
      `Cannot upsert into ${table}: more than one row has ${keys.join(", ")} = ${values}`,
    );
  }
}

/** One MERGE from a staged table: update matching keys' other columns, insert the rest. */
export function mergeSql(
  dialect: Dialect,
  target: string,
  staged: string,
  columns: InferredColumn[],
  keys: string[],
): string {
  const id = (name: string) => quoteIdent(dialect, name);
  const on = keys.map((k) => `tgt.${id(k)} = src.${id(k)}`).join(" AND ");
  const others = columns.filter((c) => !keys.includes(c.name));
  const update = others.length === 0
    ? ""
    : ` WHEN MATCHED THEN UPDATE SET ${
      others.map((c) => `${id(c.name)} = src.${id(c.name)}`).join(", ")
    }`;
  const names = columns.map((c) => id(c.name));
  // BigQuery writes `MERGE t`, Snowflake `MERGE INTO t`.
  const into = dialect === "bigquery" ? "" : "INTO ";
  return `MERGE ${into}${target} AS tgt USING ${staged} AS src ON ${on}${update} ` +
    `WHEN NOT MATCHED THEN INSERT (${names.join(", ")}) VALUES (${
      names.map((n) => `src.${n}`).join(", ")
    })`;
}

/** A string literal (backslash escapes: ClickHouse, BigQuery and Snowflake all read them). */
export function sqlString(text: string): string {
  return `'${text.replaceAll("\\", "\\\\").replaceAll("'", "\\'")}'`;
}

/**
 * The schema-change policy for a staged load (see _schema.ts): reads the target's columns, plans,
 * then creates the target (append, upsert) or runs the plan's DDL on it. A replace builds its own
 * table, so it is only planned.
 */
export async function evolveTarget(
  dialect: Dialect,
  options: LoadOptions,
  columns: InferredColumn[],
  keys: string[],
  target: { columns(): Promise<TargetColumn[] | null>; run(sql: string): Promise<void> },
): Promise<SchemaPlan> {
  const mode = modeOf(options);
  const onSchemaChange = onSchemaChangeOf(options);
  const existing = await target.columns();
  const plan = planSchema({
    dialect,
    table: options.table,
    mode,
    onSchemaChange,
    source: columns,
    target: existing,
    keys,
  });
  if (mode === "replace") return plan;
  if (existing === null) await target.run(createTableSql(dialect, options.table, columns));
  for (const ddl of schemaDdl(dialect, quoteTable(dialect, options.table), plan)) {
    await target.run(ddl);
  }
  return plan;
}

/** A staged load under way: its mode, merge keys, the rows' columns and the plan applied. */
export interface StartedLoad {
  mode: LoadMode;
  keys: string[];
  /** The columns inferred from the first batch. */
  inferred: InferredColumn[];
  plan: SchemaPlan;
  /** Every batch, the first included. */
  all: AsyncIterable<Row[]>;
}

/**
 * The steps every staged load starts with: the mode and merge keys, a peek at the first batch
 * to infer the columns (the keys must be among them), then the schema-change policy on the
 * target (see {@link evolveTarget}). No rows: a replace empties the target, and null is returned.
 */
export async function startStagedLoad(
  dialect: Dialect,
  source: RowSource,
  options: LoadOptions,
  target: {
    batchRows: number;
    columns(): Promise<TargetColumn[] | null>;
    run(sql: string): Promise<void>;
    empty(): Promise<void>;
  },
): Promise<StartedLoad | null> {
  const mode = modeOf(options);
  const keys = mode === "upsert" ? mergeKeys(options.mergeKey, options.table) : [];
  const { first, all } = await peekFirst(batches(source, target.batchRows));
  if (first === null) {
    // Nothing to infer columns from: replacing with no rows empties an existing table.
    if (mode === "replace") await target.empty();
    return null;
  }
  const inferred = inferColumns(first);
  checkKeysPresent(keys, inferred, options.table);
  const plan = await evolveTarget(dialect, options, inferred, keys, target);
  return { mode, keys, inferred, plan, all };
}

/**
 * What the HTTP warehouse connectors share around their own requests: one {@link HttpSession}
 * that `close()` aborts, `ping` as `SELECT 1`, and `await using`.
 */
export abstract class HttpWarehouse {
  protected readonly http: HttpSession;

  constructor(readonly name: string) {
    this.http = new HttpSession(name);
  }

  abstract execute(sql: string, params?: unknown[]): Promise<ExecuteResult>;

  async ping(): Promise<void> {
    await this.execute("SELECT 1");
  }

  close(): Promise<void> {
    this.http.close();
    return Promise.resolve();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
