/**
 * The run queue's contract, registered per engine beside `store_contract.ts`: claiming under
 * a lease, heartbeats, lost and handed-back runs, named leases. Several stores opened on one
 * database stand for several daemons.
 */
import { assert, assertEquals } from "../helpers/assert.ts";
import { fairOrder } from "../../src/scheduler/admission.ts";
import {
  type ContractEngine,
  deployInput,
  newRun,
  type StoreTarget,
  withStore,
} from "./store_contract.ts";
import type { ClaimRequest, RunRecord, Store } from "../../src/store/types.ts";

const T0 = new Date("2026-01-01T00:00:00.000Z");
const at = (ms: number) => new Date(T0.getTime() + ms);

/** The daemon's admission rule, as RunManager passes it. */
const fairChoice: ClaimRequest["choose"] = fairOrder;

function claim(store: Store, worker: string, slots: number, now = T0, tags: string[] = []) {
  return store.claimRuns({
    worker_id: worker,
    tags,
    slots,
    now,
    lease_ms: 10_000,
    choose: fairChoice,
  });
}

async function queue(store: Store, count: number, overrides = {}, pipeline = "orders") {
  if (!(await store.getPipeline(pipeline))) await store.deploy(deployInput({ name: pipeline }));
  const runs: RunRecord[] = [];
  for (let i = 0; i < count; i++) {
    runs.push(
      await store.createRun(
        newRun(`${pipeline}-${String(i).padStart(4, "0")}`, { pipeline, ...overrides }),
      ),
    );
  }
  return runs;
}

