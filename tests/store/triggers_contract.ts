/**
 * The contract of external triggers on both engines: a pipeline's secret (created once, rotated,
 * deleted, gone with its pipeline) and deliveries (one run per event id or signed delivery, even
 * when copies arrive at once through two stores; retention forgets old ones).
 */
import { assert, assertEquals } from "../helpers/assert.ts";
import {
  type ContractEngine,
  deployInput,
  newRun,
  type StoreTarget,
  withStore,
} from "./store_contract.ts";
import type { Store, TriggerDelivery } from "../../src/store/types.ts";

const T0 = new Date("2026-03-01T12:00:00.000Z");

function delivery(runId: string, overrides: Partial<TriggerDelivery> = {}): TriggerDelivery {
  return {
    pipeline: "orders",
    event_id: null,
    signature: `sig_${runId}`,
    received_at: T0.toISOString(),
    forget_before: new Date(T0.getTime() - 7 * 86_400_000).toISOString(),
    run: newRun(runId, { trigger: "external", params: { event: { id: runId } } }),
    ...overrides,
  };
}

export function triggersContract(engine: ContractEngine): void {
  const ignore = engine.ignore ?? false;
  const test = (name: string, fn: (store: Store, target: StoreTarget) => Promise<void>) =>
    Deno.test({
      name: `${engine.name}: triggers: ${name}`,
      ignore,
      fn: () => withStore(engine, fn),
    });

  test("a secret is created once, rotated, deleted, and goes with its pipeline", async (store) => {
    await store.deploy(deployInput());
    assertEquals(await store.getTriggerSecret("orders"), null);
    const made = await store.createTriggerSecret("orders", "s1", T0);
    assertEquals(made, { pipeline: "orders", created_at: T0.toISOString() });
    assertEquals(await store.createTriggerSecret("orders", "s2", T0), null, "one per pipeline");
    assertEquals((await store.getTriggerSecret("orders"))?.secret, "s1");

    const later = new Date(T0.getTime() + 1000);
    assertEquals(await store.rotateTriggerSecret("orders", "s3", later), {
      pipeline: "orders",
      created_at: later.toISOString(),
    });
    assertEquals(await store.getTriggerSecret("orders"), {
      pipeline: "orders",
      secret: "s3",
      created_at: later.toISOString(),
    });
    assertEquals(await store.rotateTriggerSecret("nope", "x", later), null);
    await assert.rejects(
      store.createTriggerSecret("nope", "x", T0),
      (err: Error & { code?: string }) => err.code === "not_found",
    );

    assertEquals(await store.deleteTriggerSecret("orders"), true);
    assertEquals(await store.deleteTriggerSecret("orders"), false);
    assertEquals(await store.getTriggerSecret("orders"), null);

    await store.createTriggerSecret("orders", "s4", T0);
    await store.recordTriggerDelivery(delivery("run_a", { event_id: "e1" }));
    assertEquals(await store.deletePipeline("orders"), true);
    await store.deploy(deployInput());
    assertEquals(await store.getTriggerSecret("orders"), null, "deleted with its pipeline");
    const again = await store.recordTriggerDelivery(delivery("run_b", { event_id: "e1" }));
    assertEquals(again.duplicate, false, "its deliveries went with it too");
  });

  test("one event id, or one signature, makes one run", async (store) => {
    await store.deploy(deployInput());
    const first = await store.recordTriggerDelivery(delivery("run_1", { event_id: "evt_1" }));
    assert(!first.duplicate);
    assertEquals([first.run.run_id, first.run.trigger, first.run.status], [
      "run_1",
      "external",
      "queued",
    ]);
    assertEquals(first.run.params, { event: { id: "run_1" } });

    // A retry: re-signed (another signature), same event id.
    const retry = await store.recordTriggerDelivery(
      delivery("run_2", { event_id: "evt_1", signature: "sig_other" }),
    );
    assert(retry.duplicate);
    assertEquals([retry.run_id, retry.run?.run_id], ["run_1", "run_1"]);
    // A replay of the same signed bytes under a new event id.
    const replay = await store.recordTriggerDelivery(
      delivery("run_3", { event_id: "evt_new", signature: "sig_run_1" }),
    );
    assert(replay.duplicate);
    assertEquals(replay.run_id, "run_1");
    // Without an event id, a replay of the signed bytes.
    await store.recordTriggerDelivery(delivery("run_4"));
    const bare = await store.recordTriggerDelivery(delivery("run_5", { signature: "sig_run_4" }));
    assert(bare.duplicate);
    assertEquals(bare.run_id, "run_4");
    // Other deliveries, and the same event id of another pipeline, are new.
    await store.deploy(deployInput({ name: "other" }));
    const elsewhere = await store.recordTriggerDelivery(
      delivery("run_6", {
        pipeline: "other",
        event_id: "evt_1",
        signature: "sig_run_1",
        run: newRun("run_6", { pipeline: "other", trigger: "external" }),
      }),
    );
    assert(!elsewhere.duplicate);
    const runs = await store.listRuns("orders", { limit: 10 });
    assertEquals(runs.map((r) => r.run_id).sort(), ["run_1", "run_4"]);
  });

  test("copies arriving at once through two stores make one run", async (store, target) => {
    await store.deploy(deployInput());
    const other = await target.open();
    try {
      for (let i = 0; i < 10; i++) {
        const results = await Promise.all(
          ["a", "b", "c"].map((who) =>
            (who === "b" ? other : store).recordTriggerDelivery(
              delivery(`run_${who}${i}`, { event_id: `evt_${i}`, signature: `sig_${who}${i}` }),
            )
          ),
        );
        assertEquals(results.filter((r) => !r.duplicate).length, 1, `event ${i}`);
        const made = results.find((r) => !r.duplicate)!;
        const runId = made.duplicate ? "" : made.run.run_id;
        for (const r of results) if (r.duplicate) assertEquals(r.run_id, runId);
      }
    } finally {
      await other.close();
    }
    assertEquals((await store.listRuns("orders", { limit: 100 })).length, 10);
  });

  test("deliveries older than the retention are forgotten", async (store) => {
    await store.deploy(deployInput());
    await store.recordTriggerDelivery(delivery("run_old", { event_id: "evt" }));
    const eightDaysOn = new Date(T0.getTime() + 8 * 86_400_000);
    const after = await store.recordTriggerDelivery(
      delivery("run_new", {
        event_id: "evt",
        signature: "sig_new",
        received_at: eightDaysOn.toISOString(),
        forget_before: new Date(eightDaysOn.getTime() - 7 * 86_400_000).toISOString(),
      }),
    );
    assertEquals(after.duplicate, false);
    // The event id is remembered again from the new delivery on.
    const dup = await store.recordTriggerDelivery(
      delivery("run_x", { event_id: "evt", signature: "sig_x" }),
    );
    assert(dup.duplicate);
    assertEquals(dup.run_id, "run_new");
  });
}
