import { assertEquals } from "../../tests/helpers/assert.ts";
import { openStore, type Store } from "../store/mod.ts";
import { seedRun } from "../../tests/store/store_contract.ts";
import { systemErrors } from "./classify.ts";
import { makeRedactor } from "./redact.ts";
import { closeAbandonedSteps, Steps } from "./steps.ts";

async function withStore(fn: (store: Store) => Promise<void>): Promise<void> {
  const store = await openStore({ path: ":memory:" });
  try {
    await seedRun(store, "run_1");
    await fn(store);
  } finally {
    await store.close();
  }
}

/** Three steps: `extract` ended, `load` and its inner `wait` still open. */
async function openSteps(store: Store): Promise<Steps> {
  const steps = new Steps(store, { runId: "run_1", attempt: 1, redact: makeRedactor([]) });
  await steps.start(0, "extract");
  await steps.end(0, "extract", { status: "success" });
  await steps.start(1, "load");
  await steps.start(2, "wait");
  return steps;
}

for (
  const [runStatus, stepStatus] of [
    ["timed_out", "timed_out"],
    ["cancelled", "cancelled"],
    ["failed", "failed"],
  ] as const
) {
  Deno.test(`steps still open when a run ends ${runStatus} end ${stepStatus}`, async () => {
    await withStore(async (store) => {
      const steps = await openSteps(store);
      assertEquals(steps.lastOpen(), "wait");
      const error = { ...systemErrors.timeout(3000), step: "wait" };
      await steps.closeOpen(runStatus, error);
      const stored = await store.listSteps("run_1", 1);
      assertEquals(stored.map((s) => [s.name, s.status]), [
        ["extract", "success"],
        ["load", stepStatus],
        ["wait", stepStatus],
      ]);
      for (const step of stored) assertEquals(typeof step.finished_at, "string");
      assertEquals(stored[2]!.error, error);
      assertEquals(steps.lastOpen(), null);
    });
  });
}

Deno.test("steps a dead daemon left running are closed with its error", async () => {
  await withStore(async (store) => {
    await openSteps(store);
    const last = await closeAbandonedSteps(store, "run_1", systemErrors.daemonStopped());
    assertEquals(last, "wait");
    const stored = await store.listSteps("run_1");
    assertEquals(stored.map((s) => s.status), ["success", "failed", "failed"]);
    assertEquals(stored[1]!.error?.kind, "daemon_restart");
    assertEquals(stored[0]!.error, null);
    assertEquals(await closeAbandonedSteps(store, "run_1", systemErrors.daemonStopped()), null);
  });
});
