/**
 * The dashboard's static files, all served by the daemon: its stylesheet and htmx, read from
 * the locked npm package (no CDN, no build step).
 */
import { Hono } from "hono";
import HTMX from "htmx.org/dist/htmx.min.js" with { type: "text" };
import type { Env } from "./context.ts";
import { DASHBOARD_CSS } from "./style.ts";

const CACHE = "max-age=300";

export function assetRoutes(): Hono<Env> {
  const app = new Hono<Env>();
  app.get("/static/dashboard.css", (c) =>
    c.body(DASHBOARD_CSS, 200, {
      "Content-Type": "text/css; charset=utf-8",
      "Cache-Control": CACHE,
    }));
  app.get("/static/htmx.min.js", (c) =>
    c.body(HTMX, 200, {
      "Content-Type": "text/javascript; charset=utf-8",
      "Cache-Control": CACHE,
    }));
  return app;
}