export function queueContract(engine: ContractEngine): void {
  const ignore = engine.ignore ?? false;
  const test = (name: string, fn: (store: Store, target: StoreTarget) => Promise<void>) =>
    Deno.test({ name: `${engine.name}: ${name}`, ignore, fn: () => withStore(engine, fn) });

  test("a claim takes the oldest queued runs, up to the free slots, under a lease", async (s) => {
    await queue(s, 3);
    const claimed = await claim(s, "w1", 2);
    assertEquals(claimed.map((r) => r.run_id), ["orders-0000", "orders-0001"]);
    for (const run of claimed) {
      assertEquals(run.status, "running");
      assertEquals(run.worker_id, "w1");
      assertEquals(run.lease_expires_at, at(10_000).toISOString());
    }
    assertEquals((await claim(s, "w2", 5)).map((r) => r.run_id), ["orders-0002"]);
    assertEquals(await claim(s, "w2", 5), []);
  });

  test("pools route runs to workers with the tag", async (s) => {
    await queue(s, 1, { pool: "gpu" });
    assertEquals(await claim(s, "cpu-worker", 4, T0, ["eu"]), []);
    assertEquals((await claim(s, "gpu-worker", 4, T0, ["gpu", "eu"]))[0]?.worker_id, "gpu-worker");
  });

  test("a pipeline's concurrency holds across workers", async (s) => {
    await s.deploy(deployInput({ name: "limited", metadata: { concurrency: 1 } }));
    await queue(s, 3, {}, "limited");
    assertEquals((await claim(s, "w1", 4)).length, 1);
    assertEquals((await claim(s, "w2", 4)).length, 0);
  });

  Deno.test({
    name: `${engine.name}: concurrent claims by many workers never take a run twice`,
    ignore,
    fn: () =>
      withStore(engine, async (first, target) => {
        await queue(first, 60);
        const workers = [first, await target.open(), await target.open()];
        try {
          // Twelve workers claim in rounds, as their loops do, until the queue is empty.
          const ids: string[] = [];
          for (let round = 0; round < 20 && ids.length < 60; round++) {
            const claims = await Promise.all(
              Array.from({ length: 12 }, (_, i) => claim(workers[i % 3]!, `w${i}`, 5)),
            );
            ids.push(...claims.flat().map((r) => r.run_id));
          }
          assertEquals(ids.length, 60);
          assertEquals(new Set(ids).size, 60);
        } finally {
          for (const store of workers.slice(1)) await store.close();
        }
      }),
  });

  test("a heartbeat extends the worker's leases and lists the runs it still holds", async (s) => {
    await queue(s, 2);
    await claim(s, "w1", 2);
    await s.registerWorker(
      { id: "w1", host: "h", pid: 1, roles: ["worker"], tags: [], capacity: 2 },
      T0,
    );
    const held = await s.heartbeat(
      "w1",
      { status: "active", running: ["orders-0000", "orders-0001", "orders-9999"] },
      at(5_000),
      10_000,
    );
    assertEquals(held.sort(), ["orders-0000", "orders-0001"]);
    assertEquals((await s.getRun("orders-0000"))?.lease_expires_at, at(15_000).toISOString());
    // A claimed run the worker no longer names keeps its old lease, and lapses.
    await s.heartbeat("w1", { status: "active", running: ["orders-0000"] }, at(8_000), 10_000);
    assertEquals((await s.getRun("orders-0001"))?.lease_expires_at, at(15_000).toISOString());
    const [worker] = await s.listWorkers();
    assertEquals(
      [worker?.load, worker?.heartbeat_at, worker?.roles],
      [1, at(8_000).toISOString(), ["worker"]],
    );
  });

  test("a lapsed lease requeues the run while attempts remain, else fails it", async (s) => {
    await queue(s, 1, { max_attempts: 2 });
    await queue(s, 1, { max_attempts: 1 }, "single");
    for (const run of await claim(s, "w1", 2)) {
      await s.updateRun(run.run_id, {
        attempt: 1,
        started_at: T0.toISOString(),
        attempts: [{
          attempt: 1,
          status: "running",
          started_at: T0.toISOString(),
          finished_at: null,
          duration_ms: null,
          error: null,
        }],
      });
    }
    assertEquals(await s.recoverLostRuns(at(9_000)), { requeued: [], failed: [] });
    const { requeued, failed } = await s.recoverLostRuns(at(11_000));
    assertEquals(requeued.map((r) => [r.run_id, r.status, r.worker_id]), [
      ["orders-0000", "queued", null],
    ]);
    assertEquals(requeued[0]?.attempts[0]?.error?.kind, "worker_lost");
    assertEquals(failed.map((r) => [r.run_id, r.status, r.error?.kind]), [
      ["single-0000", "failed", "worker_lost"],
    ]);
    // The error is stored whole once: the run's; its last attempt refers to it.
    assertEquals(failed[0]?.attempts[0]?.error?.ref, "error");
    assertEquals(requeued[0]?.attempts[0]?.error?.ref, undefined);
    // The dead worker's late update cannot overwrite what happened since.
    assertEquals(
      await s.updateRun("orders-0000", { status: "success" }, { worker_id: "w1" }),
      null,
    );
    assertEquals((await s.getRun("orders-0000"))?.status, "queued");
  });

  test("a draining worker hands runs back without using up an attempt", async (s) => {
    await queue(s, 1);
    await claim(s, "w1", 1);
    await s.updateRun("orders-0000", { attempt: 1 });
    await s.releaseRuns("w2", ["orders-0000"], at(1_000)); // not its run: nothing happens
    assertEquals((await s.getRun("orders-0000"))?.status, "running");
    await s.releaseRuns("w1", ["orders-0000"], at(1_000));
    const run = await s.getRun("orders-0000");
    assertEquals([run?.status, run?.worker_id, run?.max_attempts], ["queued", null, 2]);
    assertEquals((await claim(s, "w2", 1))[0]?.worker_id, "w2");
  });

  Deno.test({
    name: `${engine.name}: a named lease has one holder until it lapses`,
    ignore,
    fn: () =>
      withStore(engine, async (a, target) => {
        const b = await target.open();
        try {
          const both = await Promise.all([
            a.tryLease("scheduler", "A", T0, 5_000),
            b.tryLease("scheduler", "B", T0, 5_000),
          ]);
          assertEquals(both.filter(Boolean).length, 1);
          const holder = both[0] ? "A" : "B";
          const [mine, other] = holder === "A" ? [a, b] : [b, a];
          const otherName = holder === "A" ? "B" : "A";
          assert.ok(await mine.tryLease("scheduler", holder, at(4_000), 5_000), "renewal");
          assert.ok(!(await other.tryLease("scheduler", otherName, at(8_000), 5_000)));
          assert.ok(await other.tryLease("scheduler", otherName, at(9_500), 5_000), "lapsed");
          await other.releaseLease("scheduler", otherName);
          assert.ok(await mine.tryLease("scheduler", holder, at(9_600), 5_000), "released");
        } finally {
          await b.close();
        }
      }),
  });

  test("queueing a run wakes the queue's watchers", async (s) => {
    await s.deploy(deployInput());
    let woken = 0;
    const stop = await s.watchQueue(() => woken++);
    await s.createRun(newRun("r-watch"));
    for (let i = 0; i < 50 && woken === 0; i++) await new Promise((r) => setTimeout(r, 20));
    await stop();
    assert.ok(woken > 0, "the watcher was called");
  });
}
