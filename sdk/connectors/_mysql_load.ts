/** Loads of the MySQL connector: batched multi-row INSERTs in one transaction per load. */
import type { PoolConnection, ResultSetHeader } from "mysql2/promise";
import { inferColumns, type InferredColumn } from "./_columns.ts";
import {
  noChanges,
  onSchemaChangeOf,
  planSchema,
  schemaDdl,
  type SchemaPlan,
  type TargetColumn,
} from "./_schema.ts";
import {
  assertUniqueKeys,
  batches,
  bindValue,
  createTableSql,
  mergeKeys,
  peekFirst,
  quoteIdent,
  quoteTable,
  splitTable,
} from "./_sql.ts";
import { checkColumns } from "./_warehouse.ts";
import {
  ConnectorError,
  type LoadOptions,
  type LoadResult,
  type Row,
  type RowSource,
} from "./types.ts";

/** mysql2's type for bound values; ours are normalized by bindValue/bindFor first. */
type Values = Parameters<PoolConnection["execute"]>[1];

export const DEFAULT_BATCH = 10_000;

export function fail(message: string): never {
  throw new ConnectorError(`mysql: ${message}`);
}

/** The protocol counts a statement's placeholders in 16 bits. */
const MAX_PLACEHOLDERS = 65_535;
/** Upper bound for one INSERT; also kept under a quarter of the server's max_allowed_packet. */
const MAX_STATEMENT_BYTES = 4 << 20;
const TEMPORAL = new Set(["date", "datetime", "timestamp"]);
const ZONED = /^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}(?::\d{2})?)(\.\d+)?(Z|[+-]\d{2}:?\d{2})$/i;

const q = (table: string) => quoteTable("mysql", table);
const qi = (column: string) => quoteIdent("mysql", column);

/** What one load carries along: its connection, statement size budget, statements used. */
interface Target {
  conn: PoolConnection;
  budget: number;
  statements: Set<string>;
  /** The columns written (the first batch fixes them). */
  columns: string[];
  /** Every column of the first batch: a later row with another one is refused. */
  known: Set<string>;
}

/** `db.t` → `db.t__tau_new`, shortened with a hash beyond MySQL's 64-character names. */
function sibling(table: string, suffix: string): string {
  const { schema, name } = splitTable(table);
  let base = name;
  if (base.length + suffix.length > 64) {
    let hash = 0x811c9dc5; // FNV-1a
    for (const ch of name) hash = Math.imul(hash ^ (ch.codePointAt(0) ?? 0), 0x01000193) >>> 0;
    base = name.slice(0, 64 - suffix.length - 9) + "_" + hash.toString(16).padStart(8, "0");
  }
  return (schema === null ? "" : schema + ".") + base + suffix;
}

/** The table's columns with their COLUMN_TYPE, in order; null when no such table. */
async function targetColumns(conn: PoolConnection, table: string): Promise<TargetColumn[] | null> {
  const { schema, name } = splitTable(table);
  const [rows] = await conn.execute(
    "SELECT COLUMN_NAME AS c, COLUMN_TYPE AS t FROM information_schema.COLUMNS " +
      "WHERE TABLE_SCHEMA = COALESCE(?, DATABASE()) AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION",
    [schema, name],
  );
  const columns = (rows as { c: string; t: string }[]).map((r) => ({ name: r.c, type: r.t }));
  return columns.length > 0 ? columns : null;
}

/** Column name (lower case: MySQL compares them so) → DATA_TYPE; empty when no such table. */
async function columnTypes(conn: PoolConnection, table: string): Promise<Map<string, string>> {
  const columns = await targetColumns(conn, table) ?? [];
  return new Map(columns.map((c) => [c.name.toLowerCase(), /^\w+/.exec(c.type)![0].toLowerCase()]));
}

/**
 * Creates the table when missing, else brings its columns in line with the plan (MySQL DDL
 * commits at once, so this happens before the load's transaction). True when it created it.
 */
