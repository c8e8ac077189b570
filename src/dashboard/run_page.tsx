/** (being written) */
import { Hono } from "hono";
import type { DashboardDeps, Env } from "./context.ts";

export function runPages(_deps: DashboardDeps): Hono<Env> {
  return new Hono<Env>();
}
