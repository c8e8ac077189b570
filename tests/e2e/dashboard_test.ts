/**
 * The dashboard served by a real daemon beside its API: `tau dashboard`, logging in with the
 * daemon's key over HTTP, and the overview of a pipeline that ran. (Denying its port to runs is
 * in hostile_test.ts; the pages' doors in src/dashboard/app_test.ts.)
 */
import { assert, assertEquals, assertMatch } from "../helpers/assert.ts";
import { EXAMPLES, startDaemon } from "../helpers/daemon.ts";

Deno.test("the daemon serves the dashboard on a port of its own; tau dashboard prints it", async (t) => {
  const d = await startDaemon();
  try {
    const port = (await d.tau("status")).json.dashboard?.port;
    assert.ok(typeof port === "number" && port > 0 && port !== d.port, `port ${port}`);
    const url = `http://127.0.0.1:${port}/`;

    await t.step("tau dashboard prints the URL, opening nothing outside a terminal", async () => {
      const res = await d.tau("dashboard");
      assertEquals(res.code, 0, res.stdout);
      assertEquals(res.json, { url, opened: false });
      const extra = await d.tau("dashboard", "now");
      assertEquals([extra.code, extra.json.error.code], [1, "invalid_params"]);
    });

    await t.step("logging in with the daemon's key shows the pipeline and its run", async () => {
      assertEquals((await d.tau("deploy", `${EXAMPLES}hello_pipeline.ts`)).code, 0);
      const ran = await d.tau("run", "hello_world");
      assertEquals(ran.json.status, "success", ran.stdout);
      const key = (await Deno.readTextFile(`${d.home}/api_key`)).trim();
      const login = await fetch(`${url}login`, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded", origin: url.slice(0, -1) },
        body: new URLSearchParams({ key }),
        redirect: "manual",
      });
      assertEquals(login.status, 303);
      const cookie = login.headers.get("set-cookie")!.split(";")[0]!;
      const page = await fetch(url, { headers: { cookie } });
      assertMatch(page.headers.get("content-security-policy")!, /script-src 'self'/);
      const html = await page.text();
      assertMatch(html, /data-pipeline="hello_world"/);
      assertMatch(html, /class="mark mark-success"/);

      // A rollback from the pipeline page: checked and installed like `tau rollback`.
      const copy = `${d.home}/hello_v2.ts`;
      const source = await Deno.readTextFile(`${EXAMPLES}hello_pipeline.ts`);
      await Deno.writeTextFile(copy, `${source}\n// version 2\n`);
      assertEquals((await d.tau("deploy", copy, "--force")).json.version, 2);
      const pipelinePage =
        await (await fetch(`${url}pipelines/hello_world`, { headers: { cookie } }))
          .text();
      const csrf = /name="csrf" value="([^"]+)"/.exec(pipelinePage)?.[1] ?? "";
      const rollback = await fetch(`${url}pipelines/hello_world/rollback`, {
        method: "POST",
        headers: {
          "content-type": "application/x-www-form-urlencoded",
          origin: url.slice(0, -1),
          cookie,
        },
        body: new URLSearchParams({ to: "1", csrf }),
        redirect: "manual",
      });
      assertEquals(rollback.status, 303, await rollback.text());
      const versions = (await d.tau("versions", "hello_world")).json;
      assertEquals(versions.current_version, 3);
      assertEquals(versions.versions[0].source, "rollback");
    });
  } finally {
    await d.stop();
  }
});

Deno.test("a daemon with [dashboard] enabled = false serves none, and tau dashboard says so", async () => {
  const d = await startDaemon({}, { config: "[dashboard]\nenabled = false\n" });
  try {
    assertEquals((await d.tau("status")).json.dashboard, null);
    const res = await d.tau("dashboard");
    assertEquals([res.code, res.json.error.code], [1, "not_found"]);
    assertMatch(res.json.error.hint, /\[dashboard\] enabled = true/);
  } finally {
    await d.stop();
  }
});
