/**
 * The SQL a materialization needs, per engine. The base class speaks PostgreSQL; each engine
 * overrides only what it does differently, so a reader can see every engine's deviations in
 * its own short file.
 */
import { quoteIdent } from "../../connectors/_sql.ts";
import type { Dialect, Row } from "../../connectors/types.ts";
import { join, raw, type Sql, sql } from "../sql.ts";

export type Granularity = "hour" | "day" | "month" | "year";

/** A table name split into its parts: `["analytics", "orders"]`. */
export type TableRef = readonly string[];

/** What a row can be matched against: a table, or a parenthesized subquery. */
export type Source = TableRef | Sql;

/** Native layout options for a new table (partitioned strategy). */
export interface Layout {
  partitionBy?: { column: string; type: string; granularity: Granularity };
  clusterBy?: string[];
  expirationDays?: number;
}

/**
 * How the engine makes the data-changing statements atomic:
 * - `ddl`: everything, DDL included, runs in one transaction opened first (PostgreSQL, DuckDB);
 * - `dml`: DDL commits implicitly, so only the data changes share a transaction (MySQL);
 * - `script`: the data changes go to the engine as one transactional script (Snowflake, BigQuery);
 * - `none`: no transactions; each statement is atomic on its own (ClickHouse).
 */
export type Atomicity = "ddl" | "dml" | "script" | "none";

export abstract class SqlDialect {
  abstract readonly name: Dialect;
  readonly atomicity: Atomicity = "ddl";
  /** MERGE exists (else UPDATE … + INSERT … in one transaction). */
  readonly hasMerge: boolean = true;
  /** Staging tables are session-temporary (else real tables dropped afterwards). */
  readonly tempStage: boolean = true;
  /** No UPDATE … FROM: changed rows are deleted and inserted again. */
  readonly rewritesRows: boolean = false;
  /** Partitions expire natively (table options), so no DELETE is needed. */
  readonly nativeExpiry: boolean = false;
  readonly timestampType: string = "TIMESTAMPTZ";
  readonly bigintType: string = "BIGINT";

  ident(name: string): Sql {
    return raw(quoteIdent(this.name, name));
  }

  table(ref: TableRef): Sql {
    return raw(this.quoted(ref));
  }

  /** The quoted name as text (for catalog functions that parse names, e.g. `to_regclass`). */
  quoted(ref: TableRef): string {
    return ref.map((part) => quoteIdent(this.name, part)).join(".");
  }

  /** `alias.column` */
  col(alias: string, name: string): Sql {
    return sql`${raw(alias)}.${this.ident(name)}`;
  }

  placeholder(index: number): string {
    return `$${index}`;
  }

  /** A bound value, cast so that its type never depends on driver inference. */
  param(value: unknown, type: string): Sql {
    return sql`CAST(${value} AS ${raw(type)})`;
  }

  /** How a timestamp parameter is written for {@link timestampType} (UTC). */
  timestampValue(at: Date): string {
    return at.toISOString().replace("T", " ").replace("Z", "+00:00");
  }

  begin(): Sql {
    return raw("BEGIN");
  }

  commit(): Sql {
    return raw("COMMIT");
  }

  rollback(): Sql {
    return raw("ROLLBACK");
  }

  /**
   * Statements that serialize materializations of one target, and release them. None by
   * default: engines without named locks rely on their own DML conflict handling.
   */
  lock(_target: TableRef, _exists: boolean): { acquire: Sql[]; release: Sql[] } {
    return { acquire: [], release: [] };
  }

  stageRef(target: TableRef, id: string): TableRef {
    const name = `${target[target.length - 1]}__tau_stage_${id}`;
    return this.tempStage ? [name] : [...target.slice(0, -1), name];
  }

  createStage(stage: TableRef, select: Sql): Sql {
    return sql`CREATE TEMP TABLE ${this.table(stage)} AS ${select}`;
  }

  createSchema(target: TableRef): Sql | null {
    return target.length > 1
      ? sql`CREATE SCHEMA IF NOT EXISTS ${this.table(target.slice(0, -1))}`
      : null;
  }

