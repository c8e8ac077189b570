/**
 * Partitioned: the days present in the source replace the same days in the target, and days
 * older than 90 are dropped. On BigQuery and ClickHouse the table is natively partitioned and
 * clustered (PARTITION BY / CLUSTER BY, MergeTree PARTITION BY / ORDER BY / TTL).
 */
import { pipeline } from "tau";

export default pipeline({
  name: "partitioned_events",
  description: "Date-partitioned analytics.events with 90-day expiry",
  connections: ["warehouse"],
  schedule: "0 * * * *",
  tags: ["examples", "materializations"],
}, async (ctx) => {
  await using warehouse = await ctx.connection("warehouse");
  await ctx.step("seed raw.events", async () => {
    await warehouse.execute("CREATE SCHEMA IF NOT EXISTS raw");
    // Today's and yesterday's events, as a late-arriving feed would re-deliver them.
    await warehouse.execute(`CREATE OR REPLACE TABLE raw.events AS
      SELECT i AS event_id, (i % 5) AS user_id, CASE WHEN i % 2 = 0 THEN 'click' ELSE 'view' END AS event_type,
             current_date - CAST(i % 2 AS INTEGER) AS event_date
      FROM range(1, 21) AS t(i)`);
  });
  return await ctx.materialize({
    strategy: "partitioned",
    targetTable: "analytics.events",
    sourceQuery: "SELECT * FROM raw.events",
    uniqueKey: "event_id",
    partitionBy: "event_date",
    partitionGranularity: "day",
    clusterBy: ["user_id", "event_type"],
    partitionExpirationDays: 90,
  }, { connection: warehouse });
});
