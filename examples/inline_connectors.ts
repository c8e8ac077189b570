/**
 * The same sync with inline connectors: the pipeline builds its connectors itself, so it
 * declares the hosts (`net`) and the secret holding the DSN (`secrets`) it needs.
 */
import { pipeline } from "tau";
import { httpApi, postgres } from "tau/connectors";

export default pipeline({
  name: "inline_api_to_warehouse",
  description: "Users from the REST API into raw.users_inline, with inline connectors",
  secrets: ["WAREHOUSE_DSN", "USERS_API_URL"],
  // Exact host:port pairs: the warehouse, and the users API that USERS_API_URL points at.
  net: ["127.0.0.1:5432", "127.0.0.1:8080"],
}, async (ctx) => {
  await using api = httpApi({ baseUrl: ctx.secret("USERS_API_URL") });
  await using warehouse = postgres({ dsn: ctx.secret("WAREHOUSE_DSN") });

  const users = await api.extract({
    endpoint: "/users",
    path: "data",
    params: { page: 1, per_page: 100 },
  });
  const { rows: written } = await warehouse.load(users, {
    table: "raw.users_inline",
    mode: "replace",
  });
  const [check] = await warehouse.extract({
    query: "SELECT count(*)::int AS n FROM raw.users_inline",
  });
  return { written, in_table: check?.n };
});
