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
 * afterwards, and expires by itself after a day if the run dies first.
 *
 * @module
 */
import { columnParameter, type QueryParameter } from "./_bigquery_rows.ts";
import {
  assertUniqueKeys,
  batches,
  createTableSql,
  inferColumns,
  type InferredColumn,
  mergeKeys,
  peekFirst,
  quoteIdent,
  quoteTable,
} from "./_sql.ts";
import {
  checkKeysPresent,
  mergeSql,
  modeOf,
  refuseStagedDuplicates,
  rowsPerInsert,
  sibling,
} from "./_warehouse.ts";
import type { LoadOptions, Row, RowSource } from "./types.ts";

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
): Promise<number> {
  const mode = modeOf(options);
  const table = options.table;
  const keys = mode === "upsert" ? mergeKeys(options.mergeKey, table) : [];
  const { first, all } = await peekFirst(batches(source, 10_000));
  if (first === null) {
    // Nothing to infer columns from: replacing with no rows empties an existing table.
    if (mode === "replace") await db.emptyTable(table);
    return 0;
  }
  const columns = inferColumns(first);
  checkKeysPresent(keys, columns, table);
  const perInsert = rowsPerInsert(options, columns.length, 1_000, MAX_PARAMS);
  const stage = sibling(table, "__tau_stage");
  const target = quoteTable(D, table);
  const names = columns.map((c) => id(c.name)).join(", ");

  try {
    if (mode !== "replace") await db.run(createTableSql(D, table, columns));
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
    return count;
  } finally {
    await db.run(`DROP TABLE IF EXISTS ${quoteTable(D, stage)}`).catch(() => {});
  }
}

/** Multi-row INSERTs for one batch: NULLs as literals, other values as typed `?` parameters. */
function* inserts(
  into: string,
  columns: InferredColumn[],
  rows: Row[],
  perInsert: number,
): Iterable<[string, QueryParameter[]]> {
  const head = `INSERT INTO ${into} (${columns.map((c) => id(c.name)).join(", ")}) VALUES `;
  let tuples: string[] = [];
  let params: QueryParameter[] = [];
  let bytes = 0;
  for (const row of rows) {
    const slots = columns.map((c) => {
      const value = row[c.name];
      // A NULL parameter would need a type; the literal fits any column.
      if (value === null || value === undefined) return "NULL";
      const param = columnParameter(c.kind, value);
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
