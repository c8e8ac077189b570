/**
 * `load` for the PostgreSQL and Redshift connectors. Each load is one transaction: PostgreSQL
 * streams rows with `COPY … FROM STDIN` (text format), Redshift gets multi-row INSERTs.
 *
 * @module
 */
import { once } from "node:events";
import type { Writable } from "node:stream";
import type pg from "postgres";
import { inferColumns, type InferredColumn } from "./_columns.ts";
import {
  noChanges,
  onSchemaChangeOf,
  planSchema,
  schemaDdl,
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

/** The connection pool as the connectors hold it. */
export type PgSql = pg.Sql;
type Tx = pg.TransactionSql;
type Flavor = "postgres" | "redshift";

/** Rows per COPY chunk (and per batch when the source is an array). */
const BATCH_ROWS = 10_000;
/** The protocol counts bind parameters in 16 bits. */
const MAX_PARAMS = 65_535;
const MAX_INSERT_ROWS = 5_000;
/** PostgreSQL truncates identifiers longer than this many bytes. */
const MAX_IDENT_BYTES = 63;
const NEW_SUFFIX = "__tau_new";

interface Table {
  schema: string;
  name: string;
}

/** Writes all batches into `into` (a quoted name); `like` is the table whose column types it has. */
type Writer = (
  tx: Tx,
  into: string,
  columns: string[],
  source: AsyncIterable<Row[]>,
  like: Table,
) => Promise<number>;

/** Runs `load` for a connector: see {@link LoadOptions} for the modes. */
export async function loadRows(
  sql: PgSql,
  flavor: Flavor,
  defaultSchema: string | null,
  rows: RowSource,
  options: LoadOptions,
): Promise<LoadResult> {
  const label = options.table;
  const mode = options.mode ?? "append";
  if (mode !== "append" && mode !== "replace" && mode !== "upsert") {
    throw new ConnectorError(`Cannot load into ${label}: unknown mode "${mode}"`);
  }
  const onSchemaChange = onSchemaChangeOf(options);
  const keys = mode === "upsert" ? mergeKeys(options.mergeKey, label) : [];
  const parts = splitTable(options.table);
  const schema = parts.schema ?? defaultSchema;
  if (parts.name === "" || schema === "" || schema?.includes(".")) {
    throw new ConnectorError(`Cannot load into ${label}: expected "table" or "schema.table"`);
  }

  const { first, all } = await peekFirst(batches(rows, BATCH_ROWS));
  if (first === null) {
    if (mode !== "replace") return { rows: 0, schema_changes: noChanges() };
    // Nothing to infer columns from: replacing with no rows empties an existing table.
    return await sql.begin(async (tx: Tx) => {
      const table = await resolve(tx, schema, parts.name);
      if (await targetColumns(tx, table)) await tx.unsafe(`DELETE FROM ${q(flavor, table)}`);
      return { rows: 0, schema_changes: noChanges() };
    });
  }

  const columns = inferColumns(first);
  const names = columns.map((c) => c.name);
  for (const key of keys) {
    if (!names.includes(key)) {
      throw new ConnectorError(
        `Cannot upsert into ${label}: mergeKey column "${key}" is not in the rows`,
      );
    }
  }
  const source = checked(all, new Set(names), keys, label);
  const write: Writer = flavor === "postgres" ? copyRows : insertRows;

  return await sql.begin(async (tx: Tx) => {
    const table = await resolve(tx, schema, parts.name);
    await ensureSchema(tx, flavor, table.schema);
    const target = await targetColumns(tx, table);
    const plan = planSchema({
      dialect: flavor,
      table: `${table.schema}.${table.name}`,
      mode,
      onSchemaChange,
      source: columns,
      target,
      keys,
    });
    const done = (count: number) => ({ rows: count, schema_changes: plan.changes });
    if (mode === "replace") return done(await replace(tx, flavor, table, columns, source, write));
    if (target === null) await tx.unsafe(createSql(flavor, table, columns));
    for (const ddl of schemaDdl(flavor, q(flavor, table), plan)) await tx.unsafe(ddl);
    const written = plan.write.map((c) => c.name);
    if (mode === "append") return done(await write(tx, q(flavor, table), written, source, table));
    return done(await upsert(tx, flavor, table, written, keys, source, write, label));
  });
}

/** Builds the new table beside the old one, then swaps it in; readers never see a gap. */
async function replace(
  tx: Tx,
  flavor: Flavor,
  table: Table,
  columns: InferredColumn[],
  source: AsyncIterable<Row[]>,
  write: Writer,
): Promise<number> {
  const fresh = { schema: table.schema, name: newName(table.name) };
  await tx.unsafe(`DROP TABLE IF EXISTS ${q(flavor, fresh)}`);
  await tx.unsafe(createSql(flavor, fresh, columns));
  const count = await write(tx, q(flavor, fresh), columns.map((c) => c.name), source, fresh);
  await tx.unsafe(`DROP TABLE IF EXISTS ${q(flavor, table)}`);
  await tx.unsafe(`ALTER TABLE ${q(flavor, fresh)} RENAME TO ${quoteIdent(flavor, table.name)}`);
  return count;
}

/**
 * Stages rows, refuses duplicate or NULL keys, updates the matching rows' staged columns (and
 * only those: a column the rows lack keeps its value) and inserts the rest.
 */
async function upsert(
  tx: Tx,
  flavor: Flavor,
  table: Table,
  columns: string[],
  keys: string[],
  source: AsyncIterable<Row[]>,
  write: Writer,
  label: string,
): Promise<number> {
  const id = (name: string) => quoteIdent(flavor, name);
  const target = q(flavor, table);
  const stage = id("__tau_stage");
  const cols = columns.map(id).join(", ");
  const keyCols = keys.map(id).join(", ");
  // Redshift has no ON COMMIT DROP; its stage is dropped explicitly below.
  const onCommit = flavor === "postgres" ? " ON COMMIT DROP" : "";
  await tx.unsafe(
    `CREATE TEMP TABLE ${stage}${onCommit} AS SELECT ${cols} FROM ${target} WHERE 1 = 0`,
  );
  const count = await write(tx, stage, columns, source, table);

  const [duplicate] = await tx.unsafe(
    `SELECT ${keyCols} FROM ${stage} GROUP BY ${keyCols} HAVING count(*) > 1 LIMIT 1`,
  );
  if (duplicate) {
    const values = JSON.stringify(keys.map((k) => duplicate[k] ?? null)).slice(1, -1);
    throw new ConnectorError(
      `Cannot upsert into ${label}: more than one row has ${keys.join(", ")} = ${values}`,
    );
  }
  const nullKey = keys.map((k) => `${id(k)} IS NULL`).join(" OR ");
  const [withNull] = await tx.unsafe(`SELECT 1 AS found FROM ${stage} WHERE ${nullKey} LIMIT 1`);
  if (withNull) {
    throw new ConnectorError(
      `Cannot upsert into ${label}: a row has NULL in mergeKey ${keys.join(", ")}`,
    );
  }

  const match = keys.map((k) => `t.${id(k)} = s.${id(k)}`).join(" AND ");
  const others = columns.filter((c) => !keys.includes(c));
  if (others.length > 0) {
    const set = others.map((c) => `${id(c)} = s.${id(c)}`).join(", ");
    await tx.unsafe(`UPDATE ${target} AS t SET ${set} FROM ${stage} AS s WHERE ${match}`);
  }
  await tx.unsafe(
    `INSERT INTO ${target} (${cols}) SELECT ${columns.map((c) => `s.${id(c)}`).join(", ")} ` +
      `FROM ${stage} AS s WHERE NOT EXISTS (SELECT 1 FROM ${target} AS t WHERE ${match})`,
  );
  if (flavor === "redshift") await tx.unsafe(`DROP TABLE ${stage}`);
  return count;
}

/** Per batch: refuses columns the first batch did not have and (upsert) duplicate keys. */
async function* checked(
  source: AsyncIterable<Row[]>,
  columns: Set<string>,
  keys: string[],
  label: string,
): AsyncIterable<Row[]> {
  for await (const rows of source) {
    checkColumns(rows, columns, label);
    if (keys.length > 0) assertUniqueKeys(rows, keys, label);
    yield rows;
  }
}

// --- PostgreSQL: COPY FROM STDIN ----------------------------------------------------------------

/** Streams batches through one `COPY … FROM STDIN`, with backpressure. */
const copyRows: Writer = async (tx, into, columns, source) => {
  const cols = columns.map((c) => quoteIdent("postgres", c)).join(", ");
  const query = tx.unsafe(`COPY ${into} (${cols}) FROM STDIN`);
  const stream = await query.writable();
  const done = copyOutcome(query, stream);
  let sent = 0;
  try {
    for await (const rows of source) {
      if (stream.destroyed) break; // the server refused a row; `done` holds its error
      sent += rows.length;
      if (!stream.write(copyText(rows, columns))) {
        await Promise.race([once(stream, "drain"), done]);
      }
    }
  } catch (error) {
    // CopyFail takes the connection out of COPY mode so the ROLLBACK can run. The source's
    // error message stays out of it: it would land in the server log.
    stream.destroy(new Error("load aborted"));
    await done.catch(() => {});
    throw error;
  }
  stream.end();
  const copied = await done;
  if (copied !== sent) {
    throw new ConnectorError(`COPY into ${into} stored ${copied} rows instead of ${sent}`);
  }
  return sent;
};

/**
 * postgres.js 3.4.9 settles a COPY query with its stream, so an error the server reports after
 * the last chunk would be dropped (the stream never finishes and COMMIT silently rolls back).
 * Re-pointing the query's settle callbacks receives the final row count or error instead.
 */
function copyOutcome(query: unknown, stream: Writable): Promise<number> {
  const settle = query as {
    resolve: (result: { count: number | null }) => void;
    reject: (error: unknown) => void;
  };
  const done = new Promise<number>((resolve, reject) => {
    settle.resolve = (result) => resolve(result.count ?? 0);
    settle.reject = reject;
    stream.on("error", reject);
  });
  done.catch(() => {}); // observed by the caller; this only marks it handled
  return done;
}

/** Rows as COPY text format: tab-separated, `\N` for NULL, backslash escapes. */
function copyText(rows: Row[], columns: string[]): string {
  let out = "";
  for (const row of rows) {
    for (let i = 0; i < columns.length; i++) {
      if (i > 0) out += "\t";
      out += copyValue(row[columns[i] as string]);
    }
    out += "\n";
  }
  return out;
}

const SPECIAL = /[\\\n\r\t]/;
const SPECIALS = /[\\\n\r\t]/g;
const ESCAPES: Record<string, string> = { "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t" };

function copyValue(value: unknown): string {
  if (value === null || value === undefined) return "\\N";
  if (typeof value === "number" || typeof value === "bigint" || typeof value === "boolean") {
    return String(value);
  }
  if (value instanceof Date) return value.toISOString();
  if (value instanceof Uint8Array) return "\\\\x" + hex(value); // bytea hex input, escaped
  const text = typeof value === "string" ? value : JSON.stringify(value);
  if (typeof text !== "string") {
    throw new ConnectorError(`Cannot load a ${typeof value} value`);
  }
  return SPECIAL.test(text) ? text.replace(SPECIALS, (c) => ESCAPES[c] as string) : text;
}

function hex(bytes: Uint8Array): string {
  let out = "";
  for (const b of bytes) out += b.toString(16).padStart(2, "0");
  return out;
}

// --- Redshift: multi-row INSERT -----------------------------------------------------------------

/** INSERT … VALUES (…), (…) with at most {@link MAX_PARAMS} bound values per statement. */
const insertRows: Writer = async (tx, into, columns, source, like) => {
  const json = await superColumns(tx, like);
  const perStatement = Math.max(
    1,
    Math.min(MAX_INSERT_ROWS, Math.floor(MAX_PARAMS / columns.length)),
  );
  const head = `INSERT INTO ${into} (${
    columns.map((c) => quoteIdent("redshift", c)).join(", ")
  }) VALUES `;
  let written = 0;
  for await (const rows of source) {
    for (let start = 0; start < rows.length; start += perStatement) {
      const chunk = rows.slice(start, start + perStatement);
      const params: unknown[] = [];
      const tuples = chunk.map((row) => {
        const slots = columns.map((c) => {
          params.push(bindValue(row[c]));
          // SUPER takes JSON text through JSON_PARSE; a bare string would stay a string.
          return json.has(c) ? `JSON_PARSE($${params.length})` : `$${params.length}`;
        });
        return `(${slots.join(", ")})`;
      });
      await tx.unsafe(head + tuples.join(", "), params as never[]);
      written += chunk.length;
    }
  }
  return written;
};

async function superColumns(tx: Tx, table: Table): Promise<Set<string>> {
  const rows = await tx.unsafe(
    `SELECT a.attname AS name FROM pg_catalog.pg_attribute a
       JOIN pg_catalog.pg_class c ON c.oid = a.attrelid
       JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = $1 AND c.relname = $2 AND a.attnum > 0
        AND pg_catalog.format_type(a.atttypid, a.atttypmod) = 'super'`,
    [table.schema, table.name],
  );
  return new Set(rows.map((r: pg.Row) => String(r.name)));
}

// --- catalog helpers ----------------------------------------------------------------------------

function q(flavor: Flavor, table: Table): string {
  return `${quoteIdent(flavor, table.schema)}.${quoteIdent(flavor, table.name)}`;
}

function createSql(flavor: Flavor, table: Table, columns: InferredColumn[]): string {
  return createTableSql(flavor, `${table.schema}.${table.name}`, columns);
}

/** Fills in the schema an unqualified name resolves to, so every statement is qualified. */
async function resolve(tx: Tx, schema: string | null, name: string): Promise<Table> {
  if (schema !== null) return { schema, name };
  const [row] = await tx.unsafe("SELECT current_schema() AS schema");
  if (!row?.schema) {
    throw new ConnectorError(`Cannot load into ${name}: no schema (set the connector's schema)`);
  }
  return { schema: String(row.schema), name };
}

/** Catalog checks first: CREATE … IF NOT EXISTS needs CREATE privilege even when it exists. */
async function ensureSchema(tx: Tx, flavor: Flavor, schema: string): Promise<void> {
  const found = await tx.unsafe("SELECT 1 FROM pg_catalog.pg_namespace WHERE nspname = $1", [
    schema,
  ]);
  if (found.length === 0) {
    await tx.unsafe(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(flavor, schema)}`);
  }
}

/** The table's columns with their types, or null when it does not exist. */
async function targetColumns(tx: Tx, table: Table): Promise<TargetColumn[] | null> {
  const found = await tx.unsafe(
    `SELECT a.attname AS name, pg_catalog.format_type(a.atttypid, a.atttypmod) AS type
       FROM pg_catalog.pg_class c
       JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
       LEFT JOIN pg_catalog.pg_attribute a
         ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
      WHERE n.nspname = $1 AND c.relname = $2
      ORDER BY a.attnum`,
    [table.schema, table.name],
  );
  if (found.length === 0) return null;
  return found.filter((r: pg.Row) => r.name !== null).map((r: pg.Row) => ({
    name: String(r.name),
    type: String(r.type),
  }));
}

/** `<name>__tau_new`, shortened so PostgreSQL's 63-byte truncation cannot alias the target. */
function newName(name: string): string {
  const bytes = new TextEncoder();
  let base = name;
  while (bytes.encode(base + NEW_SUFFIX).length > MAX_IDENT_BYTES) base = base.slice(0, -1);
  return base + NEW_SUFFIX;
}
