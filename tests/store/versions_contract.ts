/**
 * The contract of versions (sources, candidates, promotion), run diagnoses and heals,
 * registered per engine beside `store_contract.ts`.
 */
import { assert, assertEquals } from "../helpers/assert.ts";
import {
  type ContractEngine,
  deployInput,
  newRun,
  type StoreTarget,
  withStore,
} from "./store_contract.ts";
import type { NewVersion, Store } from "../../src/store/types.ts";

function candidate(overrides: Partial<NewVersion> = {}): NewVersion {
  return {
    name: "orders",
    code: "export default 'healed';",
    hash: "healed",
    filename: "orders.ts",
    metadata: { description: "Healed", schedule: "0 6 * * *" },
    source: "heal",
    parent: 1,
    heal_id: "heal_1",
    ...overrides,
  };
}

export function versionsContract(engine: ContractEngine): void {
  const ignore = engine.ignore ?? false;
  const test = (name: string, fn: (store: Store, target: StoreTarget) => Promise<void>) =>
    Deno.test({ name: `${engine.name}: ${name}`, ignore, fn: () => withStore(engine, fn) });

  test("deploy records its source and parent, promoted at creation", async (store) => {
    const first = await store.deploy(deployInput());
    assertEquals(first.version.source, "deploy");
    assertEquals(first.version.parent, null);
    assertEquals(first.version.heal_id, null);
    assertEquals(first.version.promoted_at, first.version.created_at);

    const created = await store.deploy(
      deployInput({ hash: "h2", code: "export default 2;", source: "create" }),
    );
    assertEquals([created.version.source, created.version.parent], ["create", 1]);

    const rollback = await store.deploy(
      deployInput({ hash: "h1b", source: "rollback", parent: 1 }),
    );
    assertEquals(rollback.version.version, 3);
    assertEquals([rollback.version.source, rollback.version.parent], ["rollback", 1]);
    assertEquals((await store.getVersion("orders", 3))?.source, "rollback");
  });

  test("a candidate is numbered after the newest and is not current", async (store) => {
    await store.deploy(deployInput());
    const made = await store.createVersion(candidate());
    assertEquals(made.version, 2);
    assertEquals(
      [made.source, made.parent, made.heal_id, made.promoted_at],
      ["heal", 1, "heal_1", null],
    );
    assertEquals(made.metadata, { description: "Healed", schedule: "0 6 * * *" });
    const pipeline = await store.getPipeline("orders");
    assertEquals(pipeline?.current_version, 1);
    assertEquals(pipeline?.metadata, { description: "Orders" });
    assertEquals(await store.getVersion("orders", 2), made);

    // A deploy after a candidate takes the next number, not current + 1.
    const next = await store.deploy(deployInput({ hash: "h3", code: "export default 3;" }));
    assertEquals([next.version.version, next.version.parent], [3, 1]);
    assertEquals(
      (await store.listVersions("orders")).map((v) => [v.version, v.source, !!v.promoted_at]),
      [[1, "deploy", true], [2, "heal", false], [3, "deploy", true]],
    );
    assertEquals(await store.listVersions("nope"), []);
  });

  test("a candidate needs an existing pipeline", async (store) => {
    await assert.rejects(
      store.createVersion(candidate({ name: "nope" })),
      (err: Error & { code?: string }) => err.code === "not_found",
    );
  });

  test("promoting makes the version current with its metadata and schedule", async (store) => {
    await store.deploy(deployInput());
    const made = await store.createVersion(candidate());
    const pipeline = await store.promoteVersion("orders", made.version);
    assertEquals(pipeline?.current_version, 2);
    assertEquals(pipeline?.metadata, { description: "Healed", schedule: "0 6 * * *" });
    assertEquals(pipeline?.schedule, "0 6 * * *");
    assertEquals(pipeline?.source_path, "/src/orders.ts");
    assertEquals(await store.getPipeline("orders"), pipeline);
    const promoted = await store.getVersion("orders", 2);
    assert(promoted?.promoted_at, "promoted_at is set");
    assert(promoted.promoted_at >= made.created_at);

    // Promoting again refreshes when it last became current.
    await store.promoteVersion("orders", 1);
    const again = await store.getVersion("orders", 1);
    assert(again?.promoted_at && again.promoted_at >= promoted.promoted_at);
    assertEquals((await store.getPipeline("orders"))?.schedule, null);

    assertEquals(await store.promoteVersion("orders", 9), null);
    assertEquals(await store.promoteVersion("nope", 1), null);
    assertEquals((await store.getPipeline("orders"))?.current_version, 1);

    // An unchanged redeploy compares with the current version, not the newest.
    const same = await store.deploy(deployInput());
    assertEquals([same.unchanged, same.version.version], [true, 1]);
  });

  test("runs of a candidate record their version; diagnoses are stored", async (store) => {
    await store.deploy(deployInput());
    const made = await store.createVersion(candidate());
    const run = await store.createRun(newRun("run_1", { version: made.version }));
    assertEquals(run.version, 2);
    assertEquals(run.diagnosis, null);

    const diagnosis = { class: "code_bug", evidence: [{ source: "error", text: "boom ✓" }] };
    assertEquals(await store.setDiagnosis("run_1", diagnosis), true);
    assertEquals((await store.getRun("run_1"))?.diagnosis, diagnosis);
    assertEquals((await store.listRuns("orders"))[0]?.diagnosis, diagnosis);
    // Other updates keep it.
    await store.updateRun("run_1", { status: "failed" });
    assertEquals((await store.getRun("run_1"))?.diagnosis, diagnosis);
    assertEquals(await store.setDiagnosis("run_1", null), true);
    assertEquals((await store.getRun("run_1"))?.diagnosis, null);
    assertEquals(await store.setDiagnosis("nope", diagnosis), false);
  });

  test("heals: created, updated in part, listed newest first", async (store) => {
    await store.deploy(deployInput());
    await store.deploy(deployInput({ name: "other" }));
    const t0 = new Date("2026-01-01T00:00:00.000Z");
    const at = (s: number) => new Date(t0.getTime() + s * 1000);
    const first = await store.createHeal({ id: "h_1", pipeline: "orders", run_id: "r_1" }, t0);
    assertEquals(first, {
      id: "h_1",
      pipeline: "orders",
      run_id: "r_1",
      status: "running",
      created_at: t0.toISOString(),
      finished_at: null,
      expires_at: null,
      record: {},
    });
    await store.createHeal(
      { id: "h_2", pipeline: "orders", run_id: null, status: "dry_run", record: { n: 1 } },
      at(10),
    );
    await store.createHeal({ id: "h_3", pipeline: "other", run_id: null }, at(20));

    const record = { attempts: [{ n: 1, outcome: "success" }], usage: { input_tokens: 5 } };
    const done = await store.updateHeal("h_1", { record });
    assertEquals([done?.status, done?.finished_at, done?.record], ["running", null, record]);
    const finished = await store.updateHeal("h_1", {
      status: "promoted",
      finished_at: at(5).toISOString(),
    });
    assertEquals(finished?.status, "promoted");
    assertEquals(finished?.finished_at, at(5).toISOString());
    assertEquals(finished?.record, record);
    assertEquals(await store.getHeal("h_1"), finished);
    assertEquals(await store.updateHeal("nope", { status: "failed" }), null);
    assertEquals(await store.getHeal("nope"), null);

    assertEquals((await store.listHeals("orders")).map((h) => h.id), ["h_2", "h_1"]);
    assertEquals((await store.listHeals("orders", { limit: 1 })).map((h) => h.id), ["h_2"]);
    assertEquals(
      (await store.listHeals("orders", { since: at(1) })).map((h) => h.id),
      ["h_2"],
    );
    assertEquals((await store.listHeals("other")).map((h) => h.record), [{}]);
    await assert.rejects(
      store.createHeal({ id: "h_4", pipeline: "nope", run_id: null }, t0),
      (err: Error & { code?: string }) => err.code === "not_found",
    );

    // Heals go with their pipeline.
    await store.deletePipeline("orders");
    assertEquals(await store.listHeals("orders"), []);
  });

  test("heals: one running per pipeline; a lost one is closed as interrupted", async (store) => {
    await store.deploy(deployInput());
    await store.deploy(deployInput({ name: "other" }));
    const t0 = new Date("2026-01-01T00:00:00.000Z");
    const at = (s: number) => new Date(t0.getTime() + s * 1000);
    const held = (id: string, pipeline: string, until: number) =>
      store.createHeal({ id, pipeline, run_id: null, expires_at: at(until).toISOString() }, t0);
    await held("h_1", "orders", 60);
    await held("h_2", "other", 30);
    // Held: a second heal of the pipeline is refused, whatever daemon asks.
    await assert.rejects(
      store.createHeal({ id: "h_3", pipeline: "orders", run_id: null }, at(59)),
      (err: Error & { code?: string }) => err.code === "conflict" && /orders/.test(err.message),
    );
    assertEquals(await store.getHeal("h_3"), null);
    // A finished heal does not count.
    await store.createHeal({ id: "h_4", pipeline: "orders", run_id: null, status: "failed" }, t0);
    // Renewed, then past its lease: the next heal of the pipeline takes over.
    await store.updateHeal("h_1", { expires_at: at(90).toISOString() });
    await assert.rejects(
      store.createHeal({ id: "h_5", pipeline: "orders", run_id: null }, at(89)),
      (err: Error & { code?: string }) => err.code === "conflict",
    );
    await store.createHeal({ id: "h_5", pipeline: "orders", run_id: null }, at(91));
    const lost = await store.getHeal("h_1");
    assertEquals([lost?.status, lost?.finished_at], ["interrupted", at(91).toISOString()]);
    assertEquals((lost?.record.error as { code?: string })?.code, "interrupted");
    assertEquals((await store.getHeal("h_5"))?.status, "running");

    // At start: the expired ones (a heal without a lease is held until it ends), or all.
    assertEquals(await store.interruptHeals(at(29), { all: false }), 0);
    assertEquals(await store.interruptHeals(at(31), { all: false }), 1);
    assertEquals((await store.getHeal("h_2"))?.status, "interrupted");
    assertEquals((await store.getHeal("h_5"))?.status, "running");
    assertEquals(await store.interruptHeals(at(31), { all: true }), 1);
    assertEquals((await store.getHeal("h_5"))?.status, "interrupted");
    assertEquals(await store.interruptHeals(at(31), { all: true }), 0);
    assertEquals((await store.getHeal("h_4"))?.status, "failed");
  });
}
