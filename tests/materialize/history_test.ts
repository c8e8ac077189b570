/** scd_type_1, scd_type_2 and snapshot on PostgreSQL, MariaDB and DuckDB, compared whole. */
import { assertEquals, assertMatch } from "../helpers/assert.ts";
import { type Engine, engineTest } from "./engines.ts";

const T1 = "2026-01-01T00:00:00.000Z";
const T2 = "2026-01-02T00:00:00.000Z";
const T3 = "2026-01-03T00:00:00.000Z";
const T4 = "2026-01-04T00:00:00.000Z";
const T5 = "2026-01-05T00:00:00.000Z";

async function customers(e: Engine, rows: string) {
  await e.exec("DROP TABLE IF EXISTS {s}.customers");
  await e.exec(
    "CREATE TABLE {s}.customers (id INT, name VARCHAR(20), tier VARCHAR(10), note VARCHAR(20))",
  );
  if (rows) await e.exec(`INSERT INTO {s}.customers VALUES ${rows}`);
}

const counts = (r: { rows_inserted: number; rows_updated: number; rows_deleted: number }) => [
  r.rows_inserted,
  r.rows_updated,
  r.rows_deleted,
];

engineTest("scd_type_1 overwrites only rows whose tracked columns changed", async (e) => {
  await customers(e, "(1, 'Ann', 'gold', 'x'), (2, 'Bob', NULL, 'y'), (3, 'Cy', 'free', 'z')");
  const config = {
    strategy: "scd_type_1" as const,
    targetTable: "{s}.dim",
    sourceQuery: "SELECT * FROM {s}.customers",
    uniqueKey: "id",
    trackedColumns: ["name", "tier"],
  };
  assertEquals(counts(await e.materialize(config)), [3, 0, 0]);
  // 1: tracked change; 2: NULL → value (a change); 3: untracked change only; 4: new.
  await customers(
    e,
    "(1, 'Ann', 'platinum', 'x'), (2, 'Bob', 'free', 'y'), (3, 'Cy', 'free', 'zz'), (4, 'Di', NULL, 'w')",
  );
  assertEquals(counts(await e.materialize(config)), [1, 2, 0]);
  assertEquals(await e.rows("SELECT * FROM {s}.dim ORDER BY id"), [
    { id: 1, name: "Ann", tier: "platinum", note: "x" },
    { id: 2, name: "Bob", tier: "free", note: "y" },
    { id: 3, name: "Cy", tier: "free", note: "z" },
    { id: 4, name: "Di", tier: null, note: "w" },
  ]);
  assertEquals(counts(await e.materialize(config)), [0, 0, 0]);
});

engineTest("scd_type_2: change, no-change rerun, hard delete, key resurrection", async (e) => {
  const config = {
    strategy: "scd_type_2" as const,
    targetTable: "{s}.dim_customers",
    sourceQuery: "SELECT id, name, tier FROM {s}.customers",
    uniqueKey: "id",
    trackedColumns: ["name", "tier"],
    invalidateHardDeletes: true,
  };
  const history = () =>
    e.rows(
      "SELECT id, name, tier, valid_from, valid_to, is_current FROM {s}.dim_customers ORDER BY id, valid_from",
    );
  await customers(e, "(1, 'Ann', 'gold', ''), (2, 'Bob', NULL, ''), (3, 'Cy', 'free', '')");
  assertEquals(counts(await e.materialize(config, new Date(T1))), [3, 0, 0]);

  await customers(e, "(1, 'Ann', 'platinum', ''), (2, 'Bob', NULL, ''), (3, 'Cy', 'free', '')");
  assertEquals(counts(await e.materialize(config, new Date(T2))), [1, 1, 0]);

  const afterChange = await history();
  assertEquals(counts(await e.materialize(config, new Date(T3))), [0, 0, 0]);
  assertEquals(await history(), afterChange, "a rerun without changes adds nothing");

  await customers(e, "(1, 'Ann', 'platinum', ''), (2, 'Bob', NULL, '')");
  assertEquals(counts(await e.materialize(config, new Date(T4))), [0, 0, 1]);

  await customers(e, "(1, 'Ann', 'platinum', ''), (2, 'Bob', NULL, ''), (3, 'Cy', 'gold', '')");
  assertEquals(counts(await e.materialize(config, new Date(T5))), [1, 0, 0]);

  assertEquals(await history(), [
    { id: 1, name: "Ann", tier: "gold", valid_from: T1, valid_to: T2, is_current: 0 },
    { id: 1, name: "Ann", tier: "platinum", valid_from: T2, valid_to: null, is_current: 1 },
    { id: 2, name: "Bob", tier: null, valid_from: T1, valid_to: null, is_current: 1 },
    { id: 3, name: "Cy", tier: "free", valid_from: T1, valid_to: T4, is_current: 0 },
    { id: 3, name: "Cy", tier: "gold", valid_from: T5, valid_to: null, is_current: 1 },
  ]);
  const perKey = await e.rows(
    "SELECT id, count(*) AS n FROM {s}.dim_customers WHERE is_current GROUP BY id ORDER BY id",
  );
  assertEquals(perKey, [{ id: 1, n: 1 }, { id: 2, n: 1 }, { id: 3, n: 1 }]);
});

