/**
 * The materialization examples, deployed and run through a real daemon against its default
 * `warehouse` connection (embedded DuckDB in TAU_HOME): the whole path from `ctx.materialize`
 * in the sandbox, over the run's channel, to DuckDB on the trusted side.
 */
import { assert, assertEquals } from "../helpers/assert.ts";
import { EXAMPLES, inPool, startDaemon, type TestDaemon } from "../helpers/daemon.ts";

async function run(d: TestDaemon, name: string, params?: Record<string, unknown>) {
  const out = await d.tau("run", name, ...(params ? ["--params", JSON.stringify(params)] : []));
  assertEquals(out.json.status, "success", `${name}: ${out.stdout}`);
  return out.json.result;
}

const counts = (r: Record<string, number>) => [r.rows_inserted, r.rows_updated, r.rows_deleted];

Deno.test("materialization examples run end to end on the default DuckDB warehouse", async (t) => {
  const d = await startDaemon({});
  try {
    await t.step("every example deploys", async () => {
      const names = [
        "full_refresh_products",
        "incremental_orders",
        "partitioned_events",
        "scd1_products",
        "scd2_customers",
        "snapshot_balances",
        "append_only_logs",
        "view_active_users",
        "warehouse_etl",
      ];
      // Deployed together, as an agent deploying a project would.
      await inPool(names, 6, async (name) => {
        const out = await d.tau("deploy", `${EXAMPLES}${name}.ts`);
        assertEquals(out.code, 0, `${name}: ${out.stdout}`);
      });
    });

    await t.step("full_refresh_products rebuilds and swaps", async () => {
      const first = await run(d, "full_refresh_products");
      assertEquals([first.first_run, first.rows_inserted], [true, 2]);
      const second = await run(d, "full_refresh_products");
      assertEquals(counts(second), [2, 0, 2]);
    });

    await t.step("incremental_orders merges only what changed", async () => {
      assertEquals((await run(d, "incremental_orders")).rows_inserted, 2);
      const second = await run(d, "incremental_orders");
      assertEquals(counts(second), [2, 1, 0]);
    });

    await t.step("partitioned_events replaces today's and yesterday's partitions", async () => {
      assertEquals((await run(d, "partitioned_events")).rows_inserted, 20);
      assertEquals(counts(await run(d, "partitioned_events")), [20, 0, 20]);
    });

    await t.step("scd1_products overwrites a changed price only", async () => {
      await run(d, "scd1_products");
      assertEquals(counts(await run(d, "scd1_products", { price: 30 })), [0, 1, 0]);
      assertEquals(counts(await run(d, "scd1_products", { price: 30 })), [0, 0, 0]);
    });

    await t.step("scd2_customers keeps history and the view shows current rows", async () => {
      assertEquals((await run(d, "scd2_customers")).rows_inserted, 2);
      assertEquals(counts(await run(d, "scd2_customers")), [0, 0, 0]);
      assertEquals(counts(await run(d, "scd2_customers", { tier: "gold" })), [1, 1, 0]);
      const view = await run(d, "view_active_users");
      assertEquals([view.strategy, view.first_run], ["view", true]);
    });

    await t.step("snapshot_balances appends numbered snapshots", async () => {
      assertEquals((await run(d, "snapshot_balances")).rows_inserted, 2);
      assertEquals(counts(await run(d, "snapshot_balances")), [2, 0, 0]);
    });

    await t.step("append_only_logs inserts every run", async () => {
      assertEquals((await run(d, "append_only_logs")).rows_inserted, 1);
      assertEquals(counts(await run(d, "append_only_logs")), [1, 0, 0]);
    });

    await t.step("warehouse_etl builds every layer, and the logs say what each did", async () => {
      const result = await run(d, "warehouse_etl");
      assertEquals(Object.keys(result), ["staging", "dim_product", "fact_sales", "daily_revenue"]);
      assertEquals(result.fact_sales.rows_inserted, 3);
      assertEquals(result.daily_revenue.rows_inserted, 2);
      const again = await run(d, "warehouse_etl");
      assertEquals(counts(again.fact_sales), [0, 3, 0]);
      const logs = await d.tau("logs", "warehouse_etl");
      assert(JSON.stringify(logs.json).includes("materialized analytics.fact_sales (incremental)"));
    });
  } finally {
    await d.stop();
  }
});
