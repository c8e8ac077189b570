/**
 * `load` for ClickHouse. ClickHouse has no transactions, so every mode writes into a private
 * table first and touches the target with one last statement: a failure while rows are still
 * arriving leaves the target exactly as it was.
 *
 * - append: stage rows, then one `INSERT INTO t SELECT * FROM stage`.
 * - replace: build `t__tau_new`, then `EXCHANGE TABLES` (atomic: readers see old or new).
 * - upsert: stage rows, copy the target's rows whose key is not staged plus the staged rows into
 *   `t__tau_new` (a matched row keeps the target's values of the columns the rows lack), then
 *   `EXCHANGE TABLES`. Rows written to the target by someone else between the copy and the
 *   exchange are lost, so do not write to the table while an upsert runs.
 *
 * The target's columns follow `onSchemaChange` first (see _schema.ts).
 *
 * @module
 */
import { noChanges } from "./_schema.ts";
import { assertUniqueKeys, createTableSql, quoteIdent, quoteTable, splitTable } from "./_sql.ts";
import { batchSizeOf, sibling, sqlString, startStagedLoad } from "./_warehouse.ts";
import {
  ConnectorError,
  type LoadOptions,
  type LoadResult,
  type Row,
  type RowSource,
} from "./types.ts";

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
): Promise<LoadResult> {
  const table = options.table;
  const started = await startStagedLoad(D, source, options, {
    batchRows: batchSizeOf(options.batchSize, `Cannot load into ${table}`),
    columns: () => targetColumns(db, table),
    run: (sql) => db.command(sql),
    empty: () => db.command(`TRUNCATE TABLE IF EXISTS ${q(table)}`),
  });
  if (!started) return { rows: 0, schema_changes: noChanges() };
  const { mode, keys, inferred: columns, plan, all } = started;
  const fresh = sibling(table, "__tau_new");
  const stage = sibling(table, "__tau_stage");
  const done = (rows: number) => ({ rows, schema_changes: plan.changes });
  const names = plan.write.map((c) => c.name);
  // The rows' columns the table lacks (onSchemaChange "ignore") are not sent.
  const project = plan.changes.ignored.length === 0
    ? (rows: Row[]) => rows
    : (rows: Row[]) => rows.map((r) => Object.fromEntries(names.map((n) => [n, r[n] ?? null])));

  const write = async (into: string) => {
    let count = 0;
    for await (const batch of all) {
      if (keys.length > 0) assertUniqueKeys(batch, keys, table);
      await db.insert(into, project(batch));
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
      return done(count);
    }
    await db.command(`DROP TABLE IF EXISTS ${q(stage)}`);
    // Same columns as the target (so rows parse as its types), on a plain local engine.
    await db.command(`CREATE TABLE ${q(stage)} AS ${q(table)} ENGINE = MergeTree ORDER BY tuple()`);
    const count = await write(stage);
    if (mode === "append") {
      await db.command(`INSERT INTO ${q(table)} SELECT * FROM ${q(stage)}`);
      return done(count);
    }
    const keyList = keys.map((k) => quoteIdent(D, k)).join(", ");
    await refuseDuplicates(db, stage, keys, keyList, table);
    await db.command(`DROP TABLE IF EXISTS ${q(fresh)}`);
    await db.command(`CREATE TABLE ${q(fresh)} AS ${q(table)}`);
    await db.command(
      `INSERT INTO ${q(fresh)} SELECT * FROM ${q(table)} ` +
        `WHERE (${keyList}) NOT IN (SELECT ${keyList} FROM ${q(stage)})`,
    );
    await db.command(`INSERT INTO ${q(fresh)} ${matched(table, stage, keys, names, plan.changes)}`);
    await db.command(`EXCHANGE TABLES ${q(table)} AND ${q(fresh)}`);
    return done(count);
  } finally {
    // After an exchange `fresh` holds the old rows; after a failure, a partial build.
    await cleanup(db, mode === "append" ? [stage] : mode === "replace" ? [fresh] : [fresh, stage]);
  }
}

/**
 * The staged rows as the upsert writes them: whole, or, when the rows lack some of the table's
 * columns, those columns taken from the matching target row (never overwritten with NULL).
 */
function matched(
  table: string,
  stage: string,
  keys: string[],
  written: string[],
  changes: LoadResult["schema_changes"] & object,
): string {
  const kept = changes.missing.filter((c) => !changes.dropped.includes(c));
  if (kept.length === 0) return `SELECT * FROM ${q(stage)}`;
  const id = (name: string) => quoteIdent(D, name);
  const on = keys.map((k) => `s.${id(k)} = t.${id(k)}`).join(" AND ");
  const cols = [...written.map((c) => `s.${id(c)}`), ...kept.map((c) => `t.${id(c)}`)];
  return `(${[...written, ...kept].map(id).join(", ")}) SELECT ${cols.join(", ")} ` +
    `FROM ${q(stage)} AS s LEFT JOIN ${q(table)} AS t ON ${on}`;
}

/** The table's columns and types, in order; null when it does not exist. */
async function targetColumns(db: ClickHouseWriter, table: string) {
  const { schema, name } = splitTable(table);
  const rows = await db.query(
    `SELECT name, type FROM system.columns WHERE database = ${
      schema === null ? "currentDatabase()" : sqlString(schema)
    } AND table = ${sqlString(name)} ORDER BY position`,
  );
  return rows.length === 0
    ? null
    : rows.map((r) => ({ name: String(r.name), type: String(r.type) }));
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
