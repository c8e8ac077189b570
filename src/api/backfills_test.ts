/**
 * The backfill routes through `createApp(...).fetch` with no socket, on a real SQLite store:
 * who may do what, and the shapes. Nothing executes (the run manager only cancels).
 */
import { assertEquals } from "../../tests/helpers/assert.ts";
import { configSchema } from "../config/config.ts";
import { tauPaths } from "../config/paths.ts";
import type { RunManager } from "../runner/run_manager.ts";
import { openStore } from "../store/mod.ts";
import { createApp } from "./app.ts";
import { adminKeyDigests } from "./keys.ts";

const ADMIN = "tau_sk_" + "6b".repeat(24);

Deno.test("backfills: a read key plans and reads, an operate key starts and cancels", async () => {
  const home = await Deno.makeTempDir({ prefix: "tau_backfill_api_" });
  const paths = tauPaths(home);
  const store = await openStore({ path: paths.database });
  let poked = 0;
  const app = createApp({
    store,
    runs: {
      cancel: async (id: string) => (await store.updateRun(id, { status: "cancelled" }))!,
    } as unknown as RunManager,
    scheduler: { poke() {} },
    backfills: { poke: () => void poked++ },
    paths,
    config: configSchema.parse({}),
    adminKeyDigests: adminKeyDigests([ADMIN]),
    connections: new Map(),
    daemon: { pid: 1, host: "127.0.0.1", port: 8400, dashboardPort: 0, startedAt: new Date() },
  });
  const call = async (method: string, path: string, key: string, body?: unknown) => {
    const res = await app.fetch(
      new Request(`http://127.0.0.1/api/v1${path}`, {
        method,
        headers: { authorization: `Bearer ${key}` },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      }),
    );
    return { status: res.status, json: await res.json() };
  };
  try {
    await store.deploy({
      name: "hourly",
      code: "export default 1;",
      hash: "h1",
      filename: "hourly.ts",
      source_path: null,
      schedule: "0 * * * *",
      metadata: {},
    });
    await store.setSchedule(
      "hourly",
      { cron: "0 * * * *", every_s: null, timezone: null },
      new Date(),
    );
    const read = (await call("POST", "/keys", ADMIN, { scope: "read" })).json.key as string;
    const operate = (await call("POST", "/keys", ADMIN, { scope: "operate" })).json.key as string;
    const range = { from: "2026-01-01", to: "2026-01-02" };

    const plan = await call("POST", "/pipelines/hourly/backfills", read, {
      ...range,
      dry_run: true,
    });
    assertEquals([plan.status, plan.json.total, plan.json.instants.length], [200, 24, 24]);
    const refused = await call("POST", "/pipelines/hourly/backfills", read, range);
    assertEquals([refused.status, refused.json.error.code], [403, "forbidden"]);
    const unknown = await call("POST", "/pipelines/hourly/backfills", operate, {
      ...range,
      parallel: 3,
    });
    assertEquals(unknown.json.error.code, "invalid_request");

    const made = await call("POST", "/pipelines/hourly/backfills", operate, {
      ...range,
      concurrency: 2,
    });
    assertEquals(made.status, 201, JSON.stringify(made.json));
    assertEquals([made.json.status, made.json.total, made.json.counts.pending], [
      "running",
      24,
      24,
    ]);
    assertEquals(poked, 1, "the driver is told at once");
    const id = made.json.backfill_id as string;

    const listed = await call("GET", "/backfills?pipeline=hourly&status=running", read);
    assertEquals([listed.json.count, listed.json.backfills[0].backfill_id], [1, id]);
    assertEquals(
      (await call("GET", "/backfills?status=done", read)).json.error.code,
      "invalid_params",
    );
    const shown = await call("GET", `/backfills/${id}`, read);
    assertEquals([shown.json.next_instant, shown.json.active, shown.json.failed], [
      "2026-01-01T00:00:00.000Z",
      [],
      [],
    ]);
    assertEquals((await call("GET", "/backfills/bf_nope", read)).status, 404);

    assertEquals((await call("POST", `/backfills/${id}/cancel`, read)).status, 403);
    const cancelled = await call("POST", `/backfills/${id}/cancel`, operate);
    assertEquals([cancelled.json.status, cancelled.json.counts.cancelled], ["cancelled", 24]);
    assertEquals((await call("POST", `/backfills/${id}/cancel`, operate)).status, 409);
  } finally {
    await store.close();
    await Deno.remove(home, { recursive: true });
  }
});
