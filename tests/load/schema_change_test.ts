/**
 * Issue 13 item 1: one schema-change policy for `load`, the same on PostgreSQL, MariaDB and
 * DuckDB (for real). Between two loads a column is renamed, added, dropped or retyped, in each
 * mode; nothing is lost or refused without a word.
 */
import { assert, assertEquals, assertMatch } from "../helpers/assert.ts";
import { parseSqlType } from "../../sdk/connectors/_columns.ts";
import { SchemaChangeError } from "../../sdk/connectors/_schema.ts";
import type { LoadOptions, Row } from "../../sdk/connectors/types.ts";
import { classifyChildError } from "../../src/runner/classify.ts";
import { type Engine, ENGINES } from "./engines.ts";

const BASE = [
  { id: 1, customer: "ann", amount: 10 },
  { id: 2, customer: "bob", amount: 20 },
];
/** `customer` renamed to `customer_name`, and a new column `plan`. */
const RENAMED = [{ id: 1, customer_name: "Ann", amount: 11, plan: "pro" }];

const pick = (rows: Row[], ...columns: string[]) =>
  rows.map((r) => Object.fromEntries(columns.map((c) => [c, r[c] ?? null])));

async function refused(work: Promise<unknown>): Promise<SchemaChangeError> {
  try {
    await work;
  } catch (err) {
    assert(err instanceof SchemaChangeError, `expected a SchemaChangeError, got ${err}`);
    return err;
  }
  throw new Error("the load was expected to be refused");
}

