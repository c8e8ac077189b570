/**
 * MySQL and MariaDB: DDL commits implicitly, so only the data changes share a transaction and a
 * named lock (GET_LOCK) serializes the rest; no MERGE; NULL-safe equality is `<=>`.
 */
import { join, raw, type Sql, sql } from "../sql.ts";
import {
  type Granularity,
  type HighWaterMark,
  lockName,
  SqlDialect,
  type TableRef,
} from "./base.ts";

const FORMATS: Record<Granularity, string> = {
  hour: "%Y-%m-%d %H:00:00",
  day: "%Y-%m-%d",
  month: "%Y-%m-01",
  year: "%Y-01-01",
};

export class MySQLDialect extends SqlDialect {
  readonly name = "mysql" as const;
  override readonly atomicity = "dml" as const;
  override readonly hasMerge = false;
  override readonly timestampType = "DATETIME(6)";
  override readonly bigintType = "SIGNED";

  override placeholder(): string {
    return "?";
  }

  override timestampValue(at: Date): string {
    // Connections use time_zone '+00:00'; DATETIME has no zone.
    return at.toISOString().replace("T", " ").replace("Z", "");
  }

  override begin(): Sql {
    return raw("START TRANSACTION");
  }

  override lock(target: TableRef, _exists: boolean): { acquire: Sql[]; release: Sql[] } {
    const name = shortLockName(lockName(target));
    return {
      acquire: [sql`SELECT GET_LOCK(${name}, 3600) AS acquired`],
      release: [sql`SELECT RELEASE_LOCK(${name}) AS released`],
    };
  }

  // With a subquery on a target column without an index (CREATE TABLE … AS makes none), MariaDB
  // scans the whole source. A session variable keeps the column's type and, being a constant to
  // the optimizer, lets an index on the source bound the read.
  override highWaterMark(target: TableRef, column: string): HighWaterMark {
    return {
      read: sql`SELECT max(${this.ident(column)}) FROM ${this.table(target)} INTO @tau_hwm`,
      value: () => raw("@tau_hwm"),
    };
  }

  override createStage(stage: TableRef, select: Sql): Sql {
    return sql`CREATE TEMPORARY TABLE ${this.table(stage)} AS ${select}`;
  }

  override createSchema(target: TableRef): Sql | null {
    return target.length > 1
      ? sql`CREATE DATABASE IF NOT EXISTS ${this.ident(target[0] as string)}`
      : null;
  }

  override columns(ref: TableRef, stage: boolean): Sql {
    // Temporary tables are not in information_schema.
    if (stage) return sql`SHOW COLUMNS FROM ${this.table(ref)}`;
    return sql`SELECT COLUMN_NAME AS name, COLUMN_TYPE AS type FROM information_schema.COLUMNS WHERE ${
      this.#schema(ref)
    } AND TABLE_NAME = ${ref[ref.length - 1]} ORDER BY ORDINAL_POSITION`;
  }

  override kind(ref: TableRef): Sql {
    return sql`SELECT CASE WHEN TABLE_TYPE = 'VIEW' THEN 'view' ELSE 'table' END AS kind FROM information_schema.TABLES WHERE ${
      this.#schema(ref)
    } AND TABLE_NAME = ${ref[ref.length - 1]}`;
  }

  #schema(ref: TableRef): Sql {
    return ref.length > 1 ? sql`TABLE_SCHEMA = ${ref[0]}` : raw("TABLE_SCHEMA = DATABASE()");
  }

  override swap(target: TableRef, fresh: TableRef, old: TableRef): Sql[] {
    return [
      sql`RENAME TABLE ${this.table(target)} TO ${this.table(old)}, ${this.table(fresh)} TO ${
        this.table(target)
      }`,
      this.dropTable(old),
    ];
  }

  override createView(ref: TableRef, select: Sql): Sql[] {
    return [sql`CREATE OR REPLACE VIEW ${this.table(ref)} AS ${select}`];
  }

  override distinct(a: Sql, b: Sql): Sql {
    return sql`NOT (${a} <=> ${b})`;
  }

  override hash(columns: Sql[]): Sql {
    const parts = columns.map((c) => {
      const text = this.text(c);
      return sql`CASE WHEN ${c} IS NULL THEN 'N' ELSE CONCAT('V', CHAR_LENGTH(${text}), ':', ${text}) END`;
    });
    return sql`MD5(CONCAT(${join(parts)}))`;
  }

  override text(value: Sql): Sql {
    return sql`CAST(${value} AS CHAR)`;
  }

  override truncate(column: Sql, granularity: Granularity): Sql {
    return sql`DATE_FORMAT(${column}, '${raw(FORMATS[granularity])}')`;
  }

  override updateFrom(target: TableRef, stage: TableRef, set: [string, Sql][], where: Sql): Sql {
    const assignments = set.map(([column, value]) => sql`${this.col("t", column)} = ${value}`);
    return sql`UPDATE ${this.table(target)} AS t INNER JOIN ${
      this.table(stage)
    } AS s ON ${where} SET ${join(assignments)}`;
  }

  override update(target: TableRef, set: [string, Sql][], where: Sql): Sql {
    const assignments = set.map(([column, value]) => sql`${this.col("t", column)} = ${value}`);
    return sql`UPDATE ${this.table(target)} AS t SET ${join(assignments)} WHERE ${where}`;
  }

  override deleteWhere(target: TableRef, where: Sql): Sql {
    return sql`DELETE t FROM ${this.table(target)} AS t WHERE ${where}`;
  }
}

/** GET_LOCK names are at most 64 characters. */
function shortLockName(name: string): string {
  if (name.length <= 64) return name;
  let h = 0x811c9dc5; // FNV-1a: a stable, short tag for the long tail of the name
  for (const ch of name) h = Math.imul(h ^ ch.charCodeAt(0), 0x01000193) >>> 0;
  return `${name.slice(0, 55)}:${h.toString(16).padStart(8, "0")}`;
}
