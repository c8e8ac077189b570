/**
 * The webhook outbox's contract, registered per engine beside `store_contract.ts`: stored
 * webhooks, announcing what ended exactly once, leasing due deliveries, recording attempts.
 * Two stores opened on one database stand for two daemons.
 */
import { assert, assertEquals } from "../helpers/assert.ts";
import {
  type ContractEngine,
  deployInput,
  newRun,
  type StoreTarget,
  withStore,
} from "./store_contract.ts";
import type { NewDelivery, Store, WebhookRecord } from "../../src/store/types.ts";

const T0 = new Date("2026-01-01T00:00:00.000Z");
const at = (ms: number) => new Date(T0.getTime() + ms);

function hook(name: string): WebhookRecord {
  return {
    name,
    url: "https://hooks.example.com/tau",
    events: ["run.failed"],
    pipelines: ["orders"],
    tags: [],
    secret_env: "HOOK_SECRET",
    format: "json",
    allow_private: false,
    created_at: T0.toISOString(),
  };
}

function delivery(id: string, key = `run.failed:${id}:h`, created = T0): NewDelivery {
  return {
    id,
    event_key: key,
    webhook: "h",
    event: "run.failed",
    subject: id,
    payload: { id, event: "run.failed" },
    created_at: created.toISOString(),
  };
}

async function finishedRun(store: Store, id: string, status: "success" | "failed", ms: number) {
  if (!await store.getPipeline("orders")) await store.deploy(deployInput());
  await store.createRun(newRun(id));
  await store.updateRun(id, { status, finished_at: at(ms).toISOString() });
}

