/**
 * Incremental merge: each run reads only orders updated since the newest one already in the
 * target (the high-water mark, compared in SQL), and merges them on order_id: changed
 * orders are updated, new ones inserted.
 */
import { pipeline } from "tau";

export default pipeline({
  name: "incremental_orders",
  description: "Merge new and changed orders into analytics.orders",
  connections: ["warehouse"],
  schedule: "*/15 * * * *",
  tags: ["examples", "materializations"],
}, async (ctx) => {
  await using warehouse = await ctx.connection("warehouse");
  await ctx.step("receive orders", async (step) => {
    // Stands in for an upstream system: every run, two orders arrive and order 1 changes.
    await warehouse.execute("CREATE SCHEMA IF NOT EXISTS raw");
    await warehouse.execute(`CREATE TABLE IF NOT EXISTS raw.orders
      (order_id BIGINT, customer_id BIGINT, status VARCHAR, amount DECIMAL(10, 2), updated_at TIMESTAMP)`);
    await warehouse.execute(`INSERT INTO raw.orders
      SELECT last + n, n, 'new', 10 * n, now()::TIMESTAMP
      FROM (SELECT coalesce(max(order_id), 0) AS last FROM raw.orders), (VALUES (1), (2)) AS t(n)`);
    await warehouse.execute(
      "UPDATE raw.orders SET status = 'shipped', updated_at = now()::TIMESTAMP WHERE order_id = 1",
    );
    step.rowsOut = 3;
  });
  return await ctx.materialize({
    strategy: "incremental",
    targetTable: "analytics.orders",
    sourceQuery: "SELECT * FROM raw.orders",
    uniqueKey: "order_id",
    incrementalColumn: "updated_at",
    incrementalStrategy: "merge",
  }, { connection: warehouse });
});
