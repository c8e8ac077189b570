/**
 * ClickHouse: MergeTree tables with native PARTITION BY / ORDER BY / TTL; no transactions, no
 * UPDATE … FROM and no correlated subqueries, so changes are expressed with tuple IN lists and
 * rewrites become delete + insert. Table swaps use the atomic EXCHANGE TABLES.
 */
import { join, raw, type Sql, sql } from "../sql.ts";
import { type Granularity, type Layout, type Source, SqlDialect, type TableRef } from "./base.ts";

const PARTITION: Record<Granularity, string> = {
  hour: "toStartOfHour",
  day: "toYYYYMMDD",
  month: "toYYYYMM",
  year: "toYear",
};
const TRUNCATE: Record<Granularity, string> = {
  hour: "toStartOfHour",
  day: "toDate",
  month: "toStartOfMonth",
  year: "toStartOfYear",
};

export class ClickHouseDialect extends SqlDialect {
  readonly name = "clickhouse" as const;
  override readonly atomicity = "none" as const;
  override readonly hasMerge = false;
  override readonly tempStage = false;
  override readonly rewritesRows = true;
  override readonly nativeExpiry = true;
  override readonly timestampType = "DateTime64(6, 'UTC')";
  override readonly bigintType = "Int64";

  override placeholder(index: number): string {
    return `{p${index}:String}`;
  }

  override timestampValue(at: Date): string {
    return at.toISOString().replace("T", " ").replace("Z", "");
  }

  // Mutations (ALTER TABLE … UPDATE/DELETE) cannot alias their table: the target's alias is
  // dropped, and its columns are named bare.
  override col(alias: string, name: string): Sql {
    return alias === "t" ? this.ident(name) : sql`${raw(alias)}.${this.ident(name)}`;
  }

  override createStage(stage: TableRef, select: Sql): Sql {
    return this.createTableAs(stage, select);
  }

  override createSchema(target: TableRef): Sql | null {
    return target.length > 1
      ? sql`CREATE DATABASE IF NOT EXISTS ${this.ident(target[0] as string)}`
      : null;
  }

  #where(ref: TableRef): Sql {
    const database = ref.length > 1
      ? sql`database = ${ref[0]}`
      : raw("database = currentDatabase()");
    return sql`${database} AND table = ${ref[ref.length - 1]}`;
  }

  override columns(ref: TableRef): Sql {
    return sql`SELECT name, type FROM system.columns WHERE ${this.#where(ref)} ORDER BY position`;
  }

  override kind(ref: TableRef): Sql {
    return sql`SELECT if(engine = 'View', 'view', 'table') AS kind FROM system.tables WHERE ${
      this.#where(ref)
    }`;
  }

  override createTableAs(ref: TableRef, select: Sql, layout: Layout = {}): Sql {
    const p = layout.partitionBy;
    const partition = p
      ? sql` PARTITION BY ${raw(PARTITION[p.granularity])}(${this.ident(p.column)})`
      : raw("");
    const order = layout.clusterBy ? sql`(${this.list(layout.clusterBy)})` : raw("tuple()");
    // A validated positive integer: TTL takes no query parameters.
    const ttl = p && layout.expirationDays
      ? sql` TTL toDateTime(${this.ident(p.column)}) + INTERVAL ${
        raw(String(Math.trunc(layout.expirationDays)))
      } DAY`
      : raw("");
    return sql`CREATE TABLE ${
      this.table(ref)
    } ENGINE = MergeTree${partition} ORDER BY ${order}${ttl} AS ${select}`;
  }

  override swap(target: TableRef, fresh: TableRef): Sql[] {
    return [
      sql`EXCHANGE TABLES ${this.table(target)} AND ${this.table(fresh)}`,
      this.dropTable(fresh),
    ];
  }

  override createView(ref: TableRef, select: Sql): Sql[] {
    return [sql`CREATE OR REPLACE VIEW ${this.table(ref)} AS ${select}`];
  }

  override distinct(a: Sql, b: Sql): Sql {
    return sql`NOT isNotDistinctFrom(${a}, ${b})`;
  }

  override hash(columns: Sql[]): Sql {
    return sql`lower(hex(MD5(${this.#concat(columns)})))`;
  }

  #concat(columns: Sql[]): Sql {
    const parts = columns.map((c) => {
      const text = this.text(c);
      return sql`if(isNull(${c}), 'N', concat('V', toString(length(${text})), ':', ${text}))`;
    });
    return sql`concat(${join(parts)})`;
  }

  override text(value: Sql): Sql {
    return sql`toString(${value})`;
  }

  override truncate(column: Sql, granularity: Granularity): Sql {
    return sql`${raw(TRUNCATE[granularity])}(${column})`;
  }

  #tuple(alias: string, keys: string[]): Sql {
    return sql`(${join(keys.map((k) => this.col(alias, k)))})`;
  }

  override matches(inner: Source, outerAlias: string, keys: string[]): Sql {
    return sql`${this.#tuple(outerAlias, keys)} IN (SELECT ${this.list(keys, "i")} FROM ${
      this.from(inner)
    } AS i)`;
  }

  override nullOf(type: string): Sql {
    return sql`CAST(NULL AS Nullable(${raw(type)}))`;
  }

  override matchesChanged(inner: Source, outer: string, keys: string[], columns: string[]): Sql {
    const hashOf = (alias: string) => this.hash(columns.map((c) => this.col(alias, c)));
    return sql`${this.matches(inner, outer, keys)} AND (${this.list(keys, outer)}, ${
      hashOf(outer)
    }) NOT IN (SELECT ${this.list(keys, "i")}, ${hashOf("i")} FROM ${this.from(inner)} AS i)`;
  }

  override update(target: TableRef, set: [string, Sql][], where: Sql): Sql {
    const assignments = set.map(([column, value]) => sql`${this.ident(column)} = ${value}`);
    return sql`ALTER TABLE ${this.table(target)} UPDATE ${
      join(assignments)
    } WHERE ${where} SETTINGS mutations_sync = 2`;
  }

  override deleteWhere(target: TableRef, where: Sql): Sql {
    return sql`DELETE FROM ${this.table(target)} WHERE ${where}`;
  }

  override overwrite(target: TableRef, columns: string[], select: Sql): Sql[] {
    return [sql`TRUNCATE TABLE ${this.table(target)}`, this.insertSelect(target, columns, select)];
  }
}
