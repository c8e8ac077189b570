/** SQL building blocks shared by the SQL connectors: quoting, type inference, row shaping. */
import { columnTypes, type InferredColumn, sqlType, withColumnTypes } from "./_columns.ts";
import { ConnectorError, type Dialect, type Row, type RowSource } from "./types.ts";

/** Quotes one identifier for a dialect. */
export function quoteIdent(dialect: Dialect, name: string): string {
  if (name.length === 0) throw new ConnectorError("Cannot quote an empty identifier");
  if (dialect === "mysql" || dialect === "bigquery" || dialect === "clickhouse") {
    return "`" + name.replaceAll("`", "``") + "`";
  }
  return '"' + name.replaceAll('"', '""') + '"';
}

/** Quotes a possibly schema-qualified name (`raw.users` → `"raw"."users"`). */
export function quoteTable(dialect: Dialect, table: string): string {
  return table.split(".").map((part) => quoteIdent(dialect, part)).join(".");
}

/** Splits `schema.table` into its parts (schema null when absent). */
export function splitTable(table: string): { schema: string | null; name: string } {
  const parts = table.split(".");
  const name = parts.pop() as string;
  return { schema: parts.length > 0 ? parts.join(".") : null, name };
}

/** `CREATE TABLE IF NOT EXISTS` DDL for inferred columns. */
export function createTableSql(dialect: Dialect, table: string, columns: InferredColumn[]): string {
  const cols = columns.map((c) => {
    const type = sqlType(dialect, c);
    return `${quoteIdent(dialect, c.name)} ${
      dialect === "clickhouse" ? `Nullable(${type})` : type
    }`;
  });
  const engine = dialect === "clickhouse" ? " ENGINE = MergeTree ORDER BY tuple()" : "";
  return `CREATE TABLE IF NOT EXISTS ${quoteTable(dialect, table)} (${cols.join(", ")})${engine}`;
}

/** A value as the drivers bind it: JSON for objects, ISO text for dates, null for undefined. */
export function bindValue(value: unknown): unknown {
  if (value === undefined) return null;
  if (value instanceof Date) return value.toISOString();
  if (value !== null && typeof value === "object" && !(value instanceof Uint8Array)) {
    return JSON.stringify(value);
  }
  return value;
}

/** Normalizes `mergeKey` and checks it is given. */
export function mergeKeys(mergeKey: string | string[] | undefined, table: string): string[] {
  const keys = mergeKey === undefined ? [] : Array.isArray(mergeKey) ? mergeKey : [mergeKey];
  if (keys.length === 0) {
    throw new ConnectorError(`Cannot upsert into ${table}: mode "upsert" needs mergeKey`);
  }
  return keys;
}

/** Refuses a batch in which two rows share a merge key, naming the duplicated values. */
export function assertUniqueKeys(rows: Row[], keys: string[], table: string): void {
  const seen = new Set<string>();
  for (const row of rows) {
    const id = JSON.stringify(keys.map((k) => row[k] ?? null));
    if (seen.has(id)) {
      throw new ConnectorError(
        `Cannot upsert into ${table}: more than one row has ${keys.join(", ")} = ${
          id.slice(1, -1)
        }`,
      );
    }
    seen.add(id);
  }
}

/** Iterates a row source batch by batch, re-chunking arrays to `size` rows. */
export async function* batches(source: RowSource, size: number): AsyncIterable<Row[]> {
  if (Array.isArray(source)) {
    const types = columnTypes(source);
    for (let i = 0; i < source.length; i += size) {
      const batch = source.slice(i, i + size);
      yield types ? withColumnTypes(batch, types) : batch;
    }
    return;
  }
  for await (const batch of source) if (batch.length > 0) yield batch;
}

/** Peeks the first non-empty batch (for type inference) and returns an iterable of all. */
export async function peekFirst(
  source: AsyncIterable<Row[]>,
): Promise<{ first: Row[] | null; all: AsyncIterable<Row[]> }> {
  const iterator = source[Symbol.asyncIterator]();
  const head = await iterator.next();
  const first = head.done ? null : head.value;
  async function* all() {
    if (first) yield first;
    for (let next = await iterator.next(); !next.done; next = await iterator.next()) {
      yield next.value;
    }
  }
  return { first, all: all() };
}