export function webhooksContract(engine: ContractEngine): void {
  const ignore = engine.ignore ?? false;
  const test = (name: string, fn: (store: Store, target: StoreTarget) => Promise<void>) =>
    Deno.test({
      name: `${engine.name}: webhooks: ${name}`,
      ignore,
      fn: () => withStore(engine, fn),
    });

  test("webhooks are stored, listed by name and removed; a name is taken once", async (s) => {
    await s.createWebhook(hook("b"));
    assertEquals(await s.createWebhook(hook("a")), hook("a"));
    assertEquals((await s.listWebhooks()).map((h) => h.name), ["a", "b"]);
    await assert.rejects(
      s.createWebhook(hook("a")),
      (e: Error & { code?: string }) => e.code === "conflict",
    );
    assertEquals(await s.deleteWebhook("a"), true);
    assertEquals(await s.deleteWebhook("a"), false);
    assertEquals((await s.listWebhooks()).map((h) => h.name), ["b"]);
  });

  test("what ended is listed until announced, and an event_key is inserted once", async (s) => {
    await finishedRun(s, "r1", "failed", 1000);
    await finishedRun(s, "r2", "success", 2000);
    await s.createRun(newRun("r3")); // queued: not ended
    const found = await s.listUnannounced(T0, 100);
    assertEquals(found.runs.map((r) => r.run_id), ["r1", "r2"]);
    assertEquals((await s.listUnannounced(at(1500), 100)).runs.map((r) => r.run_id), ["r2"]);
    const r2 = (await s.getRun("r2"))!;
    assertEquals(await s.previousRunStatus("orders", r2.created_at, r2.run_id), "failed");
    const r1 = (await s.getRun("r1"))!;
    assertEquals(await s.previousRunStatus("orders", r1.created_at, r1.run_id), null);
    assertEquals(await s.announceEvents(["run:r1"], [delivery("d1")], T0), 1);
    // A second announcement of the same event (a restart, another daemon) adds nothing.
    assertEquals(await s.announceEvents(["run:r1"], [delivery("d1b", "run.failed:d1:h")], T0), 0);
    assertEquals((await s.listUnannounced(T0, 100)).runs.map((r) => r.run_id), ["r2"]);
    // Marks older than the scans look back are dropped; the run is then listed again.
    assertEquals(await s.pruneWebhooks(new Date(Date.now() + 60_000), T0), 0);
    assertEquals((await s.listUnannounced(T0, 100)).runs.map((r) => r.run_id), ["r1", "r2"]);
    const listed = await s.listDeliveries();
    assertEquals(listed.map((d) => [d.id, d.status, d.attempts, d.next_at]), [
      ["d1", "pending", 0, T0.toISOString()],
    ]);
    assertEquals(listed[0]?.payload, { id: "d1", event: "run.failed" });
  });

  test("a due delivery is leased to one holder; only it records the attempt", async (s, t) => {
    await s.announceEvents([], [delivery("d1"), delivery("d2", "k2", at(60_000))], T0);
    const claim = (store: Store, holder: string, now: Date) =>
      store.claimDeliveries({ holder, now, lease_ms: 30_000, limit: 10 });
    const other = await t.open();
    try {
      // d2 is not due yet; d1 goes to one of two concurrent claims.
      const [a, b] = await Promise.all([claim(s, "w1", at(1000)), claim(other, "w2", at(1000))]);
      assertEquals([...a!, ...b!].map((d) => d.id), ["d1"]);
      const winner = a!.length === 1 ? "w1" : "w2";
      const loser = winner === "w1" ? "w2" : "w1";
      const attempt = {
        delivery_id: "d1",
        n: 1,
        started_at: at(1000).toISOString(),
        duration_ms: 12,
        status_code: 500,
        error: "HTTP 500",
      };
      const retry = { status: "pending" as const, next_at: at(6000).toISOString() };
      assertEquals(await s.recordDeliveryAttempt(attempt, loser, retry), false);
      assertEquals(await s.recordDeliveryAttempt(attempt, winner, retry), true);
      assertEquals(await claim(s, "w1", at(5000)), []);
      assertEquals((await claim(other, "w2", at(6000))).map((d) => [d.id, d.attempts]), [
        ["d1", 1],
      ]);
      const ok = { ...attempt, n: 2, started_at: at(6000).toISOString(), status_code: 204 };
      assertEquals(
        await other.recordDeliveryAttempt({ ...ok, error: null }, "w2", {
          status: "delivered",
          next_at: null,
        }),
        true,
      );
      const [d1] = await s.listDeliveries({ status: "delivered" });
      assertEquals([d1?.id, d1?.attempts, d1?.next_at, d1?.last_error], ["d1", 2, null, null]);
      assertEquals(d1?.delivered_at, at(6012).toISOString());
      const attempts = await s.listDeliveryAttempts(["d1"]);
      assertEquals(attempts.map((a) => [a.n, a.status_code, a.error]), [
        [1, 500, "HTTP 500"],
        [2, 204, null],
      ]);
      // Delivered: never claimed again; a lapsed lease of a pending one is claimed again.
      const due = await claim(s, "w1", at(70_000));
      assertEquals(due.map((d) => d.id), ["d2"]);
      assertEquals((await claim(other, "w2", at(80_000))).map((d) => d.id), []);
      assertEquals((await claim(other, "w2", at(101_000))).map((d) => d.id), ["d2"]);
      // A claim by id (tau webhooks test) takes that delivery whenever it is due.
      await s.announceEvents([], [delivery("d3", "k3", at(999_999))], T0);
      assertEquals(
        (await s.claimDeliveries({
          holder: "w1",
          now: T0,
          lease_ms: 1000,
          limit: 1,
          id: "d3",
        })).map((d) => d.id),
        ["d3"],
      );
      assertEquals((await s.listDeliveries({ webhook: "h", limit: 2 })).length, 2);
      assertEquals((await s.listDeliveries({ webhook: "nope" })).length, 0);
      // Pruning keeps pending deliveries and deletes finished ones (with their attempts).
      assertEquals(await s.pruneWebhooks(T0, at(1)), 1);
      assertEquals((await s.listDeliveries()).map((d) => d.id).sort(), ["d2", "d3"]);
      assertEquals(await s.listDeliveryAttempts(["d1"]), []);
    } finally {
      await other.close();
    }
  });
}
