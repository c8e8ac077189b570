/** Issue 13 item 1 end to end: a load across a schema change, reported in a run's result or error. */
import { assertEquals, assertMatch } from "../helpers/assert.ts";
import { startDaemon } from "../helpers/daemon.ts";

Deno.test("load across a schema change: reported in the result; refused as kind schema_change", async () => {
  const d = await startDaemon();
  try {
    await d.deploy("load_schema_change.ts");
    const ok = await d.tau("run", "load_schema_change");
    assertEquals(ok.json.status, "success", JSON.stringify(ok.json.error));
    assertEquals(ok.json.result.schema_changes.added.map((a: { column: string }) => a.column), [
      "customer_name",
      "plan",
    ]);
    assertEquals(ok.json.result.schema_changes.missing, ["customer"]);
    assertEquals(ok.json.result.rows, [
      { id: 1, customer: "ann", customer_name: "Ann", plan: "pro" },
      { id: 2, customer: "bob", customer_name: null, plan: null },
    ]);

    const refused = await d.tau("run", "load_schema_change", "--params", '{"fail":true}');
    assertEquals(refused.json.status, "failed");
    assertEquals(refused.json.error.kind, "schema_change");
    assertEquals(refused.json.error.step, "strict load");
    assertMatch(
      refused.json.error.message,
      /Cannot load into orders: .*missing column\(s\) customer/,
    );
    assertMatch(refused.json.error.message, /onSchemaChange is "fail"/);
    assertMatch(refused.json.error.hint, /onSchemaChange/);
    // The same facts as data, for the diagnosis and lineage (a heal reads details.table).
    assertEquals(refused.json.error.details, {
      source: "schema",
      table: "orders",
      reason: "onSchemaChange fail",
      detail: "missing: customer",
    });
  } finally {
    await d.stop();
  }
});