  /** Rows `{ name, type }` in column order; none when the table does not exist. */
  columns(ref: TableRef, _stage: boolean): Sql {
    return sql`SELECT a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type FROM pg_attribute a WHERE a.attrelid = to_regclass(${
      this.quoted(ref)
    }) AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum`;
  }

  /** One row `{ kind: "table" | "view" }`, or none when nothing has this name. */
  kind(ref: TableRef): Sql {
    return sql`SELECT CASE WHEN c.relkind IN ('v', 'm') THEN 'view' ELSE 'table' END AS kind FROM pg_class c WHERE c.oid = to_regclass(${
      this.quoted(ref)
    })`;
  }

  createTableAs(ref: TableRef, select: Sql, _layout: Layout = {}): Sql {
    return sql`CREATE TABLE ${this.table(ref)} AS ${select}`;
  }

  dropTable(ref: TableRef): Sql {
    return sql`DROP TABLE IF EXISTS ${this.table(ref)}`;
  }

  /** Puts `fresh` in place of `target` so readers see either the old or the new table. */
  swap(target: TableRef, fresh: TableRef, old: TableRef): Sql[] {
    const name = (ref: TableRef) => this.ident(ref[ref.length - 1] as string);
    return [
      sql`ALTER TABLE ${this.table(target)} RENAME TO ${name(old)}`,
      sql`ALTER TABLE ${this.table(fresh)} RENAME TO ${name(target)}`,
      this.dropTable(old),
    ];
  }

  createView(ref: TableRef, select: Sql, exists: boolean): Sql[] {
    // CREATE OR REPLACE VIEW refuses a changed column list; dropping inside the transaction
    // swaps the definition atomically.
    const create = sql`CREATE VIEW ${this.table(ref)} AS ${select}`;
    return exists ? [sql`DROP VIEW ${this.table(ref)}`, create] : [create];
  }

  addColumn(ref: TableRef, column: string, type: string): Sql {
    return sql`ALTER TABLE ${this.table(ref)} ADD COLUMN ${this.ident(column)} ${raw(type)}`;
  }

  dropColumn(ref: TableRef, column: string): Sql {
    return sql`ALTER TABLE ${this.table(ref)} DROP COLUMN ${this.ident(column)}`;
  }

  /** NULL-safe "differs". */
  distinct(a: Sql, b: Sql): Sql {
    return sql`${a} IS DISTINCT FROM ${b}`;
  }

  /** A NULL-safe, unambiguous md5 over columns: NULL and '' and 'a|b' never collide. */
  hash(columns: Sql[]): Sql {
    const parts = columns.map((c) => {
      const text = this.text(c);
      return sql`CASE WHEN ${c} IS NULL THEN 'N' ELSE 'V' || ${
        this.text(sql`LENGTH(${text})`)
      } || ':' || ${text} END`;
    });
    return sql`md5(${join(parts, " || ")})`;
  }

  text(value: Sql): Sql {
    return sql`CAST(${value} AS VARCHAR)`;
  }

  /** The start of the partition a value falls in. */
  truncate(column: Sql, granularity: Granularity, _type: string): Sql {
    return sql`date_trunc('${raw(granularity)}', ${column})`;
  }

  /** A table, or a parenthesized subquery, to read from. */
  from(source: Source): Sql {
    return Array.isArray(source) ? this.table(source as TableRef) : source as Sql;
  }

  /** `CAST(NULL AS type)`: a typed NULL for CREATE TABLE AS. */
  nullOf(type: string): Sql {
    return sql`CAST(NULL AS ${raw(type)})`;
  }

  /**
   * The target's `max(column)` for the source filter. It never becomes a JavaScript Date or
   * number, which would cut microseconds and integers past 2^53. Here a subquery: the engine
   * compares at the column's own precision and evaluates it once, before reading the source.
   */
  highWaterMark(target: TableRef, column: string, _type: string): HighWaterMark {
    return { value: () => sql`(SELECT max(${this.ident(column)}) FROM ${this.table(target)})` };
  }

