/**
 * SCD type 1: products whose name, price or category changed are overwritten in place (no
 * history); unchanged rows are not touched; new products are inserted.
 */
import { pipeline } from "tau";

export default pipeline({
  name: "scd1_products",
  description: "Keep analytics.products current, overwriting changed values",
  connections: ["warehouse"],
  tags: ["examples", "materializations"],
}, async (ctx) => {
  await using warehouse = await ctx.connection("warehouse");
  await ctx.step("seed raw.catalog", async () => {
    await warehouse.execute("CREATE SCHEMA IF NOT EXISTS raw");
    // The price of product 2 follows the run's parameters: `tau run scd1_products --params '{"price": 30}'`.
    await warehouse.execute(
      `CREATE OR REPLACE TABLE raw.catalog AS
       SELECT * FROM (VALUES (1, 'Kettle', 39.90, 'kitchen'), (2, 'Lamp', CAST($1 AS DOUBLE), 'home'))
         AS c(product_id, name, price, category)`,
      [Number(ctx.params.price ?? 25)],
    );
  });
  return await ctx.materialize({
    strategy: "scd_type_1",
    targetTable: "analytics.products",
    sourceQuery: "SELECT * FROM raw.catalog",
    uniqueKey: "product_id",
    trackedColumns: ["name", "price", "category"],
  }, { connection: warehouse });
});
