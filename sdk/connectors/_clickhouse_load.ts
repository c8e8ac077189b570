/**
 * `load` for ClickHouse. ClickHouse has no transactions, so every mode writes into a private
 * table first and touches the target with one last statement: a failure while rows are still
 * arriving leaves the target exactly as it was.
 *
 * - append: stage rows, then one `INSERT INTO t SELECT * FROM stage`.
 * - replace: build `t__tau_new`, then `EXCHANGE TABLES` (atomic: readers see old or new).
 * - upsert: stage rows, copy the target's rows whose key is not staged plus the staged rows into
 *   `t__tau_new`, then `EXCHANGE TABLES`. Rows written to the target by someone else between
 *   the copy and the exchange are lost, so do not write to the table while an upsert runs.
 *
 * @module
 */
import {
  assertUniqueKeys,
  batches,
  createTableSql,
  inferColumns,
  mergeKeys,
  peekFirst,
  quoteIdent,
  quoteTable,
} from "./_sql.ts";
import { batchSizeOf, checkKeysPresent, modeOf, sibling } from "./_warehouse.ts";
import { ConnectorError, type LoadOptions, type Row, type RowSource } from "./types.ts";

/** What `load` needs from the HTTP client. */
export interface ClickHouseWriter {
  /** Runs one statement, waiting for it to finish. */
  command(sql: string): Promise<void>;
  /** Runs one query and returns its rows. */
  query(sql: string): Promise<Row[]>;
  /** `INSERT INTO table FORMAT JSONEachRow` with the rows as body. */
  insert(table: string, rows: Row[]): Promise<void>;
}

const D = "clickhouse";
const q = (table: string) => quoteTable(D, table);

/** Runs `load`; see the module documentation for each mode's guarantee. */
export async function loadClickHouse(
  db: ClickHouseWriter,
  source: RowSource,
  options: LoadOptions,
): Promise<number> {
  const mode = modeOf(options);
  const table = options.table;
  const keys = mode === "upsert" ? mergeKeys(options.mergeKey, table) : [];
  const size = batchSizeOf(options.batchSize, `Cannot load into ${table}`);
  const { first, all } = await peekFirst(batches(source, size));
  if (first === null) {
    // Nothing to infer columns from: replacing with no rows empties an existing table.
    if (mode === "replace") await db.command(`TRUNCATE TABLE IF EXISTS ${q(table)}`);
    return 0;
  }
  const columns = inferColumns(first);
  checkKeysPresent(keys, columns, table);
  const fresh = sibling(table, "__tau_new");
  const stage = sibling(table, "__tau_stage");

  const write = async (into: string) => {
    let count = 0;
    for await (const batch of all) {
      if (keys.length > 0) assertUniqueKeys(batch, keys, table);
      await db.insert(into, batch);
      count += batch.length;
    }
    return count;
  };

  try {
    if (mode === "replace") {
      await db.command(`DROP TABLE IF EXISTS ${q(fresh)}`);
      await db.command(createTableSql(D, fresh, columns));
      const count = await write(fresh);
      // EXCHANGE needs both tables; a missing target is created empty first.
      await db.command(createTableSql(D, table, columns));
      await db.command(`EXCHANGE TABLES ${q(table)} AND ${q(fresh)}`);
      return count;
    }
    await db.command(createTableSql(D, table, columns));
    await db.command(`DROP TABLE IF EXISTS ${q(stage)}`);
    // Same columns as the target (so rows parse as its types), on a plain local engine.
    await db.command(`CREATE TABLE ${q(stage)} AS ${q(table)} ENGINE = MergeTree ORDER BY tuple()`);
    const count = await write(stage);
    if (mode === "append") {
      await db.command(`INSERT INTO ${q(table)} SELECT * FROM ${q(stage)}`);
      return count;
    }
    const keyList = keys.map((k) => quoteIdent(D, k)).join(", ");
    await refuseDuplicates(db, stage, keys, keyList, table);
    await db.command(`DROP TABLE IF EXISTS ${q(fresh)}`);
    await db.command(`CREATE TABLE ${q(fresh)} AS ${q(table)}`);
    await db.command(
      `INSERT INTO ${q(fresh)} SELECT * FROM ${q(table)} ` +
        `WHERE (${keyList}) NOT IN (SELECT ${keyList} FROM ${q(stage)})`,
    );
    await db.command(`INSERT INTO ${q(fresh)} SELECT * FROM ${q(stage)}`);
    await db.command(`EXCHANGE TABLES ${q(table)} AND ${q(fresh)}`);
    return count;
  } finally {
    // After an exchange `fresh` holds the old rows; after a failure, a partial build.
    await cleanup(db, mode === "append" ? [stage] : mode === "replace" ? [fresh] : [fresh, stage]);
  }
}

/** Duplicates across batches are only visible once all rows are staged. */
async function refuseDuplicates(
  db: ClickHouseWriter,
  stage: string,
  keys: string[],
  keyList: string,
  table: string,
): Promise<void> {
  const [duplicate] = await db.query(
    `SELECT ${keyList} FROM ${q(stage)} GROUP BY ${keyList} HAVING count() > 1 LIMIT 1`,
  );
  if (duplicate) {
    const values = JSON.stringify(keys.map((k) => duplicate[k] ?? null)).slice(1, -1);
    throw new ConnectorError(
      `Cannot upsert into ${table}: more than one row has ${keys.join(", ")} = ${values}`,
    );
  }
}

async function cleanup(db: ClickHouseWriter, tables: string[]): Promise<void> {
  for (const table of tables) {
    await db.command(`DROP TABLE IF EXISTS ${q(table)}`).catch(() => {});
  }
}
