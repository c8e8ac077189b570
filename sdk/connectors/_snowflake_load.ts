/**
 * `load` for Snowflake through the SQL API. Each API request runs in its own session, so the
 * rows are staged in a real table beside the target (temporary tables would vanish between
 * requests) with multi-row `INSERT … SELECT … FROM VALUES (?, …)` statements, and the target is
 * changed by ONE statement, which Snowflake applies atomically:
 *
 * - append: `INSERT INTO t (…) SELECT … FROM t__tau_stage` (a transient table);
 * - replace: the rows go into `t__tau_new`, then `ALTER TABLE t SWAP WITH t__tau_new`;
 * - upsert: `MERGE INTO t USING t__tau_stage` on the merge keys.
 *
 * A failure before that statement leaves the target as it was; the staging table is dropped.
 * The target's columns follow `onSchemaChange` first (see _schema.ts).
 *
 * @module
 */
import { type Binding, columnBinding, columnExpression } from "./_snowflake_rows.ts";
import { type InferredColumn } from "./_columns.ts";
import { noChanges } from "./_schema.ts";
import { assertUniqueKeys, createTableSql, quoteIdent, quoteTable } from "./_sql.ts";
import {
  mergeSql,
  refuseStagedDuplicates,
  rowsPerInsert,
  sibling,
  sqlString,
  startStagedLoad,
} from "./_warehouse.ts";
import type { LoadOptions, LoadResult, Row, RowSource } from "./types.ts";

/** What `load` needs from the API client. */
export interface SnowflakeWriter {
  /** Runs one statement; `bindings` are keyed "1", "2", … for the `?` placeholders. */
  run(sql: string, bindings?: Record<string, Binding>): Promise<void>;
  /** Runs one query and returns its rows. */
  query(sql: string): Promise<Row[]>;
}

const D = "snowflake";
/** Bind variables per statement, and Snowflake's limit of rows in one VALUES clause. */
const MAX_BINDINGS = 10_000;
const MAX_VALUES_ROWS = 16_384;
const id = (name: string) => quoteIdent(D, name);
const q = (table: string) => quoteTable(D, table);

/** `CREATE OR REPLACE [TRANSIENT] TABLE` with the inferred columns. */
function createOrReplace(table: string, columns: InferredColumn[], transient: boolean): string {
  const kind = transient ? "TRANSIENT TABLE" : "TABLE";
  return createTableSql(D, table, columns).replace(
    /^CREATE TABLE IF NOT EXISTS /,
    `CREATE OR REPLACE ${kind} `,
  );
}

/** Runs `load`; see the module documentation for the guarantees. */
export async function loadSnowflake(
  db: SnowflakeWriter,
  source: RowSource,
  options: LoadOptions,
): Promise<LoadResult> {
  const table = options.table;
  const started = await startStagedLoad(D, source, options, {
    batchRows: 10_000,
    columns: () => targetColumns(db, table),
    run: (sql) => db.run(sql),
    empty: () => db.run(`TRUNCATE TABLE IF EXISTS ${q(table)}`),
  });
  if (!started) return { rows: 0, schema_changes: noChanges() };
  const { mode, keys, plan, all } = started;
  const columns = plan.write;
  const perInsert = Math.min(
    rowsPerInsert(options, columns.length, 1_000, MAX_BINDINGS),
    MAX_VALUES_ROWS,
  );
  const stage = sibling(table, mode === "replace" ? "__tau_new" : "__tau_stage");
  const names = columns.map((c) => id(c.name)).join(", ");

  try {
    await db.run(createOrReplace(stage, columns, mode !== "replace"));
    let count = 0;
    for await (const batch of all) {
      if (keys.length > 0) assertUniqueKeys(batch, keys, table);
      for (const [sql, bindings] of inserts(q(stage), columns, batch, perInsert)) {
        await db.run(sql, bindings);
      }
      count += batch.length;
    }
    if (mode === "append") {
      await db.run(`INSERT INTO ${q(table)} (${names}) SELECT ${names} FROM ${q(stage)}`);
    } else if (mode === "replace") {
      // SWAP needs both tables; a missing target is created empty first.
      await db.run(createTableSql(D, table, columns));
      await db.run(`ALTER TABLE ${q(table)} SWAP WITH ${q(stage)}`);
    } else {
      await refuseStagedDuplicates((sql) => db.query(sql), D, q(stage), keys, table);
      await db.run(mergeSql(D, q(table), q(stage), columns, keys));
    }
    return { rows: count, schema_changes: plan.changes };
  } finally {
    // After a swap the stage holds the old rows; after a failure, a partial build.
    await db.run(`DROP TABLE IF EXISTS ${q(stage)}`).catch(() => {});
  }
}

/** The table's columns and types, in order; null when it does not exist. */
async function targetColumns(db: SnowflakeWriter, table: string) {
  const parts = table.split(".");
  const name = parts.pop() as string;
  const schema = parts.pop();
  const catalog = parts.length > 0 ? `${id(parts[0] as string)}.` : "";
  const rows = await db.query(
    `SELECT COLUMN_NAME AS "name", DATA_TYPE AS "type", NUMERIC_PRECISION AS "p", ` +
      `NUMERIC_SCALE AS "s" FROM ${catalog}INFORMATION_SCHEMA.COLUMNS WHERE TABLE_SCHEMA = ${
        schema === undefined ? "CURRENT_SCHEMA()" : sqlString(schema)
      } AND TABLE_NAME = ${sqlString(name)} ORDER BY ORDINAL_POSITION`,
  );
  if (rows.length === 0) return null;
  return rows.map((r) => ({
    name: String(r.name),
    type: r.type === "NUMBER" ? `NUMBER(${r.p},${r.s})` : String(r.type),
  }));
}

/** Multi-row INSERTs for one batch: NULLs as literals, other values as `?` bindings. */
function* inserts(
  into: string,
  columns: InferredColumn[],
  rows: Row[],
  perInsert: number,
): Iterable<[string, Record<string, Binding>]> {
  // VALUES cannot call PARSE_JSON and friends, so conversions happen in the SELECT list.
  const select = columns.map((c, i) => columnExpression(c.kind, i + 1)).join(", ");
  const head = `INSERT INTO ${into} (${columns.map((c) => id(c.name)).join(", ")}) ` +
    `SELECT ${select} FROM VALUES `;
  let tuples: string[] = [];
  let bindings: Record<string, Binding> = {};
  let n = 0;
  for (const row of rows) {
    const slots = columns.map((c) => {
      const value = row[c.name];
      if (value === null || value === undefined) return "NULL";
      bindings[String(++n)] = columnBinding(c.kind, value);
      return "?";
    });
    tuples.push(`(${slots.join(", ")})`);
    if (tuples.length === perInsert) {
      yield [head + tuples.join(", "), bindings];
      tuples = [];
      bindings = {};
      n = 0;
    }
  }
  if (tuples.length > 0) yield [head + tuples.join(", "), bindings];
}
