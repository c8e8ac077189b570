/** `GET /lineage?table=NAME` and `GET /lineage?pipeline=NAME`: what `tau lineage` prints. */
import { Hono } from "hono";
import { TauError } from "../core/errors.ts";
import { pipelineLineage, tableLineage } from "../lineage/mod.ts";
import type { ApiDeps } from "./deps.ts";

/** Longest name a lookup takes (a qualified table is three names of up to 256 characters). */
const MAX_QUERY_CHARS = 1024;

export function lineageRoutes(deps: ApiDeps): Hono {
  const app = new Hono();
  app.get("/lineage", async (c) => {
    const table = c.req.query("table");
    const pipeline = c.req.query("pipeline");
    if ((table === undefined) === (pipeline === undefined)) {
      throw new TauError("invalid_params", "Give exactly one of table= and pipeline=", {
        hint: "GET /api/v1/lineage?table=raw_orders or /api/v1/lineage?pipeline=NAME",
      });
    }
    const value = (table ?? pipeline)!;
    if (value === "" || value.length > MAX_QUERY_CHARS) {
      throw new TauError(
        "invalid_params",
        `The ${
          table !== undefined ? "table" : "pipeline"
        } name must be 1 to ${MAX_QUERY_CHARS} characters`,
        { hint: "name a table as TABLE, SCHEMA.TABLE or CONNECTION.SCHEMA.TABLE" },
      );
    }
    return c.json(
      table !== undefined
        ? await tableLineage(deps.store, table)
        : await pipelineLineage(deps.store, value),
    );
  });
  return app;
}
