/**
 * The pipeline page, the version diff and rollback, and the workers, connections and errors
 * pages, through `app.request` on a real SQLite store.
 */
import { assert, assertEquals, assertMatch } from "../../tests/helpers/assert.ts";
import { csrfOf, type DashboardHarness, withDashboard } from "../../tests/helpers/dashboard_app.ts";
import { deployInput, newRun } from "../../tests/store/store_contract.ts";
import { newRunId, sha256Hex } from "../core/ids.ts";
import { validatePipelineConfig } from "../metadata/schema.ts";
import type { Json, RunStatus } from "../store/mod.ts";
import { parseConnections } from "../connections/registry.ts";
import { RUNS_PER_PAGE } from "./pipeline_page.tsx";

/** Deploys a version of a real pipeline file, returning `value`. */
async function deploy(h: DashboardHarness, config: Record<string, unknown>, value: number) {
  const code = `import { pipeline } from "tau";\n` +
    `export default pipeline(${JSON.stringify(config)}, async () => ${value});\n`;
  const checked = validatePipelineConfig(config);
  assert(checked.ok, JSON.stringify(checked));
  const name = config.name as string;
  const out = await h.store.deploy(deployInput({
    name,
    code,
    hash: sha256Hex(code),
    filename: `${name}.ts`,
    metadata: checked.metadata as unknown as Record<string, Json>,
  }));
  assertEquals(out.unchanged, false, "a new version");
}

/** Runs created 1 ms apart, so their order is their creation order. */
async function seedRuns(h: DashboardHarness, pipeline: string, statuses: RunStatus[]) {
  const ids: string[] = [];
  for (const status of statuses) {
    await new Promise((resolve) => setTimeout(resolve, 1));
    const run = await h.store.createRun(newRun(newRunId(), { pipeline }));
    await h.store.updateRun(run.run_id, {
      status,
      ...(status === "failed" ? { error: { kind: "exception", message: "boom <b>" } } : {}),
    });
    ids.push(run.run_id);
  }
  return ids;
}

const rowIds = (html: string) => [...html.matchAll(/data-run-id="([^"]+)"/g)].map((m) => m[1]);

Deno.test("pipeline page: metadata, neighbours, permission set and runs by page and status", async () => {
  await withDashboard(async (h) => {
    await deploy(h, { name: "raw" }, 1);
    await deploy(h, {
      name: "orders",
      description: "Loads <orders>",
      tags: ["finance", `"><img src=x onerror=alert(1)>`],
      net: ["api.example.com"],
      secrets: ["ORDERS_TOKEN"],
    }, 2);
    await h.store.setSchedule(
      "orders",
      { cron: "0 * * * *", every_s: null, timezone: null },
      new Date(),
    );
    await h.store.setDependencies("orders", ["raw"]);
    const statuses: RunStatus[] = [];
    for (let i = 0; i < RUNS_PER_PAGE + 10; i++) statuses.push(i % 6 === 0 ? "failed" : "success");
    const ids = (await seedRuns(h, "orders", statuses)).toReversed(); // newest first
    const cookie = await h.session("read");

    const res = await h.get("/pipelines/orders", cookie);
    assertEquals(res.status, 200);
    const html = await res.text();
    assertMatch(html, /<h1>orders <span class="version">v1<\/span>/);
    assertMatch(html, /Loads &lt;orders&gt;/);
    assert(!html.includes("<img src=x"), "a tag is escaped");
    assertMatch(html, /0 \* \* \* \* \(UTC\)/);
    assertMatch(html, /<a class="chip" href="\/pipelines\/raw">raw<\/a>/, "its upstream, linked");
    assertMatch(html, /api\.example\.com/);
    assertMatch(html, /ORDERS_TOKEN/, "the secret's name");
    assertEquals(rowIds(html), ids.slice(0, RUNS_PER_PAGE), "the newest page");
    const next = /class="next-page" href="([^"]+)"/.exec(html)?.[1]?.replaceAll("&amp;", "&");
    assertEquals(next, `/pipelines/orders?before=${ids[RUNS_PER_PAGE - 1]}`);

    const older = await (await h.get(next!, cookie)).text();
    assertEquals(rowIds(older), ids.slice(RUNS_PER_PAGE), "the rest");
    assert(!older.includes("next-page"), "the last page");

    const failed = await (await h.get("/pipelines/orders?status=failed", cookie)).text();
    const failedIds = ids.filter((_, i) => statuses.toReversed()[i] === "failed");
    assertEquals(rowIds(failed), failedIds);
    assertMatch(failed, /exception: boom &lt;b&gt;/);
    assertMatch(failed, /<option value="failed" selected>/);

    assertEquals((await h.get("/pipelines/orders?status=nope", cookie)).status, 400);
    assertEquals((await h.get("/pipelines/absent", cookie)).status, 404);
    const raw = await (await h.get("/pipelines/raw", cookie)).text();
    assertMatch(raw, /href="\/pipelines\/orders">orders<\/a>/, "its downstream, linked");
  });
});

