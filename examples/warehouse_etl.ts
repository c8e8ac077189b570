/**
 * A small warehouse in one pipeline: load raw rows, then build staging, dimension, fact and
 * reporting layers, each with the strategy that suits it. Every step's result is returned, so
 * `tau inspect warehouse_etl --last-run` shows what each layer did.
 */
import { pipeline } from "tau";

export default pipeline({
  name: "warehouse_etl",
  description: "raw → staging → dimensions and facts → reporting",
  connections: ["warehouse"],
  schedule: "0 3 * * *",
  retries: 1,
  tags: ["examples", "materializations"],
}, async (ctx) => {
  await using warehouse = await ctx.connection("warehouse");
  const materialize = (step: string, config: Parameters<typeof ctx.materialize>[0]) =>
    ctx.step(step, async (s) => {
      const result = await ctx.materialize(config, { connection: warehouse });
      s.rowsOut = result.rows_inserted + result.rows_updated;
      return result;
    });

  await ctx.step("load raw", async (step) => {
    await warehouse.execute("CREATE SCHEMA IF NOT EXISTS raw");
    const loaded = await warehouse.load([
      {
        sale_id: 1,
        customer_id: 1,
        product: "Kettle",
        amount: 39.9,
        sold_at: "2026-01-02T10:00:00Z",
      },
      {
        sale_id: 2,
        customer_id: 2,
        product: "Lamp",
        amount: 25.0,
        sold_at: "2026-01-02T11:30:00Z",
      },
      {
        sale_id: 3,
        customer_id: 1,
        product: "Lamp",
        amount: 25.0,
        sold_at: "2026-01-03T09:15:00Z",
      },
    ], { table: "raw.sales", mode: "replace" });
    step.rowsOut = loaded.rows;
  });
  const results = {
    staging: await materialize("staging", {
      strategy: "view",
      targetTable: "staging.sales",
      sourceQuery: "SELECT sale_id, customer_id, lower(product) AS product, amount, " +
        "CAST(sold_at AS DATE) AS sale_date FROM raw.sales",
    }),
    dim_product: await materialize("dim_product", {
      strategy: "full_refresh",
      targetTable: "analytics.dim_product",
      sourceQuery: "SELECT DISTINCT product FROM staging.sales",
    }),
    fact_sales: await materialize("fact_sales", {
      strategy: "incremental",
      targetTable: "analytics.fact_sales",
      sourceQuery: "SELECT * FROM staging.sales",
      uniqueKey: "sale_id",
    }),
    daily_revenue: await materialize("daily_revenue", {
      strategy: "partitioned",
      targetTable: "reporting.daily_revenue",
      sourceQuery: "SELECT sale_date, sum(amount) AS revenue, count(*) AS sales " +
        "FROM analytics.fact_sales GROUP BY sale_date",
      partitionBy: "sale_date",
    }),
  };
  return Object.fromEntries(
    Object.entries(results).map(([layer, r]) => [layer, {
      strategy: r.strategy,
      rows_inserted: r.rows_inserted,
      rows_updated: r.rows_updated,
      rows_deleted: r.rows_deleted,
    }]),
  );
});
