/**
 * SCD type 2: full history of customers. A change to a tracked column closes the current row
 * (valid_to, is_current = false) and opens a new one; a customer missing from the source is
 * closed (invalidateHardDeletes); one that comes back gets a new current row.
 */
import { pipeline } from "tau";

export default pipeline({
  name: "scd2_customers",
  description: "Track every change to customers in analytics.dim_customers",
  connections: ["warehouse"],
  schedule: "0 2 * * *",
  tags: ["examples", "materializations"],
}, async (ctx) => {
  await using warehouse = await ctx.connection("warehouse");
  await ctx.step("seed raw.customers", async () => {
    await warehouse.execute("CREATE SCHEMA IF NOT EXISTS raw");
    // `tau run scd2_customers --params '{"tier": "gold"}'` upgrades customer 2.
    await warehouse.execute(
      `CREATE OR REPLACE TABLE raw.customers AS
       SELECT * FROM (VALUES (1, 'Ada', 'ada@example.com', 'free'),
                             (2, 'Grace', 'grace@example.com', CAST($1 AS VARCHAR)))
         AS c(customer_id, name, email, tier)`,
      [String(ctx.params.tier ?? "free")],
    );
  });
  return await ctx.materialize({
    strategy: "scd_type_2",
    targetTable: "analytics.dim_customers",
    sourceQuery: "SELECT customer_id, name, email, tier FROM raw.customers",
    uniqueKey: "customer_id",
    trackedColumns: ["name", "email", "tier"],
    invalidateHardDeletes: true,
  }, { connection: warehouse });
});
