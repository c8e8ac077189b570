/** Routes for the diagnosis of failed runs (`tau heal`); read scope. */
import { Hono } from "hono";
import type { ApiDeps } from "./app.ts";
import { healReport } from "../heal/mod.ts";

export function healRoutes({ store }: Pick<ApiDeps, "store">): Hono {
  const app = new Hono();

  // The run's stored diagnosis, else one computed now; `?run=` picks the run (default: the
  // pipeline's newest failed run).
  app.get("/pipelines/:name/diagnosis", async (c) => {
    const runId = c.req.query("run");
    return c.json(await healReport(store, c.req.param("name"), runId || undefined));
  });

  return app;
}
