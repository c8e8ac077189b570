/** PostgreSQL is the base dialect; Redshift differs in its catalog and its locks. */
import { raw, type Sql, sql } from "../sql.ts";
import { lockName, SqlDialect, type TableRef } from "./base.ts";

export class PostgresDialect extends SqlDialect {
  readonly name = "postgres" as const;

  // A transaction-scoped advisory lock: also held before the target exists (first run).
  override lock(target: TableRef): { acquire: Sql[]; release: Sql[] } {
    return {
      acquire: [sql`SELECT pg_advisory_xact_lock(hashtextextended(${lockName(target)}, 0))`],
      release: [],
    };
  }
}

export class RedshiftDialect extends SqlDialect {
  readonly name = "redshift" as const;

  // No advisory locks: lock the target itself (it exists from the second run on).
  override lock(target: TableRef, exists: boolean): { acquire: Sql[]; release: Sql[] } {
    return { acquire: exists ? [sql`LOCK ${this.table(target)}`] : [], release: [] };
  }

  override columns(ref: TableRef, stage: boolean): Sql {
    const schema = stage
      ? raw("table_schema LIKE 'pg_temp_%'")
      : ref.length > 1
      ? sql`table_schema = ${ref[0]}`
      : raw("table_schema = current_schema()");
    return sql`SELECT column_name AS name, data_type AS type FROM svv_columns WHERE ${schema} AND table_name = ${
      ref[ref.length - 1]
    } ORDER BY ordinal_position`;
  }

  override kind(ref: TableRef): Sql {
    const schema = ref.length > 1
      ? sql`table_schema = ${ref[0]}`
      : raw("table_schema = current_schema()");
    return sql`SELECT CASE WHEN table_type = 'VIEW' THEN 'view' ELSE 'table' END AS kind FROM svv_tables WHERE ${schema} AND table_name = ${
      ref[ref.length - 1]
    }`;
  }
}
