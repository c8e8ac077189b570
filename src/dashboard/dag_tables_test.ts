/**
 * `/dag?tables=1` through `dashboardApp(...).request` on a real SQLite store: table nodes (class
 * `table`) from each pipeline's latest successful run, an edge pipeline → table for a write and
 * table → pipeline for a read, names escaped, and none of it without the option.
 */
import { assert, assertEquals } from "../../tests/helpers/assert.ts";
import { withDashboard } from "../../tests/helpers/dashboard_app.ts";
import { deployInput, newRun } from "../../tests/store/store_contract.ts";
import type { LineageEntry, Store } from "../store/mod.ts";

const entry = (table: string, direction: "read" | "write"): LineageEntry => ({
  connection: "warehouse",
  schema_name: "main",
  table_name: table,
  direction,
  step: null,
});

async function succeeded(store: Store, runId: string, pipeline: string, entries: LineageEntry[]) {
  await store.createRun(newRun(runId, { pipeline }));
  await store.updateRun(runId, { status: "success" });
  await store.saveLineage(runId, pipeline, entries);
}

function edgesIn(html: string): string[] {
  const edge = /<path class="edge" d="[^"]+" [^>]*data-from="([^"]*)" data-to="([^"]*)">/g;
  return [...html.matchAll(edge)].map((m) => `${m[1]}>${m[2]}`).sort();
}

const tablesIn = (html: string) =>
  [...html.matchAll(/<g class="node table" data-table="([^"]*)">/g)].map((m) => m[1]).sort();

Deno.test("dag page: ?tables=1 adds table nodes with write and read edges", async () => {
  await withDashboard(async (h) => {
    await h.store.deploy(deployInput({ name: "loader" }));
    await h.store.deploy(deployInput({ name: "summary" }));
    await succeeded(h.store, "run_l1", "loader", [entry("raw_orders", "write")]);
    await succeeded(h.store, "run_s1", "summary", [
      entry("raw_orders", "read"),
      entry("orders_summary", "write"),
      // Its own target, read back: no cycle is drawn for it.
      entry("orders_summary", "read"),
      entry("<b>odd</b>", "read"),
    ]);
    const cookie = await h.session();

    const plain = await (await h.get("/dag", cookie)).text();
    assertEquals(tablesIn(plain), []);
    assert(plain.includes('href="/dag?tables=1"'));

    const res = await h.get("/dag?tables=1", cookie);
    assertEquals(res.status, 200);
    const html = await res.text();
    assertEquals(tablesIn(html), [
      "warehouse.main.&lt;b&gt;odd&lt;/b&gt;",
      "warehouse.main.orders_summary",
      "warehouse.main.raw_orders",
    ]);
    assert(!html.includes("<b>odd</b>"), "a table name is escaped");
    assertEquals(edgesIn(html), [
      "loader>table:warehouse.main.raw_orders",
      "summary>table:warehouse.main.orders_summary",
      "table:warehouse.main.&lt;b&gt;odd&lt;/b&gt;>summary",
      "table:warehouse.main.raw_orders>summary",
    ]);
    // Pipelines keep their links and statuses; tables are not links.
    assert(html.includes('<a href="/pipelines/loader"><g class="node status-success"'));
    assert(!/<a [^>]*><g class="node table"/.test(html));
    assert(html.includes('href="/dag">Hide tables'));
  });
});
