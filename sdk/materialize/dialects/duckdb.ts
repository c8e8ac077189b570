/**
 * DuckDB: transactional DDL and MERGE like PostgreSQL; its own catalog functions. No lock
 * statement: the daemon gives a database file to one run at a time, and a run queues its own
 * materializations.
 */
import { raw, type Sql, sql } from "../sql.ts";
import { SqlDialect, type TableRef } from "./base.ts";

export class DuckDBDialect extends SqlDialect {
  readonly name = "duckdb" as const;

  #where(ref: TableRef, stage: boolean, nameColumn = "table_name"): Sql {
    const database = ref.length > 2
      ? sql`database_name = ${ref[0]}`
      : stage
      ? raw("database_name = 'temp'")
      : raw("database_name = current_database()");
    const schema = ref.length > 1 ? ref[ref.length - 2] : "main";
    return sql`${database} AND schema_name = ${schema} AND ${raw(nameColumn)} = ${
      ref[ref.length - 1]
    }`;
  }

  override columns(ref: TableRef, stage: boolean): Sql {
    return sql`SELECT column_name AS name, data_type AS type FROM duckdb_columns() WHERE ${
      this.#where(ref, stage)
    } ORDER BY column_index`;
  }

  override kind(ref: TableRef): Sql {
    return sql`SELECT 'table' AS kind FROM duckdb_tables() WHERE ${
      this.#where(ref, false)
    } UNION ALL SELECT 'view' AS kind FROM duckdb_views() WHERE NOT internal AND ${
      this.#where(ref, false, "view_name")
    }`;
  }
}
