import { assertEquals } from "../../tests/helpers/assert.ts";
import { openStore } from "../store/mod.ts";
import type { ApiDeps } from "./deps.ts";
import { workerRoutes } from "./workers.ts";

Deno.test("workers: the earlier Tau's register call records a worker; lost ones show as lost", async () => {
  const dir = await Deno.makeTempDir();
  const store = await openStore({ path: `${dir}/tau.db` });
  try {
    const app = workerRoutes({ store, leaseMs: 3_000 } as unknown as ApiDeps);
    const registered = await app.request("/register", {
      method: "POST",
      body: JSON.stringify({
        worker_id: "worker-1",
        host: "http://w1:8400",
        api_key: "never-stored",
        max_concurrent: 4,
      }),
    });
    assertEquals(registered.status, 200);
    const body = await registered.json();
    assertEquals([body.registered, body.worker.capacity, body.worker.status], [
      "worker-1",
      4,
      "active",
    ]);
    await store.registerWorker(
      { id: "old", host: "h", pid: 1, roles: ["worker"], tags: ["gpu"], capacity: 2 },
      new Date(Date.now() - 60_000),
    );
    const list = await (await app.request("/")).json();
    assertEquals(
      list.workers.map((w: { id: string; status: string }) => [w.id, w.status]),
      [["old", "lost"], ["worker-1", "active"]],
    );
  } finally {
    await store.close();
    await Deno.remove(dir, { recursive: true });
  }
});
