/** The dialect of a connector: the engine never takes it from anywhere else. */
import type { Dialect } from "../../connectors/types.ts";
import type { SqlDialect } from "./base.ts";
import { BigQueryDialect } from "./bigquery.ts";
import { ClickHouseDialect } from "./clickhouse.ts";
import { DuckDBDialect } from "./duckdb.ts";
import { MySQLDialect } from "./mysql.ts";
import { PostgresDialect, RedshiftDialect } from "./postgres.ts";
import { SnowflakeDialect } from "./snowflake.ts";

export type { Granularity, Layout, Source, TableRef } from "./base.ts";
export { SqlDialect } from "./base.ts";

const DIALECTS: Record<Dialect, () => SqlDialect> = {
  postgres: () => new PostgresDialect(),
  redshift: () => new RedshiftDialect(),
  mysql: () => new MySQLDialect(),
  duckdb: () => new DuckDBDialect(),
  snowflake: () => new SnowflakeDialect(),
  bigquery: () => new BigQueryDialect(),
  clickhouse: () => new ClickHouseDialect(),
};

export function dialectFor(name: Dialect): SqlDialect {
  return DIALECTS[name]();
}