async function prepareTable(
  conn: PoolConnection,
  table: string,
  columns: InferredColumn[],
  plan: SchemaPlan,
  exists: boolean,
): Promise<boolean> {
  if (!exists) {
    const [result] = await conn.query(createTableSql("mysql", table, columns));
    // IF NOT EXISTS on a table created meanwhile succeeds with warning 1050.
    return (result as ResultSetHeader).warningStatus === 0;
  }
  for (const ddl of schemaDdl("mysql", q(table), plan)) await conn.query(ddl);
  return false;
}

async function drop(conn: PoolConnection, table: string): Promise<void> {
  await conn.query(`DROP TABLE IF EXISTS ${q(table)}`);
}

/** `2024-05-01T10:00:00.5+02:00` → `2024-05-01 08:00:00.5`: MySQL refuses zone suffixes. */
function utcText(text: string): string | null {
  const m = ZONED.exec(text);
  if (m === null) return null;
  const zone = (m[4] ?? "").toUpperCase();
  const ms = Date.parse(
    `${m[1]}T${m[2]}${zone.length === 5 ? `${zone.slice(0, 3)}:${zone.slice(3)}` : zone}`,
  );
  if (Number.isNaN(ms)) return null;
  return new Date(ms).toISOString().slice(0, 19).replace("T", " ") + (m[3] ?? "").slice(0, 7);
}

/** A value bound for a column of a known type (DATA_TYPE), undefined when unknown. */
function bindFor(value: unknown, type: string | undefined): unknown {
  if (type !== undefined && TEMPORAL.has(type)) {
    if (value instanceof Date) return value; // sent as DATETIME in UTC (driver timezone "Z")
    if (typeof value === "string" && type !== "date") return utcText(value) ?? value;
  }
  return bindValue(value);
}

/** Upper bound of a bound value's bytes on the wire (UTF-16 unit → at most 3 UTF-8 bytes). */
function sizeOf(value: unknown): number {
  if (typeof value === "string") return value.length * 3 + 9;
  if (value instanceof Uint8Array) return value.byteLength + 9;
  return 21;
}

/** Multi-row INSERTs bounded by the placeholder limit and the statement byte budget. */
async function insertRows(t: Target, table: string, rows: Row[], types: Map<string, string>) {
  const columns = t.columns;
  if (columns.length === 0) fail(`rows loaded into ${table} have no columns`);
  checkColumns(rows, t.known, table, "mysql: ");
  const kinds = columns.map((c) => types.get(c.toLowerCase()));
  const maxRows = Math.floor(MAX_PLACEHOLDERS / columns.length);
  const head = `INSERT INTO ${q(table)} (${columns.map(qi).join(", ")}) VALUES `;
  const tuple = `(${columns.map(() => "?").join(", ")})`;
  let values: unknown[] = [];
  let count = 0;
  let bytes = 0;
  const flush = async () => {
    const sql = head + new Array(count).fill(tuple).join(", ");
    t.statements.add(sql);
    await t.conn.execute(sql, values as Values);
    values = [];
    count = 0;
    bytes = 0;
  };
  for (const row of rows) {
    let size = 0;
    const bound = columns.map((c, i) => {
      const value = bindFor(row[c], kinds[i]);
      size += sizeOf(value);
      return value;
    });
    if (count > 0 && (count >= maxRows || bytes + size > t.budget)) await flush();
    for (const value of bound) values.push(value);
    count++;
    bytes += size;
  }
  if (count > 0) await flush();
}

/** Runs `work` in a transaction; on failure rolls back, runs `undo` and rethrows. */
async function transaction<T>(
  conn: PoolConnection,
  work: () => Promise<T>,
  undo: () => Promise<void>,
): Promise<T> {
  try {
    await conn.beginTransaction();
    const result = await work();
    await conn.commit();
    return result;
  } catch (error) {
    await conn.rollback().catch(() => conn.destroy());
    await undo().catch(() => {});
    throw error;
  }
}

