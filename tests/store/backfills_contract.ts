/**
 * The contract of backfills and their instants (`store.backfills`), registered per engine beside
 * `store_contract.ts`.
 */
import { assert, assertEquals } from "../helpers/assert.ts";
import {
  type ContractEngine,
  deployInput,
  newRun,
  type StoreTarget,
  withStore,
} from "./store_contract.ts";
import type { NewBackfill, Store } from "../../src/store/types.ts";

const H = (n: number) => new Date(Date.UTC(2026, 0, 1, n)).toISOString();
const NOW = new Date("2026-02-01T00:00:00Z");

function backfill(id: string, overrides: Partial<NewBackfill> = {}): NewBackfill {
  return {
    backfill_id: id,
    pipeline: "orders",
    from: H(0),
    to: H(4),
    concurrency: 2,
    rerun: false,
    downstream: true,
    instants: [0, 1, 2, 3].map((n) => ({ scheduled_at: H(n), state: "pending" as const })),
    ...overrides,
  };
}

export function backfillsContract(engine: ContractEngine): void {
  const ignore = engine.ignore ?? false;
  const test = (name: string, fn: (store: Store, target: StoreTarget) => Promise<void>) =>
    Deno.test({ name: `${engine.name}: ${name}`, ignore, fn: () => withStore(engine, fn) });

  test("a backfill is stored with its instants and counted by state", async (store) => {
    await store.deploy(deployInput());
    const made = await store.backfills.create(
      backfill("bf_1", {
        instants: [
          { scheduled_at: H(0), state: "skipped" },
          { scheduled_at: H(1), state: "pending" },
          { scheduled_at: H(2), state: "pending" },
        ],
      }),
      NOW,
    );
    assertEquals(made, {
      backfill_id: "bf_1",
      pipeline: "orders",
      from: H(0),
      to: H(4),
      status: "running",
      concurrency: 2,
      rerun: false,
      downstream: true,
      total: 3,
      counts: { pending: 2, active: 0, succeeded: 0, failed: 0, skipped: 1, cancelled: 0 },
      created_at: NOW.toISOString(),
      finished_at: null,
    });
    assertEquals(await store.backfills.get("bf_1"), made);
    assertEquals(await store.backfills.get("bf_nope"), null);
    const pending = await store.backfills.instants("bf_1", { states: ["pending"], limit: 1 });
    assertEquals(pending.map((i) => [i.scheduled_at, i.state, i.run_id, i.attempts]), [
      [H(1), "pending", null, 0],
    ]);
    assertEquals((await store.backfills.instants("bf_1")).map((i) => i.scheduled_at), [
      H(0),
      H(1),
      H(2),
    ]);
  });

  test("a backfill of a missing pipeline is not_found", async (store) => {
    const err = await store.backfills.create(backfill("bf_1"), NOW).catch((e) => e);
    assertEquals(err.code, "not_found");
  });

  test("starting an instant inserts its run once, and skips one that succeeded", async (store) => {
    await store.deploy(deployInput());
    await store.backfills.create(backfill("bf_1"), NOW);
    const run = newRun("run_a", { scheduled_at: H(0), trigger: "backfill:bf_1" });
    assertEquals(await store.backfills.start("bf_1", H(0), run, false), "started");
    // A second start of the same instant (another driver, a retried pass) makes nothing.
    assertEquals(
      await store.backfills.start("bf_1", H(0), newRun("run_b", { scheduled_at: H(0) }), false),
      "taken",
    );
    assertEquals(await store.getRun("run_b"), null);
    const [active] = await store.backfills.instants("bf_1", { states: ["active"] });
    assertEquals(
      [active?.scheduled_at, active?.run_id, active?.run_status, active?.attempts],
      [H(0), "run_a", "queued", 1],
    );
    assertEquals((await store.getRun("run_a"))?.scheduled_at, H(0));

    // A successful run at H(1) from elsewhere (the schedule) makes that instant skipped...
    await store.createRun(newRun("run_sched", { scheduled_at: H(1) }));
    await store.updateRun("run_sched", { status: "success" });
    assertEquals(await store.backfills.succeededAt("orders", H(0), H(4)), [H(1)]);
    assertEquals(await store.backfills.succeededAt("orders", H(2), H(4)), []);
    assertEquals(
      await store.backfills.start("bf_1", H(1), newRun("run_c", { scheduled_at: H(1) }), false),
      "skipped",
    );
    assertEquals(await store.getRun("run_c"), null);
    // ...unless the backfill reruns.
    await store.backfills.create(backfill("bf_2", { rerun: true }), NOW);
    assertEquals(
      await store.backfills.start("bf_2", H(1), newRun("run_d", { scheduled_at: H(1) }), true),
      "started",
    );
  });

  test("settling records how an instant's run ended, or puts it back", async (store) => {
    await store.deploy(deployInput());
    await store.backfills.create(backfill("bf_1"), NOW);
    await store.backfills.start("bf_1", H(0), newRun("run_a", { scheduled_at: H(0) }), false);
    await store.backfills.start("bf_1", H(1), newRun("run_b", { scheduled_at: H(1) }), false);
    await store.updateRun("run_a", {
      status: "failed",
      error: { kind: "daemon_restart", message: "gone" },
    });
    const [lost] = await store.backfills.instants("bf_1", { states: ["active"], limit: 1 });
    assertEquals([lost?.run_status, lost?.run_error_kind], ["failed", "daemon_restart"]);
    assert(await store.backfills.settle("bf_1", H(0), "pending"));
    assert(!(await store.backfills.settle("bf_1", H(0), "failed")), "no longer active");
    const [again] = await store.backfills.instants("bf_1", { states: ["pending"], limit: 1 });
    assertEquals([again?.scheduled_at, again?.run_id, again?.attempts], [H(0), null, 1]);
    await store.backfills.start("bf_1", H(0), newRun("run_c", { scheduled_at: H(0) }), false);
    assertEquals((await store.backfills.instants("bf_1", { limit: 1 }))[0]?.attempts, 2);
    assert(await store.backfills.settle("bf_1", H(1), "succeeded"));
    const counts = (await store.backfills.get("bf_1"))?.counts;
    assertEquals([counts?.pending, counts?.active, counts?.succeeded], [2, 1, 1]);
  });

  test("cancelling ends it and cancels its pending instants; finishing is once", async (store) => {
    await store.deploy(deployInput());
    await store.backfills.create(backfill("bf_1"), NOW);
    await store.backfills.start("bf_1", H(0), newRun("run_a", { scheduled_at: H(0) }), false);
    const later = new Date(NOW.getTime() + 60_000);
    const cancelled = await store.backfills.finish("bf_1", "cancelled", later);
    assertEquals([cancelled?.status, cancelled?.finished_at], ["cancelled", later.toISOString()]);
    assertEquals(cancelled?.counts.cancelled, 3);
    assertEquals(cancelled?.counts.active, 1, "its started run is left to finish");
    // Nothing starts once it ended, and it ends only once.
    assertEquals(
      await store.backfills.start("bf_1", H(1), newRun("run_b", { scheduled_at: H(1) }), false),
      "taken",
    );
    const again = await store.backfills.finish("bf_1", "completed", new Date());
    assertEquals([again?.status, again?.finished_at], ["cancelled", later.toISOString()]);
    assertEquals(await store.backfills.finish("bf_nope", "completed", new Date()), null);
  });

  test("backfills list newest first, by pipeline and status, or live ones", async (store) => {
    await store.deploy(deployInput());
    await store.deploy(deployInput({ name: "other", hash: "o1" }));
    await store.backfills.create(backfill("bf_1"), NOW);
    await store.backfills.create(
      backfill("bf_2", { pipeline: "other" }),
      new Date(NOW.getTime() + 1000),
    );
    await store.backfills.create(backfill("bf_3"), new Date(NOW.getTime() + 2000));
    const ids = (list: { backfill_id: string }[]) => list.map((b) => b.backfill_id);
    assertEquals(ids(await store.backfills.list()), ["bf_3", "bf_2", "bf_1"]);
    assertEquals(ids(await store.backfills.list({ pipeline: "orders" })), ["bf_3", "bf_1"]);
    assertEquals(ids(await store.backfills.list({ limit: 1 })), ["bf_3"]);
    // bf_1 ends but keeps an active run: still live. bf_3 ends with none: not live.
    await store.backfills.start("bf_1", H(0), newRun("run_a", { scheduled_at: H(0) }), false);
    await store.backfills.finish("bf_1", "cancelled", NOW);
    await store.backfills.finish("bf_3", "completed", NOW);
    assertEquals(ids(await store.backfills.list({ statuses: ["running"] })), ["bf_2"]);
    assertEquals(ids(await store.backfills.list({ live: true })), ["bf_1", "bf_2"]);
    // Deleting the pipeline deletes its backfills.
    await store.deletePipeline("other");
    assertEquals(ids(await store.backfills.list()), ["bf_3", "bf_1"]);
  });
}
