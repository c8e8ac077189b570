/**
 * Lineage through a real daemon and real DuckDB tables (the default `warehouse` connection):
 * lineage_a loads raw_orders, lineage_b materializes orders_summary from it. The daemon records
 * both from the requests it executes; `tau lineage` reads them back, and a schema drift in
 * raw_orders names lineage_b as affected.
 */
import { assert, assertEquals } from "../helpers/assert.ts";
import { startDaemon } from "../helpers/daemon.ts";

const RAW = "warehouse.main.raw_orders";
const SUMMARY = "warehouse.main.orders_summary";

Deno.test("lineage of a two-pipeline chain through real DuckDB tables", async (t) => {
  const d = await startDaemon({});
  try {
    for (const name of ["lineage_a", "lineage_b"]) {
      await d.deploy(`lineage/${name}.ts`);
      const out = await d.tau("run", name);
      assertEquals(out.json.status, "success", out.stdout);
    }

    await t.step("a table: its writer upstream, its reader downstream", async () => {
      const out = await d.tau("lineage", "raw_orders");
      assertEquals(out.code, 0, out.stdout);
      assertEquals(out.json.table, RAW);
      assertEquals(out.json.upstream, { tables: [], pipelines: ["lineage_a"] });
      assertEquals(out.json.downstream, { tables: [SUMMARY], pipelines: ["lineage_b"] });
      assert(/latest successful run/.test(out.json.based_on));
      assertEquals(Object.keys(out.json.runs).sort(), ["lineage_a", "lineage_b"]);
      const mermaid: string = out.json.mermaid;
      assert(mermaid.startsWith("flowchart LR"), mermaid);
      assert(mermaid.includes("p_lineage_a --> t_warehouse_main_raw_orders"), mermaid);
      assert(mermaid.includes("t_warehouse_main_raw_orders --> p_lineage_b"), mermaid);
      assert(mermaid.includes("p_lineage_b --> t_warehouse_main_orders_summary"), mermaid);
      // Tau's own staging tables and the CTE are not lineage.
      assert(!/__tau|totals/.test(mermaid), mermaid);
    });

    await t.step("the downstream table, qualified and in any case", async () => {
      const out = await d.tau("lineage", "WAREHOUSE.main.Orders_Summary");
      assertEquals(out.json.table, SUMMARY);
      assertEquals(out.json.upstream, { tables: [RAW], pipelines: ["lineage_a", "lineage_b"] });
      assertEquals(out.json.downstream, { tables: [], pipelines: [] });
    });

    await t.step("a pipeline: what it reads and writes, who is up and downstream", async () => {
      const b = await d.tau("lineage", "--pipeline", "lineage_b");
      assertEquals(b.code, 0, b.stdout);
      assertEquals(b.json.reads, [RAW]);
      assertEquals(b.json.writes, [SUMMARY]);
      assertEquals(b.json.upstream_pipelines, ["lineage_a"]);
      assertEquals(b.json.downstream_pipelines, []);
      assert(/^run_/.test(b.json.run_id), b.stdout);
      assert(b.json.mermaid.includes("t_warehouse_main_raw_orders --> p_lineage_b"));
      assert(b.json.mermaid.includes("p_lineage_b --> t_warehouse_main_orders_summary"));
      const a = await d.tau("lineage", "--pipeline", "lineage_a");
      assertEquals([a.json.reads, a.json.writes], [[], [RAW]]);
      assertEquals(a.json.downstream_pipelines, ["lineage_b"]);
    });

    await t.step("bad and unknown names are clear errors", async () => {
      const none = await d.tau("lineage", "no_such_table");
      assertEquals([none.code === 0, none.json.error.code], [false, "not_found"]);
      assert(none.json.error.hint.includes("tau lineage --pipeline"));
      const both = await d.tau("lineage", "raw_orders", "--pipeline", "lineage_b");
      assertEquals(both.json.error.code, "invalid_params");
      const neither = await d.tau("lineage");
      assertEquals(neither.json.error.code, "invalid_params");
      const bad = await d.tau("lineage", "a..b");
      assertEquals(bad.json.error.code, "invalid_params");
      const pipeline = await d.tau("lineage", "--pipeline", "nope");
      assertEquals(pipeline.json.error.code, "not_found");
    });

    await t.step("a schema drift in raw_orders names its readers", async () => {
      const failed = await d.tau("run", "lineage_a", "--params", '{"strict":true}');
      assertEquals(failed.json.status, "failed", failed.stdout);
      const heal = await d.tau("heal", "lineage_a");
      assertEquals(heal.code, 0, heal.stdout);
      assertEquals(heal.json.diagnosis.class, "schema_drift");
      assertEquals(heal.json.diagnosis.drifted_tables, [RAW]);
      assertEquals(heal.json.diagnosis.affected_pipelines, ["lineage_b"]);
      // The failed run does not replace the lineage of the last successful one.
      const still = await d.tau("lineage", "raw_orders");
      assertEquals(still.json.upstream.pipelines, ["lineage_a"]);
    });
  } finally {
    await d.stop();
  }
});
