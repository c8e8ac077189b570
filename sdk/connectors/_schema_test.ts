/** The schema-change policy and the type reading it rests on, as pure decisions. */
import { assert, assertEquals } from "../../tests/helpers/assert.ts";
import { fits, type InferredColumn, parseSqlType } from "./_columns.ts";
import { planSchema, SchemaChangeError, schemaDdl } from "./_schema.ts";
import type { LoadMode, OnSchemaChange } from "./types.ts";

/** The SchemaChangeError `work` throws. */
function refusal(work: () => unknown): SchemaChangeError {
  try {
    work();
  } catch (err) {
    assert(err instanceof SchemaChangeError, String(err));
    return err;
  }
  throw new Error("expected a SchemaChangeError");
}

const col = (name: string, kind: InferredColumn["kind"], extra = {}): InferredColumn => ({
  name,
  kind,
  known: true,
  ...extra,
});

Deno.test("parseSqlType reads each engine's own spelling", () => {
  const cases: [string, ReturnType<typeof parseSqlType>][] = [
    ["numeric(10,2)", { kind: "decimal", precision: 10, scale: 2 }],
    ["numeric", { kind: "decimal" }],
    ["NUMBER(38,0)", { kind: "decimal", precision: 38, scale: 0 }],
    ["Nullable(Decimal(18, 4))", { kind: "decimal", precision: 18, scale: 4 }],
    ["tinyint(1)", { kind: "boolean" }],
    ["int(11) unsigned", { kind: "bigint" }],
    ["LowCardinality(Nullable(String))", { kind: "text" }],
    ["timestamp with time zone", { kind: "timestamp" }],
    ["DateTime64(6, 'UTC')", { kind: "timestamp" }],
    ["double precision", { kind: "double" }],
    ["jsonb", { kind: "json" }],
    ["character varying(20)", { kind: "text" }],
    ["uuid", null],
  ];
  for (const [text, type] of cases) assertEquals(parseSqlType(text), type, text);
});

Deno.test("fits: widening is fine, rounding or truncating is not", () => {
  const cases: [InferredColumn, string, boolean][] = [
    [col("a", "bigint"), "double precision", true],
    [col("a", "bigint"), "numeric(10,2)", true],
    [col("a", "double"), "bigint", false],
    [col("a", "decimal", { scale: 4 }), "numeric(10,2)", false],
    [col("a", "decimal", { scale: 2 }), "numeric(10,2)", true],
    [col("a", "timestamp"), "date", false],
    [col("a", "date"), "timestamptz", true],
    [col("a", "json"), "text", true],
    [col("a", "text"), "bigint", false],
    [{ ...col("a", "text"), known: false }, "bigint", true],
  ];
  for (const [source, target, expected] of cases) {
    assertEquals(fits(source, parseSqlType(target)), expected, `${source.kind} → ${target}`);
  }
});

Deno.test("planSchema: one decision per option, the same for every engine", () => {
  const target = [{ name: "id", type: "bigint" }, { name: "customer", type: "text" }];
  const source = [col("id", "bigint"), col("customer_name", "text")];
  const plan = (mode: LoadMode, onSchemaChange: OnSchemaChange) =>
    planSchema({ dialect: "postgres", table: "t", mode, onSchemaChange, source, target, keys: [] });

  const added = plan("upsert", "append_new_columns");
  assertEquals(added.add.map((c) => c.name), ["customer_name"]);
  assertEquals(added.changes.missing, ["customer"]);
  assertEquals(added.drop, []);
  assertEquals(schemaDdl("postgres", '"t"', added), [
    'ALTER TABLE "t" ADD COLUMN "customer_name" text',
  ]);

  const synced = plan("append", "sync_all_columns");
  assertEquals(schemaDdl("mysql", "`t`", synced), [
    "ALTER TABLE `t` ADD COLUMN `customer_name` LONGTEXT",
    "ALTER TABLE `t` DROP COLUMN `customer`",
  ]);
  assertEquals(synced.changes.dropped, ["customer"]);

  const ignored = plan("append", "ignore");
  assertEquals(ignored.write.map((c) => c.name), ["id"]);
  assertEquals(ignored.changes.ignored, ["customer_name"]);

  const replaced = plan("replace", "append_new_columns");
  assertEquals(replaced.changes.dropped, ["customer"]);
  assertEquals(replaced.changes.missing, []);

  const error = refusal(() => plan("append", "fail"));
  assertEquals(error.details.added, [{ column: "customer_name", type: "text" }]);
  assertEquals(error.details.missing, ["customer"]);
});

Deno.test("planSchema: a retyped column is refused unless sync_all_columns widens it", () => {
  const target = [{ name: "id", type: "BIGINT" }, { name: "amount", type: "BIGINT" }];
  const source = [col("id", "bigint"), col("amount", "double")];
  const plan = (onSchemaChange: OnSchemaChange) =>
    planSchema({
      dialect: "duckdb",
      table: "t",
      mode: "upsert",
      onSchemaChange,
      source,
      target,
      keys: ["id"],
    });
  for (const option of ["append_new_columns", "ignore", "fail"] as const) {
    const error = refusal(() => plan(option));
    assertEquals(error.details.type_changes, [{ column: "amount", from: "BIGINT", to: "DOUBLE" }]);
  }
  const widened = plan("sync_all_columns");
  assertEquals(schemaDdl("duckdb", '"t"', widened), [
    'ALTER TABLE "t" ALTER COLUMN "amount" SET DATA TYPE DOUBLE',
  ]);
});
