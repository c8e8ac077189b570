/**
 * Connectors for inline use (`import { postgres } from "tau/connectors"`). Named connections
 * from tau.toml are the recommended way (`await ctx.connection("warehouse")`): they grant the
 * run its host and credentials without the pipeline holding them. An inline connector's host
 * must be listed in the pipeline's `net`.
 *
 * Every connector has the same interface: `extract`, `extractStream`, `load`, `execute`.
 * Drivers load lazily: a pipeline that uses only PostgreSQL never loads another driver.
 *
 * @module
 */
export type * from "./types.ts";
export { ConnectorError } from "./types.ts";
export { SchemaChangeError } from "./_schema.ts";
export { type ColumnKind, type ColumnType, columnTypes, withColumnTypes } from "./_columns.ts";
export { postgres, type PostgresOptions, redshift } from "./postgres.ts";
export { mysql, type MysqlOptions } from "./mysql.ts";
export { duckdb, type DuckDBOptions } from "./duckdb.ts";
export { clickhouse, type ClickHouseOptions } from "./clickhouse.ts";
export { bigquery, type BigQueryOptions, type ServiceAccountKey } from "./bigquery.ts";
export { snowflake, type SnowflakeOptions } from "./snowflake.ts";
export { s3 } from "./s3.ts";
export type { S3Connector, S3ExtractOptions, S3Format, S3LoadOptions, S3Options } from "./s3.ts";
export { http_api, httpApi, HttpApiError } from "./http_api.ts";
export type {
  CursorPagination,
  HttpApiConnector,
  HttpApiOptions,
  HttpAuth,
  HttpExtractOptions,
  HttpLoadOptions,
  HttpMethod,
  OffsetPagination,
  PagePagination,
  Pagination,
  QueryParams,
} from "./http_api.ts";
