/** `tau lineage`'s views over a real SQLite store: hops, self-reads, ambiguity. */
import { assertEquals } from "../../tests/helpers/assert.ts";
import { deployInput, newRun } from "../../tests/store/store_contract.ts";
import { type LineageEntry, openStore, type Store } from "../store/mod.ts";
import { pipelineLineage, tableLineage } from "./views.ts";
import { TauError } from "../core/errors.ts";

async function rejects(fn: () => Promise<unknown>): Promise<TauError> {
  try {
    await fn();
  } catch (err) {
    if (err instanceof TauError) return err;
    throw err;
  }
  throw new Error("expected a TauError");
}

const e = (connection: string, table: string, direction: "read" | "write"): LineageEntry => ({
  connection,
  schema_name: "main",
  table_name: table,
  direction,
  step: null,
});

async function withChain(fn: (store: Store) => Promise<void>) {
  const dir = await Deno.makeTempDir({ prefix: "tau_lineage_test_" });
  const store = await openStore({ path: `${dir}/tau.db` });
  const runs: [string, LineageEntry[]][] = [
    ["extract", [e("wh", "raw", "write")]],
    // An incremental target: read back and written.
    ["stage", [e("wh", "raw", "read"), e("wh", "staged", "read"), e("wh", "staged", "write")]],
    ["report", [e("wh", "staged", "read"), e("wh", "report", "write")]],
    ["elsewhere", [e("lake", "raw", "write")]],
  ];
  try {
    for (const [i, [pipeline, entries]] of runs.entries()) {
      await store.deploy(deployInput({ name: pipeline }));
      await store.createRun(newRun(`run_${i}`, { pipeline }));
      await store.updateRun(`run_${i}`, { status: "success" });
      await store.saveLineage(`run_${i}`, pipeline, entries);
    }
    await fn(store);
  } finally {
    await store.close();
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("lineage views: upstream and downstream follow every hop", async () => {
  await withChain(async (store) => {
    const raw = await tableLineage(store, "wh.main.raw");
    assertEquals(raw.upstream, { tables: [], pipelines: ["extract"] });
    assertEquals(raw.downstream, {
      tables: ["wh.main.report", "wh.main.staged"],
      pipelines: ["report", "stage"],
    });
    const report = await tableLineage(store, "report");
    assertEquals(report.upstream, {
      tables: ["wh.main.raw", "wh.main.staged"],
      pipelines: ["extract", "report", "stage"],
    });
    assertEquals(report.truncated, false);
  });
});

Deno.test("lineage views: a pipeline's own target is not its input", async () => {
  await withChain(async (store) => {
    const stage = await pipelineLineage(store, "stage");
    assertEquals([stage.reads, stage.writes], [["wh.main.raw"], ["wh.main.staged"]]);
    assertEquals(stage.upstream_pipelines, ["extract"]);
    assertEquals(stage.downstream_pipelines, ["report"]);
    assertEquals(stage.run_id, "run_1");
  });
});

Deno.test("lineage views: an ambiguous name lists the tables it could be", async () => {
  await withChain(async (store) => {
    const err = await rejects(() => tableLineage(store, "raw"));
    assertEquals(err.code, "conflict");
    assertEquals(err.details, { tables: ["lake.main.raw", "wh.main.raw"] });
    assertEquals((await tableLineage(store, "LAKE.main.raw")).upstream.pipelines, ["elsewhere"]);
    const none = await rejects(() => tableLineage(store, "nope"));
    assertEquals(none.code, "not_found");
  });
});
