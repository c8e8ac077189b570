/** The contract of lineage records, registered per engine beside `store_contract.ts`. */
import { assertEquals } from "../helpers/assert.ts";
import {
  type ContractEngine,
  deployInput,
  newRun,
  type StoreTarget,
  withStore,
} from "./store_contract.ts";
import type { LineageEntry, Store } from "../../src/store/types.ts";

const entry = (table: string, direction: "read" | "write", step: string | null = null) =>
  ({
    connection: "wh",
    schema_name: "main",
    table_name: table,
    direction,
    step,
  }) satisfies LineageEntry;

async function successfulRun(store: Store, runId: string, pipeline: string, at: string) {
  await store.createRun(newRun(runId, { pipeline }));
  await store.updateRun(runId, { status: "success", finished_at: at });
}

export function lineageContract(engine: ContractEngine): void {
  const ignore = engine.ignore ?? false;
  const test = (name: string, fn: (store: Store, target: StoreTarget) => Promise<void>) =>
    Deno.test({ name: `${engine.name}: ${name}`, ignore, fn: () => withStore(engine, fn) });

  test("lineage: a run's entries are replaced, deduplicated and listed in order", async (store) => {
    await store.deploy(deployInput({ name: "a" }));
    await successfulRun(store, "run_a1", "a", "2026-01-01T00:00:00.000Z");
    await store.saveLineage("run_a1", "a", [entry("x", "read")]);
    await store.saveLineage("run_a1", "a", [
      entry("raw_orders", "write", "load"),
      entry("raw_orders", "write", "again"),
      entry("api_rows", "read"),
    ]);
    const listed = await store.listRunLineage("run_a1");
    assertEquals(listed.map((l) => [l.table_name, l.direction, l.step]), [
      ["api_rows", "read", null],
      ["raw_orders", "write", "load"],
    ]);
    assertEquals(listed[0]!.run_id, "run_a1");
    assertEquals(listed[0]!.pipeline, "a");
    assertEquals(listed[0]!.connection, "wh");
    assertEquals(listed[0]!.schema_name, "main");
  });

  test("lineage: current lineage is each pipeline's latest successful run", async (store) => {
    await store.deploy(deployInput({ name: "a" }));
    await store.deploy(deployInput({ name: "b" }));
    await successfulRun(store, "run_a1", "a", "2026-01-01T00:00:00.000Z");
    await store.saveLineage("run_a1", "a", [entry("old_table", "write")]);
    await successfulRun(store, "run_a2", "a", "2026-01-02T00:00:00.000Z");
    await store.saveLineage("run_a2", "a", [entry("raw_orders", "write")]);
    // A failed run after them does not count.
    await store.createRun(newRun("run_a3", { pipeline: "a" }));
    await store.updateRun("run_a3", { status: "failed" });
    await store.saveLineage("run_a3", "a", [entry("broken", "write")]);
    await successfulRun(store, "run_b1", "b", "2026-01-02T00:00:00.000Z");
    await store.saveLineage("run_b1", "b", [
      entry("raw_orders", "read"),
      entry("orders_summary", "write"),
    ]);

    const byTable = await store.currentLineage({ table: "raw_orders" });
    assertEquals(byTable.map((l) => [l.pipeline, l.run_id, l.direction]), [
      ["a", "run_a2", "write"],
      ["b", "run_b1", "read"],
    ]);
    assertEquals(await store.currentLineage({ table: "old_table" }), []);
    assertEquals(await store.currentLineage({ table: "broken" }), []);
    const byPipeline = await store.currentLineage({ pipeline: "b" });
    assertEquals(byPipeline.map((l) => l.table_name), ["orders_summary", "raw_orders"]);
    assertEquals((await store.currentLineage({})).length, 3);
    assertEquals((await store.currentLineage({ limit: 1 })).length, 1);
  });

  test("lineage: entries are deleted with their run and pipeline", async (store) => {
    await store.deploy(deployInput({ name: "a" }));
    await successfulRun(store, "run_a1", "a", "2026-01-01T00:00:00.000Z");
    await store.saveLineage("run_a1", "a", [entry("raw_orders", "write")]);
    assertEquals(await store.prune({ keepRuns: 0, keepDays: 0, now: new Date() }), 1);
    assertEquals(await store.listRunLineage("run_a1"), []);
    await successfulRun(store, "run_a2", "a", "2026-01-01T00:00:00.000Z");
    await store.saveLineage("run_a2", "a", [entry("raw_orders", "write")]);
    await store.deletePipeline("a");
    assertEquals(await store.listRunLineage("run_a2"), []);
  });
}