  /** True for rows of `outer` that have a row with the same key in `inner`. */
  matches(inner: Source, outerAlias: string, keys: string[]): Sql {
    return sql`EXISTS (SELECT 1 FROM ${this.from(inner)} AS i WHERE ${
      this.keyMatch("i", outerAlias, keys)
    })`;
  }

  /** True for rows of `outer` whose key is in `inner` with other values in `columns`. */
  matchesChanged(inner: Source, outerAlias: string, keys: string[], columns: string[]): Sql {
    const changed = columns.map((c) => this.distinct(this.col("i", c), this.col(outerAlias, c)));
    return sql`EXISTS (SELECT 1 FROM ${this.from(inner)} AS i WHERE ${
      this.keyMatch("i", outerAlias, keys)
    } AND (${join(changed, " OR ")}))`;
  }

  keyMatch(a: string, b: string, keys: string[]): Sql {
    return join(keys.map((k) => sql`${this.col(a, k)} = ${this.col(b, k)}`), " AND ");
  }

  /** `MERGE` of the stage into the target on `keys` (only where {@link hasMerge}). */
  merge(
    target: TableRef,
    stage: TableRef,
    keys: string[],
    update: string[],
    insert: string[],
  ): Sql {
    const set = update.map((c) => sql`${this.ident(c)} = ${this.col("s", c)}`);
    const matched = set.length > 0 ? sql` WHEN MATCHED THEN UPDATE SET ${join(set)}` : raw("");
    return sql`MERGE INTO ${this.table(target)} AS t USING ${this.table(stage)} AS s ON ${
      this.keyMatch("t", "s", keys)
    }${matched} WHEN NOT MATCHED THEN INSERT (${this.list(insert)}) VALUES (${
      this.list(insert, "s")
    })`;
  }

  /** Replaces `target` by a table built from `select` (via `fresh`, then `old`). */
  replaceTable(target: TableRef, select: Sql, fresh: TableRef, old: TableRef): Sql[] {
    return [
      this.dropTable(fresh),
      this.createTableAs(fresh, select),
      ...this.swap(target, fresh, old),
    ];
  }

  /** `UPDATE target AS t SET … FROM stage AS s WHERE …` */
  updateFrom(target: TableRef, stage: TableRef, set: [string, Sql][], where: Sql): Sql {
    const assignments = set.map(([column, value]) => sql`${this.ident(column)} = ${value}`);
    return sql`UPDATE ${this.table(target)} AS t SET ${join(assignments)} FROM ${
      this.table(stage)
    } AS s WHERE ${where}`;
  }

  /** `UPDATE target AS t SET … WHERE …` */
  update(target: TableRef, set: [string, Sql][], where: Sql): Sql {
    const assignments = set.map(([column, value]) => sql`${this.ident(column)} = ${value}`);
    return sql`UPDATE ${this.table(target)} AS t SET ${join(assignments)} WHERE ${where}`;
  }

  deleteWhere(target: TableRef, where: Sql): Sql {
    return sql`DELETE FROM ${this.table(target)} AS t WHERE ${where}`;
  }

  insertSelect(target: TableRef, columns: string[], select: Sql): Sql {
    return sql`INSERT INTO ${this.table(target)} (${this.list(columns)}) ${select}`;
  }

  /** Replaces the target's whole contents with `select`. */
  overwrite(target: TableRef, columns: string[], select: Sql): Sql[] {
    return [sql`DELETE FROM ${this.table(target)}`, this.insertSelect(target, columns, select)];
  }

  list(columns: string[], alias?: string): Sql {
    return join(columns.map((c) => alias ? this.col(alias, c) : this.ident(c)));
  }
}

/** How a dialect puts the high-water mark in SQL: `read` runs first; `value` gets its first row. */
export interface HighWaterMark {
  read?: Sql;
  value(row: Row | undefined): Sql;
}

/** The name locks are taken under. */
export function lockName(target: TableRef): string {
  return `tau.materialize:${target.join(".")}`;
}
