/**
 * Append only: API call logs are immutable, so every run only inserts. A column the source
 * gains later (here `region`) is added to the target instead of failing the run
 * (onSchemaChange "append_new_columns", the default).
 */
import { pipeline } from "tau";

export default pipeline({
  name: "append_only_logs",
  description: "Append the API log buffer to raw.api_logs",
  connections: ["warehouse"],
  tags: ["examples", "materializations"],
}, async (ctx) => {
  await using warehouse = await ctx.connection("warehouse");
  await ctx.step("fill the buffer", async () => {
    await warehouse.execute("CREATE SCHEMA IF NOT EXISTS staging");
    await warehouse.execute(`CREATE OR REPLACE TABLE staging.api_logs_buffer AS
      SELECT now()::TIMESTAMP AS logged_at, 'GET' AS method, '/users' AS path, 200 AS status, 'eu' AS region`);
  });
  return await ctx.materialize({
    strategy: "append_only",
    targetTable: "raw.api_logs",
    sourceQuery: "SELECT * FROM staging.api_logs_buffer",
    onSchemaChange: "append_new_columns",
  }, { connection: warehouse });
});
