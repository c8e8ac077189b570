/**
 * BigQuery: native partitioning and clustering; data changes run as one transactional script;
 * stages are real tables that expire by themselves should a run die before dropping them.
 */
import { MaterializationError } from "../config.ts";
import { join, raw, type Sql, sql } from "../sql.ts";
import {
  type Granularity,
  type HighWaterMark,
  type Layout,
  SqlDialect,
  type TableRef,
} from "./base.ts";

export class BigQueryDialect extends SqlDialect {
  readonly name = "bigquery" as const;
  override readonly atomicity = "script" as const;
  override readonly tempStage = false;
  override readonly nativeExpiry = true;
  override readonly timestampType = "TIMESTAMP";
  override readonly bigintType = "INT64";

  override placeholder(): string {
    return "?";
  }

  override timestampValue(at: Date): string {
    return at.toISOString().replace("T", " ").replace("Z", "+00");
  }

  override begin(): Sql {
    return raw("BEGIN TRANSACTION");
  }

  override commit(): Sql {
    return raw("COMMIT TRANSACTION");
  }

  override rollback(): Sql {
    return raw("ROLLBACK TRANSACTION");
  }

  // BigQuery prunes the source's partitions on constant filters only, not on a subquery: the
  // mark is read as text (exact to the microsecond) and bound back with the column's type.
  override highWaterMark(target: TableRef, column: string, type: string): HighWaterMark {
    return {
      read: sql`SELECT CAST(max(${this.ident(column)}) AS STRING) AS hwm FROM ${
        this.table(target)
      }`,
      value: (row) => this.param(row?.hwm, type),
    };
  }

  override createStage(stage: TableRef, select: Sql): Sql {
    return sql`CREATE TABLE ${
      this.table(stage)
    } OPTIONS (expiration_timestamp = TIMESTAMP_ADD(CURRENT_TIMESTAMP(), INTERVAL 1 DAY)) AS ${select}`;
  }

  #dataset(ref: TableRef): Sql {
    if (ref.length < 2) {
      throw new MaterializationError(
        `BigQuery needs a dataset-qualified table name (dataset.table), got ${ref.join(".")}`,
      );
    }
    return sql`${this.table(ref.slice(0, -1))}.INFORMATION_SCHEMA`;
  }

  override columns(ref: TableRef): Sql {
    return sql`SELECT column_name AS name, data_type AS type FROM ${
      this.#dataset(ref)
    }.COLUMNS WHERE table_name = ${ref[ref.length - 1]} ORDER BY ordinal_position`;
  }

  override kind(ref: TableRef): Sql {
    return sql`SELECT CASE WHEN table_type = 'VIEW' THEN 'view' ELSE 'table' END AS kind FROM ${
      this.#dataset(ref)
    }.TABLES WHERE table_name = ${ref[ref.length - 1]}`;
  }

  override createTableAs(ref: TableRef, select: Sql, layout: Layout = {}): Sql {
    const partition = layout.partitionBy
      ? sql` PARTITION BY ${this.#partitionExpr(layout.partitionBy)}`
      : raw("");
    const cluster = layout.clusterBy ? sql` CLUSTER BY ${this.list(layout.clusterBy)}` : raw("");
    // A validated positive integer: DDL options take no query parameters.
    const options = layout.expirationDays
      ? raw(` OPTIONS (partition_expiration_days = ${Math.trunc(layout.expirationDays)})`)
      : raw("");
    return sql`CREATE TABLE ${this.table(ref)}${partition}${cluster}${options} AS ${select}`;
  }

  #partitionExpr(p: { column: string; type: string; granularity: Granularity }): Sql {
    const column = this.ident(p.column);
    const unit = raw(p.granularity.toUpperCase());
    const type = p.type.toUpperCase();
    if (type === "DATE") {
      if (p.granularity === "hour") {
        throw new MaterializationError(`Cannot partition DATE column ${p.column} by hour`);
      }
      return p.granularity === "day" ? column : sql`DATE_TRUNC(${column}, ${unit})`;
    }
    if (type === "DATETIME") return sql`DATETIME_TRUNC(${column}, ${unit})`;
    return sql`TIMESTAMP_TRUNC(${column}, ${unit})`;
  }

  // CREATE OR REPLACE is atomic in BigQuery: readers see the old table until the new one is in.
  override replaceTable(target: TableRef, select: Sql): Sql[] {
    return [sql`CREATE OR REPLACE TABLE ${this.table(target)} AS ${select}`];
  }

  override createView(ref: TableRef, select: Sql): Sql[] {
    return [sql`CREATE OR REPLACE VIEW ${this.table(ref)} AS ${select}`];
  }

  override hash(columns: Sql[]): Sql {
    const parts = columns.map((c) => {
      const text = this.text(c);
      return sql`CASE WHEN ${c} IS NULL THEN 'N' ELSE CONCAT('V', CAST(LENGTH(${text}) AS STRING), ':', ${text}) END`;
    });
    return sql`TO_HEX(MD5(CONCAT(${join(parts)})))`;
  }

  override text(value: Sql): Sql {
    return sql`CAST(${value} AS STRING)`;
  }

  override truncate(column: Sql, granularity: Granularity, type: string): Sql {
    const unit = raw(granularity.toUpperCase());
    const t = type.toUpperCase();
    if (t === "DATE") return sql`DATE_TRUNC(${column}, ${unit})`;
    if (t === "DATETIME") return sql`DATETIME_TRUNC(${column}, ${unit})`;
    return sql`TIMESTAMP_TRUNC(${column}, ${unit})`;
  }

  override overwrite(target: TableRef, columns: string[], select: Sql): Sql[] {
    // BigQuery's DELETE requires a WHERE clause.
    return [
      sql`DELETE FROM ${this.table(target)} WHERE TRUE`,
      this.insertSelect(target, columns, select),
    ];
  }
}
