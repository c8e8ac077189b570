/**
 * REST API → PostgreSQL through named connections. tau.toml:
 *
 *   [connections.api]
 *   type = "http_api"
 *   base_url = "https://api.example.com/v1"
 *   auth = { type = "bearer", token = "${API_TOKEN}" }
 *
 *   [connections.warehouse]
 *   type = "postgres"
 *   dsn = "${WAREHOUSE_DSN}"
 *
 * Declaring the two connections is what grants the run their hosts and credentials — and
 * nothing else.
 */
import { pipeline } from "tau";

export default pipeline({
  name: "api_to_warehouse",
  description: "Users from the REST API, upserted into raw.users",
  connections: ["api", "warehouse"],
  retries: 2,
  timeout: "10m",
}, async (ctx) => {
  await using api = await ctx.connection("api");
  await using warehouse = await ctx.connection("warehouse");

  const users = await ctx.step("extract", async (step) => {
    const rows = await api.extract({
      endpoint: "/users",
      path: "data",
      pagination: { type: "page", param: "page", size: 2, sizeParam: "per_page" },
    });
    step.rowsOut = rows.length;
    return rows;
  });

  const written = await ctx.step("load", async (step) => {
    step.rowsIn = users.length;
    const { rows } = await warehouse.load(users, {
      table: "raw.users",
      mode: "upsert",
      mergeKey: "user_id",
    });
    step.rowsOut = rows;
    return rows;
  });

  return { users: users.length, written };
});