async function append(
  t: Target,
  table: string,
  prepared: { created: boolean },
  all: AsyncIterable<Row[]>,
) {
  const types = await columnTypes(t.conn, table);
  return await transaction(t.conn, async () => {
    let n = 0;
    for await (const batch of all) {
      await insertRows(t, table, batch, types);
      n += batch.length;
    }
    return n;
  }, () => prepared.created ? drop(t.conn, table) : Promise.resolve());
}

/**
 * Fills `<table>__tau_new`, then swaps it in with one atomic RENAME. MySQL DDL commits
 * implicitly, so the original table is only touched by that final RENAME.
 */
async function replace(
  t: Target,
  table: string,
  columns: InferredColumn[] | null,
  all: AsyncIterable<Row[]>,
  exists: boolean,
) {
  const { conn } = t;
  const fresh = sibling(table, "__tau_new");
  const old = sibling(table, "__tau_old");
  if (columns === null && !exists) return 0;
  // Leftovers of a replace interrupted before its cleanup.
  await conn.query(`DROP TABLE IF EXISTS ${q(fresh)}, ${q(old)}`);
  await conn.query(
    columns === null
      ? `CREATE TABLE ${q(fresh)} LIKE ${q(table)}` // no rows: replace with an empty table
      : createTableSql("mysql", fresh, columns),
  );
  const types = await columnTypes(conn, fresh);
  const count = await transaction(conn, async () => {
    let n = 0;
    for await (const batch of all) {
      await insertRows(t, fresh, batch, types);
      n += batch.length;
    }
    return n;
  }, () => drop(conn, fresh));
  try {
    await conn.query(
      exists
        ? `RENAME TABLE ${q(table)} TO ${q(old)}, ${q(fresh)} TO ${q(table)}`
        : `RENAME TABLE ${q(fresh)} TO ${q(table)}`,
    );
  } catch (error) {
    await drop(conn, fresh).catch(() => {});
    throw error;
  }
  await drop(conn, old).catch(() => {}); // the data is in place; the next replace retries this
  return count;
}

/** Best effort: an index on the staged keys lets the join probe the batch, not scan it. */
async function indexKeys(
  conn: PoolConnection,
  stage: string,
  keys: string[],
  types: Map<string, string>,
) {
  const stringy = (k: string) =>
    /char|text|blob|binary|json/.test(types.get(k.toLowerCase()) ?? "");
  // Prefixes keep the key under InnoDB's 3072-byte limit (4 bytes per utf8mb4 character).
  const prefix = Math.max(8, Math.floor(500 / Math.max(1, keys.filter(stringy).length)));
  const parts = keys.map((k) => stringy(k) ? `${qi(k)}(${prefix})` : qi(k));
  await conn.query(`ALTER TABLE ${q(stage)} ADD INDEX tau_merge_key (${parts.join(", ")})`)
    .catch(() => {}); // the merge is still correct without it, only slower
}

/**
 * Per batch: stage it in a temporary table (no implicit commit), update the target rows with
 * the same keys — only the columns the rows carry, so a column they lack keeps its value — and
 * insert the others. A NULL key is refused, as by the other SQL connectors: it could never
 * match, so the row would be inserted again on every run.
 */
