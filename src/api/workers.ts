/**
 * The worker fleet: every `taud` with the worker role registers itself and heartbeats through
 * the store; this lists them with a status derived from the heartbeat. `POST /register` keeps
 * the earlier Python Tau's registration call working: workers pull runs themselves here, so it
 * only records the worker (its `api_key` is never stored).
 */
import { Hono } from "hono";
import { z } from "zod";
import type { WorkerRecord } from "../store/mod.ts";
import type { ApiDeps } from "./deps.ts";
import { jsonBody } from "./_body.ts";
import { parseBody } from "./runs.ts";
import { DEFAULT_LEASE_MS } from "../runner/options.ts";

const registerBody = z.object({
  worker_id: z.string().min(1).max(200),
  host: z.string().min(1).max(500),
  max_concurrent: z.number().int().min(1).max(1000).default(4),
  tags: z.array(z.string().min(1).max(64)).max(50).default([]),
  api_key: z.string().optional(),
});

/** `lost` once a worker missed this many heartbeat periods. */
const LOST_AFTER_BEATS = 3;

export function workerRoutes({ store, leaseMs = DEFAULT_LEASE_MS }: ApiDeps): Hono {
  const app = new Hono();
  app.get("/", async (c) => {
    const now = Date.now();
    const workers = (await store.listWorkers()).map((w) => workerView(w, now, leaseMs));
    return c.json({ workers, count: workers.length });
  });
  app.post("/register", async (c) => {
    const body = parseBody(registerBody, await jsonBody(c.req));
    const worker = await store.registerWorker({
      id: body.worker_id,
      host: body.host,
      pid: null,
      roles: ["worker"],
      tags: body.tags,
      capacity: body.max_concurrent,
    }, new Date());
    return c.json({ registered: worker.id, worker: workerView(worker, Date.now(), leaseMs) });
  });
  return app;
}

/** A worker as listed: `lost` once its heartbeats stopped. */
export function workerView(worker: WorkerRecord, now: number, leaseMs: number) {
  const silentMs = now - Date.parse(worker.heartbeat_at);
  const status = worker.status === "stopped"
    ? "stopped"
    : silentMs > (leaseMs / 3) * LOST_AFTER_BEATS
    ? "lost"
    : worker.status;
  return { ...worker, status, heartbeat_age_ms: Math.max(0, silentMs) };
}
