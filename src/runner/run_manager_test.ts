import { assertEquals } from "../../tests/helpers/assert.ts";
import { ManualClock } from "../../tests/helpers/manual_clock.ts";
import { tauPaths } from "../config/paths.ts";
import { validatePipelineConfig } from "../metadata/schema.ts";
import { fairOrder } from "../scheduler/admission.ts";
import { openStore } from "../store/mod.ts";
import { RunManager } from "./run_manager.ts";

const LEASE_MS = 3_000;

async function withStore(
  fn: (store: Awaited<ReturnType<typeof openStore>>, home: string) => Promise<void>,
) {
  const home = await Deno.makeTempDir({ prefix: "tau_run_manager_" });
  const store = await openStore({ path: `${home}/tau.db` });
  try {
    await fn(store, home);
  } finally {
    await store.close();
    await Deno.remove(home, { recursive: true });
  }
}

/** Deploys pipeline `p` with this config (validated as a deploy would). */
async function deployP(store: Awaited<ReturnType<typeof openStore>>, config = {}) {
  const validated = validatePipelineConfig({ name: "p", ...config });
  if (!validated.ok) throw new Error(JSON.stringify(validated.issues));
  await store.deploy({
    name: "p",
    code: "c",
    hash: "h",
    filename: "p.ts",
    source_path: null,
    schedule: null,
    metadata: validated.metadata as never,
  });
}

for (const retries of [0, 1]) {
  Deno.test(`a lapsed lease is recovered on the manager's clock (retries: ${retries})`, async () => {
    await withStore(async (store, home) => {
      await deployP(store, { retries });
      const clock = new ManualClock();
      const manager = new RunManager({
        store,
        paths: tauPaths(home),
        daemonPorts: [1],
        execute: false,
        leaseMs: LEASE_MS,
        clock,
        workerId: "watcher",
      });
      // A worker claims the run at the clock's time, then never heartbeats again.
      await store.registerWorker(
        { id: "gone", host: "h", pid: 1, roles: ["worker"], tags: [], capacity: 1 },
        clock.now(),
      );
      const run = await store.createRun(await manager.prepare("p"));
      const [claimed] = await store.claimRuns({
        worker_id: "gone",
        tags: [],
        slots: 1,
        now: clock.now(),
        lease_ms: LEASE_MS,
        choose: fairOrder,
      });
      assertEquals(claimed?.run_id, run.run_id);
      // Its first attempt began (what executeRun records before the child starts).
      await store.updateRun(run.run_id, { attempt: 1, started_at: clock.now().toISOString() });
      manager.watchLeases();
      try {
        await clock.advance(LEASE_MS - 500);
        assertEquals((await store.getRun(run.run_id))?.status, "running", "the lease still holds");
        await clock.advance(LEASE_MS);
        const after = await store.getRun(run.run_id);
        if (retries > 0) {
          assertEquals([after?.status, after?.attempt], ["queued", 1], "queued for attempt 2");
        } else {
          assertEquals([after?.status, after?.error?.kind], ["failed", "worker_lost"]);
        }
      } finally {
        await manager.shutdown();
      }
    });
  });
}

Deno.test("a claim still in flight when the drain begins gives its runs back unstarted", async () => {
  await withStore(async (store, home) => {
    await deployP(store);
    // The store answers the claim only once the drain has begun.
    const claiming = Promise.withResolvers<void>();
    const answer = Promise.withResolvers<void>();
    const claimRuns: typeof store.claimRuns = async (request) => {
      const claimed = await store.claimRuns(request);
      if (claimed.length > 0) claiming.resolve();
      await answer.promise;
      return claimed;
    };
    const slow = new Proxy(store, {
      get(target, name) {
        if (name === "claimRuns") return claimRuns;
        const value = Reflect.get(target, name, target);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    const manager = new RunManager({
      store: slow,
      paths: tauPaths(home),
      daemonPorts: [1],
      clock: new ManualClock(),
      workerId: "draining",
    });
    const run = await store.createRun(await manager.prepare("p"));
    const dispatched = manager.dispatch();
    await claiming.promise;
    manager.stopClaiming();
    answer.resolve();
    await dispatched;
    await manager.shutdown();
    const after = await store.getRun(run.run_id);
    assertEquals([after?.status, after?.worker_id, after?.started_at], ["queued", null, null]);
  });
});