engineTest(
  "scd_type_2 tells a NULL apart from an empty string and keeps deletes when not asked",
  async (e) => {
    const config = {
      strategy: "scd_type_2" as const,
      targetTable: "{s}.dim",
      sourceQuery: "SELECT id, name, tier FROM {s}.customers",
      uniqueKey: "id",
      trackedColumns: ["name", "tier"],
      validFromColumn: "start_at",
      validToColumn: "end_at",
      isCurrentColumn: "active",
      hashColumn: "h",
    };
    await customers(e, "(1, 'Ann', NULL, ''), (2, 'Bob', 'a', '')");
    await e.materialize(config, new Date(T1));
    await customers(e, "(1, 'Ann', '', '')");
    assertEquals(counts(await e.materialize(config, new Date(T2))), [1, 1, 0]);
    assertEquals(
      await e.rows("SELECT id, tier, start_at, end_at, active FROM {s}.dim ORDER BY id, start_at"),
      [
        { id: 1, tier: null, start_at: T1, end_at: T2, active: 0 },
        { id: 1, tier: "", start_at: T2, end_at: null, active: 1 },
        { id: 2, tier: "a", start_at: T1, end_at: null, active: 1 },
      ],
    );
  },
);

engineTest("scd_type_2 refuses a source that already has its managed columns", async (e) => {
  await customers(e, "(1, 'Ann', 'gold', '')");
  const error = await e.materialize({
    strategy: "scd_type_2",
    targetTable: "{s}.dim",
    sourceQuery: "SELECT id, name, 1 AS is_current FROM {s}.customers",
    uniqueKey: "id",
    trackedColumns: ["name"],
  }).then(() => null, (err: Error) => err);
  assertMatch(String(error?.message), /has column is_current, which the strategy manages itself/);
});

engineTest("snapshot keeps the newest retainSnapshots snapshots whole", async (e) => {
  await e.exec("CREATE TABLE {s}.accounts (id INT, balance INT)");
  const config = {
    strategy: "snapshot" as const,
    targetTable: "{s}.balance_snapshots",
    sourceQuery: "SELECT * FROM {s}.accounts",
    retainSnapshots: 2,
  };
  await e.exec("INSERT INTO {s}.accounts VALUES (1, 100), (2, 200)");
  assertEquals(counts(await e.materialize(config, new Date(T1))), [2, 0, 0]);
  await e.exec("UPDATE {s}.accounts SET balance = 150 WHERE id = 1");
  assertEquals(counts(await e.materialize(config, new Date(T2))), [2, 0, 0]);
  await e.exec("INSERT INTO {s}.accounts VALUES (3, 300)");
  assertEquals(counts(await e.materialize(config, new Date(T3))), [3, 0, 2]);
  assertEquals(
    await e.rows("SELECT * FROM {s}.balance_snapshots ORDER BY snapshot_id, id"),
    [
      { id: 1, balance: 150, snapshot_id: 2, snapshot_at: T2 },
      { id: 2, balance: 200, snapshot_id: 2, snapshot_at: T2 },
      { id: 1, balance: 150, snapshot_id: 3, snapshot_at: T3 },
      { id: 2, balance: 200, snapshot_id: 3, snapshot_at: T3 },
      { id: 3, balance: 300, snapshot_id: 3, snapshot_at: T3 },
    ],
  );
});
