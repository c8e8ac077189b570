/**
 * The materialization engine: declare what a table should hold and Tau writes the SQL for the
 * connection's engine (PostgreSQL, Redshift, MySQL/MariaDB, DuckDB, Snowflake, BigQuery,
 * ClickHouse) and runs it under a lock, in a transaction where the engine has them.
 *
 * ```ts
 * import { pipeline } from "tau";
 *
 * export default pipeline({ name: "orders", connections: ["warehouse"] }, async (ctx) => {
 *   return await ctx.materialize({
 *     strategy: "incremental",
 *     targetTable: "analytics.orders",
 *     sourceQuery: "SELECT * FROM raw.orders",
 *     uniqueKey: "order_id",
 *     incrementalColumn: "updated_at",
 *   }, { connection: "warehouse" });
 * });
 * ```
 *
 * @module
 */
export { materialize } from "./engine.ts";
export type { MaterializeOptions, MaterializeResult } from "./engine.ts";
export { MaterializationError } from "./config.ts";
export type { MaterializationConfig, Strategy } from "./config.ts";
export type { BaseConfig, EvolvingConfig, OnSchemaChange } from "./config.ts";
export type {
  AppendOnlyConfig,
  FullRefreshConfig,
  IncrementalConfig,
  PartitionedConfig,
  ScdType1Config,
  ScdType2Config,
  SnapshotConfig,
  ViewConfig,
} from "./config.ts";
