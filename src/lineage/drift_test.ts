/**
 * A schema-drift diagnosis names the other pipelines that read the drifted table, from a real
 * SQLite store's lineage; another class of failure gets no such fields.
 */
import { assertEquals } from "../../tests/helpers/assert.ts";
import { deployInput, newRun } from "../../tests/store/store_contract.ts";
import { openStore, type RunError, type Store } from "../store/mod.ts";
import { diagnose } from "../heal/diagnose.ts";
import { gatherInput } from "../heal/load.ts";

const entry = (table: string, direction: "read" | "write", step: string | null = null) => ({
  connection: "warehouse",
  schema_name: "main",
  table_name: table,
  direction,
  step,
});

async function withStore(fn: (store: Store) => Promise<void>) {
  const dir = await Deno.makeTempDir({ prefix: "tau_lineage_test_" });
  const store = await openStore({ path: `${dir}/tau.db` });
  try {
    for (const name of ["loader", "summary", "report", "other"]) {
      await store.deploy(deployInput({ name }));
    }
    for (
      const [run, pipeline, entries] of [
        ["run_1", "loader", [entry("raw_orders", "write")]],
        ["run_2", "summary", [entry("raw_orders", "read"), entry("orders_summary", "write")]],
        ["run_3", "report", [entry("raw_orders", "read")]],
        ["run_4", "other", [entry("unrelated", "read")]],
      ] as const
    ) {
      await store.createRun(newRun(run, { pipeline }));
      await store.updateRun(run, { status: "success" });
      await store.saveLineage(run, pipeline, [...entries]);
    }
    await fn(store);
  } finally {
    await store.close();
    await Deno.remove(dir, { recursive: true });
  }
}

async function failedRun(store: Store, error: RunError) {
  await store.createRun(newRun("run_9", { pipeline: "loader" }));
  await store.saveLineage("run_9", "loader", [entry("raw_orders", "write", "load raw")]);
  return (await store.updateRun("run_9", { status: "failed", error }))!;
}

Deno.test("drift: a refused load names the pipelines that read its table", async () => {
  await withStore(async (store) => {
    const run = await failedRun(store, {
      kind: "schema_change",
      message: "Cannot load into raw_orders: new column(s) coupon",
      step: "load raw",
    });
    const d = diagnose(await gatherInput(store, run));
    assertEquals(d.class, "schema_drift");
    assertEquals(d.drifted_tables, ["warehouse.main.raw_orders"]);
    assertEquals(d.affected_pipelines, ["report", "summary"]);
  });
});

Deno.test("drift: the failing statement's tables when the error names no table", async () => {
  await withStore(async (store) => {
    const run = await failedRun(store, {
      kind: "exception",
      message: 'Binder Error: Referenced column "coupon" not found',
      step: "other step",
      details: {
        source: "duckdb",
        code: "Binder",
        statement: "SELECT coupon FROM unrelated",
      },
    });
    const d = diagnose(await gatherInput(store, run));
    assertEquals(d.class, "schema_drift");
    assertEquals(d.drifted_tables, ["warehouse.main.unrelated"]);
    assertEquals(d.affected_pipelines, ["other"]);
  });
});

Deno.test("drift: other failures carry no lineage fields", async () => {
  await withStore(async (store) => {
    const run = await failedRun(store, { kind: "exception", message: "boom", step: "load raw" });
    const d = diagnose(await gatherInput(store, run));
    assertEquals(d.class, "code_bug");
    assertEquals("affected_pipelines" in d, false);
  });
});
