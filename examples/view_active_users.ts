/**
 * View: a reporting view over the SCD2 dimension, storing nothing. Run scd2_customers first.
 */
import { pipeline } from "tau";

export default pipeline({
  name: "view_active_users",
  description: "reporting.v_active_users over analytics.dim_customers",
  connections: ["warehouse"],
  dependsOn: ["scd2_customers"],
  tags: ["examples", "materializations"],
}, async (ctx) => {
  return await ctx.materialize({
    strategy: "view",
    targetTable: "reporting.v_active_users",
    sourceQuery:
      "SELECT customer_id, name, email, tier FROM analytics.dim_customers WHERE is_current",
  }, { connection: "warehouse" });
});
