/**
 * `load` for BigQuery, with DML only (no streaming inserts: their buffer cannot be undone).
 * Rows go into a staging table `t__tau_stage` in the same dataset through multi-row
 * `INSERT … VALUES (?, …)` statements with typed positional parameters; the target is then
 * changed by ONE statement, which BigQuery applies atomically:
 *
 * - append: `INSERT INTO t (…) SELECT … FROM stage`;
 * - replace: `CREATE OR REPLACE TABLE t AS SELECT * FROM stage` (the new table has the rows'
 *   columns; partitioning, clustering and descriptions of the old table are not kept);
 * - upsert: `MERGE` on the merge keys (matched rows get the staged columns, others are inserted).
 *
 * A failure before that statement leaves the target as it was. The staging table is dropped
 * afterwards, and expires by itself after a day if the run dies first. The target's columns
 * follow `onSchemaChange` first (see _schema.ts).
 *
 * @module
 */
import { columnParameter, type QueryParameter } from "./_bigquery_rows.ts";
import { type InferredColumn, sqlType } from "./_columns.ts";
import { noChanges } from "./_schema.ts";
import { assertUniqueKeys, createTableSql, quoteIdent, quoteTable, splitTable } from "./_sql.ts";
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
export interface BigQueryWriter {
  /** Runs one statement with positional parameters. */
  run(sql: string, params?: QueryParameter[]): Promise<void>;
  /** Runs one query and returns its rows. */
  query(sql: string): Promise<Row[]>;
  /** `TRUNCATE TABLE`, doing nothing when the table does not exist. */
  emptyTable(table: string): Promise<void>;
}

const D = "bigquery";
/** BigQuery's limit of parameters per query. */
const MAX_PARAMS = 10_000;
/** Parameter text per statement, well under the 10 MB request limit. */
const MAX_BYTES = 4_000_000;
const id = (name: string) => quoteIdent(D, name);

/** Runs `load`; see the module documentation for the guarantees. */
export async function loadBigQuery(
  db: BigQueryWriter,
  source: RowSource,
  options: LoadOptions,
): Promise<LoadResult> {
  const table = options.table;
  const started = await startStagedLoad(D, source, options, {
    batchRows: 10_000,
    columns: () => targetColumns(db, table),
    run: (sql) => db.run(sql),
    empty: () => db.emptyTable(table),
  });
  if (!started) return { rows: 0, schema_changes: noChanges() };
  const { mode, keys, plan, all } = started;
  const columns = plan.write;
  const perInsert = rowsPerInsert(options, columns.length, 1_000, MAX_PARAMS);
  const stage = sibling(table, "__tau_stage");
  const target = quoteTable(D, table);
  const names = columns.map((c) => id(c.name)).join(", ");

  try {
    await db.run(
      createTableSql(D, stage, columns).replace(
        /^CREATE TABLE IF NOT EXISTS /,
        "CREATE OR REPLACE TABLE ",
      ) +
        " OPTIONS (expiration_timestamp = TIMESTAMP_ADD(CURRENT_TIMESTAMP(), INTERVAL 1 DAY))",
    );
    let count = 0;
    for await (const batch of all) {
      if (keys.length > 0) assertUniqueKeys(batch, keys, table);
      for (const [sql, params] of inserts(quoteTable(D, stage), columns, batch, perInsert)) {
        await db.run(sql, params);
      }
      count += batch.length;
    }
    const staged = quoteTable(D, stage);
    if (mode === "append") {
      await db.run(`INSERT INTO ${target} (${names}) SELECT ${names} FROM ${staged}`);
    } else if (mode === "replace") {
      await db.run(`CREATE OR REPLACE TABLE ${target} AS SELECT * FROM ${staged}`);
    } else {
      await refuseStagedDuplicates((sql) => db.query(sql), D, staged, keys, table);
      await db.run(mergeSql(D, target, staged, columns, keys));
    }
    return { rows: count, schema_changes: plan.changes };
  } finally {
    await db.run(`DROP TABLE IF EXISTS ${quoteTable(D, stage)}`).catch(() => {});
  }
}

/** The table's columns and types, in order; null when it does not exist. */
async function targetColumns(db: BigQueryWriter, table: string) {
  const { schema, name } = splitTable(table);
  // Unqualified, INFORMATION_SCHEMA is the default dataset's.
  const dataset = schema === null ? "" : `${quoteTable(D, schema)}.`;
  const rows = await db.query(
    `SELECT column_name AS name, data_type AS type FROM ${dataset}INFORMATION_SCHEMA.COLUMNS ` +
      `WHERE table_name = ${sqlString(name)} ORDER BY ordinal_position`,
  );
  return rows.length === 0
    ? null
    : rows.map((r) => ({ name: String(r.name), type: String(r.type) }));
}

/** Multi-row INSERTs for one batch: NULLs as literals, other values as typed `?` parameters. */
function* inserts(
  into: string,
  columns: InferredColumn[],
  rows: Row[],
  perInsert: number,
): Iterable<[string, QueryParameter[]]> {
  const head = `INSERT INTO ${into} (${columns.map((c) => id(c.name)).join(", ")}) VALUES `;
  // A decimal parameter has its staged column's type: NUMERIC or BIGNUMERIC (or STRING).
  const types = columns.map((c) =>
    c.kind === "decimal" ? sqlType(D, c).replace(/\(.*$/, "") : undefined
  );
  let tuples: string[] = [];
  let params: QueryParameter[] = [];
  let bytes = 0;
  for (const row of rows) {
    const slots = columns.map((c, i) => {
      const value = row[c.name];
      // A NULL parameter would need a type; the literal fits any column.
      if (value === null || value === undefined) return "NULL";
      const param = columnParameter(c.kind, value, types[i]);
      bytes += (param.parameterValue.value ?? "").length + 40;
      params.push(param);
      return "?";
    });
    tuples.push(`(${slots.join(", ")})`);
    if (tuples.length === perInsert || bytes > MAX_BYTES) {
      yield [head + tuples.join(", "), params];
      tuples = [];
      params = [];
      bytes = 0;
    }
  }
  if (tuples.length > 0) yield [head + tuples.join(", "), params];
}
