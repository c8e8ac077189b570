/** Routes for named connections: list (never a credential) and a real connectivity test. */
import { Hono } from "hono";
import { TauError } from "../core/errors.ts";
import { publicView } from "../connections/registry.ts";
import { testConnection } from "../connections/test_connection.ts";
import type { ApiDeps } from "./deps.ts";

export function connectionRoutes({ connections, paths, boundary }: ApiDeps): Hono {
  const app = new Hono();
  app.get("/", (c) => {
    const list = [...connections.values()].map(publicView);
    return c.json({ connections: list, count: list.length });
  });
  app.post("/:name/test", async (c) => {
    const name = c.req.param("name");
    const connection = connections.get(name);
    if (!connection) {
      throw new TauError("not_found", `No connection named ${name}`, {
        hint: connections.size > 0
          ? `configured connections: ${[...connections.keys()].join(", ")}`
          : "add a [connections.NAME] table to tau.toml and restart taud",
      });
    }
    return c.json(
      await testConnection(connection, connections, paths.home, undefined, boundary),
    );
  });
  return app;
}
