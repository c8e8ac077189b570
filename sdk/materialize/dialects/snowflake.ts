/**
 * Snowflake: its SQL API runs an explicit transaction only inside one multi-statement request,
 * so the data changes go as one script; DDL commits implicitly; stages are transient tables
 * (a temporary table would end with the request that made it).
 */
import { raw, type Sql, sql } from "../sql.ts";
import { type Layout, SqlDialect, type TableRef } from "./base.ts";

export class SnowflakeDialect extends SqlDialect {
  readonly name = "snowflake" as const;
  override readonly atomicity = "script" as const;
  override readonly tempStage = false;
  override readonly timestampType = "TIMESTAMP_TZ";
  override readonly bigintType = "NUMBER(38,0)";

  override placeholder(): string {
    return "?";
  }

  override begin(): Sql {
    return raw("BEGIN TRANSACTION");
  }

  override createStage(stage: TableRef, select: Sql): Sql {
    return sql`CREATE TRANSIENT TABLE ${this.table(stage)} AS ${select}`;
  }

  #where(ref: TableRef): Sql {
    const schema = ref.length > 1
      ? sql`table_schema = ${ref[ref.length - 2]}`
      : raw("table_schema = CURRENT_SCHEMA()");
    return sql`${schema} AND table_name = ${ref[ref.length - 1]}`;
  }

  override columns(ref: TableRef): Sql {
    return sql`SELECT column_name AS "name", data_type AS "type" FROM information_schema.columns WHERE ${
      this.#where(ref)
    } ORDER BY ordinal_position`;
  }

  override kind(ref: TableRef): Sql {
    return sql`SELECT CASE WHEN table_type = 'VIEW' THEN 'view' ELSE 'table' END AS "kind" FROM information_schema.tables WHERE ${
      this.#where(ref)
    }`;
  }

  override createTableAs(ref: TableRef, select: Sql, layout: Layout = {}): Sql {
    const cluster = layout.clusterBy ? sql` CLUSTER BY (${this.list(layout.clusterBy)})` : raw("");
    return sql`CREATE TABLE ${this.table(ref)}${cluster} AS ${select}`;
  }

  override swap(target: TableRef, fresh: TableRef): Sql[] {
    return [
      sql`ALTER TABLE ${this.table(target)} SWAP WITH ${this.table(fresh)}`,
      this.dropTable(fresh),
    ];
  }

  override createView(ref: TableRef, select: Sql): Sql[] {
    return [sql`CREATE OR REPLACE VIEW ${this.table(ref)} AS ${select}`];
  }

  override overwrite(target: TableRef, columns: string[], select: Sql): Sql[] {
    return [sql`INSERT OVERWRITE INTO ${this.table(target)} (${this.list(columns)}) ${select}`];
  }
}
