/**
 * Full refresh: rebuild a dimension table from scratch on every run. The new table is built
 * beside the old one and swapped in atomically, so readers never see it missing or half-built.
 *
 * Runs against `warehouse`, the embedded DuckDB database every Tau daemon has by default;
 * point `[connections.warehouse]` in tau.toml at PostgreSQL, Snowflake… to use the same file
 * there.
 */
import { pipeline } from "tau";

export default pipeline({
  name: "full_refresh_products",
  description: "Rebuild analytics.dim_products from raw.products",
  connections: ["warehouse"],
  schedule: "0 6 * * *",
  tags: ["examples", "materializations"],
}, async (ctx) => {
  await using warehouse = await ctx.connection("warehouse");
  await ctx.step("seed raw.products", async () => {
    await warehouse.execute("CREATE SCHEMA IF NOT EXISTS raw");
    await warehouse.execute(`CREATE OR REPLACE TABLE raw.products AS
      SELECT * FROM (VALUES (1, 'SKU-1', 'Kettle', 39.90), (2, 'SKU-2', 'Toaster', 24.50),
                            (3, 'SKU-3', 'Blender', NULL)) AS p(product_id, sku, name, price)`);
  });
  return await ctx.materialize({
    strategy: "full_refresh",
    targetTable: "analytics.dim_products",
    sourceQuery: "SELECT product_id, sku, name, price FROM raw.products WHERE price IS NOT NULL",
    preHook: "DROP INDEX IF EXISTS analytics.idx_dim_products_sku",
    postHook: "CREATE INDEX idx_dim_products_sku ON analytics.dim_products (sku)",
  }, { connection: warehouse });
});