for (const open of ENGINES) {
  Deno.test(`load across schema changes: ${open.name.replace("Engine", "")}`, async (t) => {
    const e: Engine = await open();
    const fresh = async (tag: string) => {
      const table = e.table(tag);
      await e.db.load(BASE, { table, mode: "replace" });
      return table;
    };
    const upsert = (table: string, extra: Partial<LoadOptions> = {}): LoadOptions => ({
      table,
      mode: "upsert",
      mergeKey: "id",
      ...extra,
    });
    try {
      await t.step("upsert after a rename: new columns added, the old column kept", async () => {
        const table = await fresh("up_rename");
        const result = await e.db.load(RENAMED, upsert(table));
        assertEquals(result.rows, 1);
        assertEquals(result.schema_changes?.added.map((a) => a.column), ["customer_name", "plan"]);
        assertEquals(result.schema_changes?.missing, ["customer"]);
        assertEquals(result.schema_changes?.dropped, []);
        assertEquals(
          pick(await e.rows(table), "id", "customer", "customer_name", "amount", "plan"),
          [
            { id: 1, customer: "ann", customer_name: "Ann", amount: 11, plan: "pro" },
            { id: 2, customer: "bob", customer_name: null, amount: 20, plan: null },
          ],
        );
      });

      await t.step("append after a rename: the new row has the new columns", async () => {
        const table = await fresh("app_rename");
        const result = await e.db.load(
          [{ id: 3, customer_name: "cat", amount: 30, plan: "free" }],
          {
            table,
          },
        );
        assertEquals(result.schema_changes?.added.map((a) => a.column), ["customer_name", "plan"]);
        assertEquals(result.schema_changes?.missing, ["customer"]);
        assertEquals(pick(await e.rows(table), "id", "customer", "customer_name", "plan"), [
          { id: 1, customer: "ann", customer_name: null, plan: null },
          { id: 2, customer: "bob", customer_name: null, plan: null },
          { id: 3, customer: null, customer_name: "cat", plan: "free" },
        ]);
      });

      await t.step("a dropped column keeps its values under upsert", async () => {
        const table = await fresh("up_drop");
        const result = await e.db.load([{ id: 2, customer: "Bob" }], upsert(table));
        assertEquals(result.schema_changes?.missing, ["amount"]);
        assertEquals(pick(await e.rows(table), "id", "customer", "amount"), [
          { id: 1, customer: "ann", amount: 10 },
          { id: 2, customer: "Bob", amount: 20 },
        ]);
      });

      await t.step("replace rebuilds from the rows and reports the difference", async () => {
        const table = await fresh("rep_rename");
        const result = await e.db.load(RENAMED, { table, mode: "replace" });
        assertEquals(result.schema_changes?.added.map((a) => a.column), ["customer_name", "plan"]);
        assertEquals(result.schema_changes?.dropped, ["customer"]);
        assertEquals(Object.keys(await e.types(table)), ["id", "customer_name", "amount", "plan"]);
      });

      await t.step("a retyped column is refused, naming table, column and option", async () => {
        for (const mode of ["append", "upsert"] as const) {
          const table = await fresh(`retype_${mode}`);
          for (const amount of ["ten", 1.5]) {
            const err = await refused(
              e.db.load([{ id: 1, customer: "ann", amount }], { ...upsert(table), mode }),
            );
            assertEquals(err.code, "schema_change");
            assertMatch(err.message, new RegExp(`Cannot load into \\S*${table}: column amount is`));
            assertMatch(err.hint, /onSchemaChange: "sync_all_columns"/);
            assertEquals(err.details.type_changes.map((c) => c.column), ["amount"]);
          }
          assertEquals(pick(await e.rows(table), "id", "amount"), [
            { id: 1, amount: 10 },
            { id: 2, amount: 20 },
          ]);
        }
      });

      await t.step("sync_all_columns widens a retyped column and drops missing ones", async () => {
        const table = await fresh("sync");
        const result = await e.db.load([{ id: 2, amount: 2.5, plan: "pro" }], {
          ...upsert(table),
          onSchemaChange: "sync_all_columns",
        });
        assertEquals(result.schema_changes?.type_changes.map((c) => c.column), ["amount"]);
        assertEquals(result.schema_changes?.dropped, ["customer"]);
        assertEquals(parseSqlType((await e.types(table)).amount!)?.kind, "double");
        assertEquals(Object.keys(await e.types(table)), ["id", "amount", "plan"]);
        assertEquals(pick(await e.rows(table), "id", "amount", "plan"), [
          { id: 1, amount: 10, plan: null },
          { id: 2, amount: 2.5, plan: "pro" },
        ]);
      });

      await t.step("fail refuses any difference, in every mode", async () => {
        for (const mode of ["append", "upsert", "replace"] as const) {
          const table = await fresh(`fail_${mode}`);
          const err = await refused(
            e.db.load(RENAMED, { ...upsert(table), mode, onSchemaChange: "fail" }),
          );
          assertMatch(
            err.message,
            /new column\(s\) customer_name, plan; missing column\(s\) customer/,
          );
          assertMatch(err.message, /onSchemaChange is "fail"/);
          assertEquals(pick(await e.rows(table), "id", "customer"), pick(BASE, "id", "customer"));
        }
      });

      await t.step(
        "ignore writes only the table's columns and says which it left out",
        async () => {
          const table = await fresh("ignore");
          const result = await e.db.load(RENAMED, { ...upsert(table), onSchemaChange: "ignore" });
          assertEquals(result.schema_changes?.ignored, ["customer_name", "plan"]);
          assertEquals(Object.keys(await e.types(table)), ["id", "customer", "amount"]);
          assertEquals(pick(await e.rows(table), "id", "customer", "amount"), [
            { id: 1, customer: "ann", amount: 11 },
            { id: 2, customer: "bob", amount: 20 },
          ]);
        },
      );

      await t.step("an unknown onSchemaChange is refused before anything is written", async () => {
        const table = await fresh("bad_option");
        try {
          await e.db.load(RENAMED, { table, onSchemaChange: "merge" as never });
          throw new Error("expected a refusal");
        } catch (err) {
          assertMatch((err as Error).message, /unknown onSchemaChange "merge"/);
        }
        assertEquals(Object.keys(await e.types(table)), ["id", "customer", "amount"]);
      });
    } finally {
      await e.close();
    }
  });
}

Deno.test("a refused schema change is a run error of kind schema_change", () => {
  const error = classifyChildError(
    {
      code: "schema_change",
      name: "SchemaChangeError",
      message: 'Cannot load into raw.orders: new column(s) plan; onSchemaChange is "fail"',
      stack: null,
      step: "load",
    },
    { codeUrl: "file:///x/pipeline.ts", filename: "sync.ts" },
  );
  assertEquals(error.kind, "schema_change");
  assertMatch(error.hint ?? "", /set onSchemaChange in the load options/);
});