Deno.test("pipeline page: versions, a diff between two, and rollback for operate keys only", async () => {
  await withDashboard(async (h) => {
    await deploy(h, { name: "orders" }, 1);
    await deploy(h, { name: "orders", net: ["api.example.com"] }, 2);
    const reader = await h.session("read");
    const page = await (await h.get("/pipelines/orders", reader)).text();
    assertEquals([...page.matchAll(/data-version="(\d+)"/g)].map((m) => m[1]), ["2", "1"]);
    assert(!page.includes('class="rollback"'), "a read key sees no rollback");

    const diff = await (await h.get("/pipelines/orders/diff?from=1&to=2", reader)).text();
    const q = (text: string) => text.replaceAll('"', "&quot;").replaceAll(">", "&gt;");
    const v1 = q(`export default pipeline({"name":"orders"}, async () => 1);`);
    const v2 = q(
      `export default pipeline({"name":"orders","net":["api.example.com"]}, async () => 2);`,
    );
    assert(diff.includes(`<span class="diff-del">-${v1}\n</span>`), "the removed line");
    assert(diff.includes(`<span class="diff-add">+${v2}\n</span>`), "the added line");
    assertMatch(diff, /<dd class="added">host api\.example\.com:443<\/dd>/);
    assertEquals((await h.get("/pipelines/orders/diff?from=9", reader)).status, 400);

    const refused = await h.post("/pipelines/orders/rollback", {
      to: "1",
      csrf: csrfOf(page),
    }, reader);
    assertEquals(refused.status, 403);
    assertMatch(await refused.text(), /operate scope/);
    assertEquals((await h.store.getPipeline("orders"))?.current_version, 2, "unchanged");

    const operator = await h.session("operate");
    const form = await (await h.get("/pipelines/orders", operator)).text();
    assertMatch(
      form,
      /<form class="rollback" method="post" action="\/pipelines\/orders\/rollback">/,
    );
    const forged = await h.post("/pipelines/orders/rollback", { to: "1", csrf: "x" }, operator);
    assertEquals(forged.status, 403);
    // (A rollback that goes through re-checks the version in the sandbox: tests/e2e/dashboard_test.ts.)
    const again = await h.post(
      "/pipelines/orders/rollback",
      { to: "2", csrf: csrfOf(form) },
      operator,
    );
    assertMatch(await again.text(), /already|current/);
    assertEquals(again.status, 409, "rolling back to the current version is refused");
  });
});

Deno.test("errors, workers and connections pages: listed, linked, and never a credential", async () => {
  const connections = parseConnections({
    warehouse: {
      type: "postgres",
      dsn: "postgres://loader:hunter2-secret@db.internal:5432/dw",
    },
  });
  await withDashboard(async (h) => {
    await deploy(h, { name: "orders" }, 1);
    const [failed] = await seedRuns(h, "orders", ["failed", "success"]);
    await h.store.registerWorker({
      id: "w-<1>",
      host: "box",
      pid: 1,
      roles: ["worker"],
      tags: ["gpu"],
      capacity: 4,
    }, new Date());
    const cookie = await h.session("read");

    const errors = await (await h.get("/errors", cookie)).text();
    assertEquals(rowIds(errors), [failed]);
    assertMatch(errors, new RegExp(`href="/runs/${failed}"`));
    assertMatch(errors, /yes, a later run succeeded/);
    assertEquals(rowIds(await (await h.get("/errors?unresolved=true", cookie)).text()), []);

    const workers = await (await h.get("/workers", cookie)).text();
    assertMatch(workers, /data-worker="w-&lt;1&gt;"/);
    assertMatch(workers, /0 \/ 4/);

    const listed = await (await h.get("/connections", cookie)).text();
    assertMatch(listed, /data-connection="warehouse"/);
    assertMatch(listed, /db\.internal:5432/);
    assert(!listed.includes("hunter2"), "no password");
    assert(!listed.includes("loader:"), "no user in a URL");

    for (const path of ["/errors", "/workers", "/connections", "/pipelines/orders"]) {
      const res = await h.get(path);
      assertEquals([res.status, res.headers.get("location")], [303, "/"], path);
    }
  }, { connections });
});
