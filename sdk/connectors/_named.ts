/** Builds the connector for a named connection from the options the trusted side sent. */
import { namedDuckDB } from "./duckdb.ts";
import type { Connector } from "./types.ts";

export async function connectNamed(
  name: string,
  spec: { type: string; options: Record<string, unknown> },
): Promise<Connector> {
  const options = { ...spec.options, name };
  switch (spec.type) {
    case "postgres":
      return (await import("./postgres.ts")).postgres(options as never);
    case "redshift":
      return (await import("./postgres.ts")).redshift(options as never);
    case "mysql":
      return (await import("./mysql.ts")).mysql(options as never);
    case "clickhouse":
      return (await import("./clickhouse.ts")).clickhouse(options as never);
    case "bigquery":
      return (await import("./bigquery.ts")).bigquery(options as never);
    case "snowflake":
      return (await import("./snowflake.ts")).snowflake(options as never);
    case "s3":
      return (await import("./s3.ts")).s3(options as never);
    case "http_api":
      return (await import("./http_api.ts")).httpApi(options as never);
    case "duckdb":
    case "motherduck":
      return namedDuckDB(name, spec.type);
    default:
      throw new Error(`Unknown connection type ${spec.type}`);
  }
}