async function upsert(
  t: Target,
  table: string,
  keys: string[],
  prepared: { created: boolean },
  all: AsyncIterable<Row[]>,
  checkEach: boolean,
) {
  const { conn } = t;
  const types = await columnTypes(conn, table);
  const missing = keys.filter((k) => !types.has(k.toLowerCase()));
  if (missing.length > 0) fail(`mergeKey ${missing.join(", ")} is not a column of ${table}`);
  const stage = sibling(table, "__tau_stage");
  await conn.query(`DROP TEMPORARY TABLE IF EXISTS ${q(stage)}`);
  await conn.query(`CREATE TEMPORARY TABLE ${q(stage)} LIKE ${q(table)}`);
  const cols = t.columns.map(qi).join(", ");
  const on = keys.map((k) => `t.${qi(k)} = s.${qi(k)}`).join(" AND ");
  const others = t.columns.filter((c) => !keys.includes(c));
  const update = others.length === 0
    ? null
    : `UPDATE ${q(table)} AS t JOIN ${q(stage)} AS s ON ${on} SET ${
      others.map((c) => `t.${qi(c)} = s.${qi(c)}`).join(", ")
    }`;
  // Matched rows leave the stage once updated; the rest are new. Each join probes the stage's
  // key index (the target may have none), so a batch costs one pass over the target.
  const matched = `DELETE s FROM ${q(stage)} AS s JOIN ${q(table)} AS t ON ${on}`;
  const insert = `INSERT INTO ${q(table)} (${cols}) SELECT ${cols} FROM ${q(stage)}`;
  try {
    await indexKeys(conn, stage, keys, types);
    return await transaction(conn, async () => {
      let n = 0;
      for await (const batch of all) {
        if (checkEach) assertUniqueKeys(batch, keys, table);
        const nullKey = batch.find((row) =>
          keys.some((k) => row[k] === null || row[k] === undefined)
        );
        if (nullKey) {
          fail(`Cannot upsert into ${table}: a row has NULL in mergeKey ${keys.join(", ")}`);
        }
        await insertRows(t, stage, batch, types);
        if (update) await conn.query(update);
        await conn.query(matched);
        await conn.query(insert);
        await conn.query(`DELETE FROM ${q(stage)}`);
        n += batch.length;
      }
      return n;
    }, () => prepared.created ? drop(conn, table) : Promise.resolve());
  } finally {
    await conn.query(`DROP TEMPORARY TABLE IF EXISTS ${q(stage)}`).catch(() => {});
  }
}

export async function loadRows(
  conn: PoolConnection,
  rows: RowSource,
  opts: LoadOptions,
  maxPacket: number,
): Promise<LoadResult> {
  const table = opts.table;
  if (typeof table !== "string" || table === "") fail("load needs a table");
  const mode = opts.mode ?? "append";
  if (mode !== "append" && mode !== "replace" && mode !== "upsert") {
    fail(`unknown load mode "${String(mode)}" (append, replace or upsert)`);
  }
  const onSchemaChange = onSchemaChangeOf(opts);
  const keys = mode === "upsert" ? mergeKeys(opts.mergeKey, table) : [];
  if (mode === "upsert" && Array.isArray(rows)) assertUniqueKeys(rows, keys, table);
  const { first, all } = await peekFirst(batches(rows, DEFAULT_BATCH));
  const budget = Math.min(MAX_STATEMENT_BYTES, Math.floor(maxPacket / 4));
  const columns = first === null ? null : inferColumns(first);
  const names = columns?.map((c) => c.name) ?? [];
  for (const k of keys) {
    if (!names.includes(k)) {
      fail(`mergeKey "${k}" is not a column of the rows loaded into ${table}`);
    }
  }
  const target = await targetColumns(conn, table);
  if (columns === null) {
    if (mode !== "replace") return { rows: 0, schema_changes: noChanges() };
  }
  const plan = columns === null ? null : planSchema({
    dialect: "mysql",
    table,
    mode,
    onSchemaChange,
    source: columns,
    target,
    keys,
  });
  const t: Target = {
    conn,
    budget,
    statements: new Set(),
    columns: (plan?.write ?? []).map((c) => c.name),
    known: new Set(names),
  };
  const done = (n: number) => ({ rows: n, schema_changes: plan?.changes ?? noChanges() });
  try {
    if (mode === "replace") return done(await replace(t, table, columns, all, target !== null));
    const prepared = {
      created: await prepareTable(conn, table, columns!, plan!, target !== null),
    };
    if (mode === "upsert") {
      return done(await upsert(t, table, keys, prepared, all, !Array.isArray(rows)));
    }
    return done(await append(t, table, prepared, all));
  } finally {
    // Multi-row INSERTs are one-off statements: free their server-side slots now.
    for (const sql of t.statements) {
      try {
        conn.unprepare(sql);
      } catch { /* connection already gone */ }
    }
  }
}
