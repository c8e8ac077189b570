/**
 * Snapshot: every run appends a point-in-time copy of the active accounts, numbered
 * (snapshot_id) and timestamped (snapshot_at); only the newest 30 snapshots are kept.
 */
import { pipeline } from "tau";

export default pipeline({
  name: "snapshot_balances",
  description: "Daily balance snapshots with 30-snapshot retention",
  connections: ["warehouse"],
  schedule: "59 23 * * *",
  tags: ["examples", "materializations"],
}, async (ctx) => {
  await using warehouse = await ctx.connection("warehouse");
  await ctx.step("seed raw.accounts", async () => {
    await warehouse.execute("CREATE SCHEMA IF NOT EXISTS raw");
    await warehouse.execute(`CREATE OR REPLACE TABLE raw.accounts AS
      SELECT * FROM (VALUES (1, 120.00, true), (2, 80.50, true), (3, 0.00, false))
        AS a(account_id, balance, is_active)`);
  });
  return await ctx.materialize({
    strategy: "snapshot",
    targetTable: "analytics.balance_snapshots",
    sourceQuery: "SELECT account_id, balance FROM raw.accounts WHERE is_active = true",
    retainSnapshots: 30,
  }, { connection: warehouse });
});
