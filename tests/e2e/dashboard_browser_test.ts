/**
 * The dashboard in a real browser: Debian's Chromium, driven by playwright-core, against a real
 * daemon. Logging in through the form, the session cookie, the overview, a failed run's page, a
 * running run's page following its logs, a pipeline's page and its rollback by scope, the DAG,
 * pipeline data that carries markup and must run none of it, the Content-Security-Policy and
 * htmx served by the daemon. Screenshots go to .tau-test/screenshots/. One daemon and one
 * browser for the file; the pages' HTML without a browser is tested in src/dashboard/.
 */
import type { Page } from "playwright-core";
import { assert, assertEquals, assertMatch } from "../helpers/assert.ts";
import {
  assertNothingRan,
  ignoreBrowserTests,
  launchBrowser,
  logIn,
  screenshot,
  watchPage,
} from "../helpers/browser.ts";
import { startDaemon } from "../helpers/daemon.ts";

const PIPELINES = ["dash_fail", "dash_live", "dash_hostile", "dash_up", "dash_down"];
/** How long a page may take to show what it must (the suite runs files in parallel). */
const WAIT_MS = 10_000;

/** The window's own properties, typed for page.evaluate (the test's types have no DOM). */
type PageGlobals = Record<string, unknown> & { document: { cookie: string } };

/** The trimmed text of the one element `selector` matches. */
async function text(page: Page, selector: string): Promise<string> {
  return ((await page.locator(selector).textContent({ timeout: WAIT_MS })) ?? "").trim();
}

/** An attribute of every element `selector` matches, in document order. */
async function attributes(page: Page, selector: string, name: string): Promise<string[]> {
  const all = await page.locator(selector).all();
  return await Promise.all(all.map(async (e) => (await e.getAttribute(name)) ?? ""));
}

Deno.test({
  name: "the dashboard in Chromium: pages, live logs, scopes, escaping, CSP",
  ignore: ignoreBrowserTests(),
}, async (t) => {
  const browser = await launchBrowser();
  const d = await startDaemon().catch(async (err) => {
    await browser.close();
    throw err;
  });
  try {
    const key = (await Deno.readTextFile(`${d.home}/api_key`)).trim();
    const origin = `http://127.0.0.1:${(await d.tau("status")).json.dashboard.port}`;
    await d.deployAll(PIPELINES.map((name) => `dashboard/${name}.ts`));
    assertEquals((await d.tau("depends", "dash_down", "--on", "dash_up")).json.upstream, [
      "dash_up",
    ]);
    const [failed, hostileOk, hostileFailed, dag, viewerKey] = await Promise.all([
      d.tau("run", "dash_fail"),
      d.tau("run", "dash_hostile"),
      d.tau("run", "dash_hostile", "--params", '{"fail":true}'),
      d.tau("run", "dash_up", "--downstream"),
      d.tau("keys", "create", "--scope", "read", "--name", "viewer"),
    ]);
    assertEquals(
      [failed, hostileOk, hostileFailed, dag].map((r) => r.json.status),
      ["failed", "success", "failed", "success"],
      [failed, hostileOk, hostileFailed, dag].map((r) => r.stdout.slice(0, 300)).join("\n"),
    );
    assertEquals(dag.json.runs.map((r: { status: string }) => r.status), ["success", "success"]);
    // dash_fail's fix as version 2: version 1 is what a rollback would bring back.
    await d.deploy("dashboard/dash_fail_fixed.ts", "--name", "dash_fail", "--force");

    const admin = await browser.newContext();
    admin.setDefaultTimeout(WAIT_MS);
    const page = await admin.newPage();
    const events = watchPage(page, origin);
    /** Every page loaded, with its Content-Security-Policy header. */
    const policies = new Map<string, string | undefined>();
    const visit = async (path: string) => {
      events.take(); // a step that failed before checking its page leaves its events behind
      const response = await page.goto(`${origin}${path}`);
      assert(response, `no response for ${path}`);
      if (response.status() !== 200) {
        throw new Error(`${path} answered ${response.status()}: ${await response.text()}`);
      }
      policies.set(path, response.headers()["content-security-policy"]);
    };

    await t.step("login form: an HttpOnly SameSite=Strict cookie, not the key", async () => {
      await logIn(page, origin, key);
      assertEquals(await text(page, "main h1"), "Pipelines");
      const cookies = await admin.cookies(origin);
      assertEquals(cookies.map((c) => c.name), ["tau_session"]);
      const cookie = cookies[0]!;
      assertEquals(
        { httpOnly: cookie.httpOnly, sameSite: cookie.sameSite, path: cookie.path },
        { httpOnly: true, sameSite: "Strict", path: "/" },
      );
      assert(cookie.value.length >= 32, `a random session id: ${cookie.value}`);
      assert(
        !cookie.value.includes(key) && !key.includes(cookie.value),
        "the cookie is not the key",
      );
      assertEquals(
        await page.evaluate(() => (globalThis as unknown as PageGlobals).document.cookie),
        "",
      );
      assert(!(await page.content()).includes(key), "the key is not in the page");
      assertNothingRan(events.take(), "login");
    });

    await t.step("a running run's page gains log lines without a reload", async () => {
      const live = await d.tau("run", "dash_live", "--no-wait");
      assertEquals(live.code, 0, live.stdout);
      await visit(`/runs/${live.json.run_id}`);
      assertMatch(await text(page, "[data-run-status]"), /running|queued/);
      const lines = page.locator("section#logs ol#log-lines > li.log-line");
      await lines.first().waitFor();
      const before = await lines.count();
      await page.evaluate(() => (globalThis as unknown as PageGlobals).__same = 1);
      // Two more lines than the page came with: at least one poll appended to this document.
      await lines.nth(before + 1).waitFor();
      assertEquals(await page.evaluate(() => (globalThis as unknown as PageGlobals).__same), 1);
      const ticks = (await lines.allTextContents()).flatMap((line) => {
        const tick = /tick (\d+) of 20/.exec(line);
        return tick ? [Number(tick[1])] : [];
      });
      assertEquals(ticks, ticks.map((_, i) => i + 1), "each line once, in order");
      const seqs = (await attributes(page, "li.log-line", "data-seq")).map(Number);
      assertEquals(seqs, seqs.toSorted((a, b) => a - b), "data-seq ascending");
      assertEquals(new Set(seqs).size, seqs.length, "no line twice");
      assertNothingRan(events.take(), "live run page");
    });

    await t.step("the overview lists each pipeline with its runs and link", async () => {
      await visit("/");
      for (const name of PIPELINES) {
        const row = page.locator(`tr[data-pipeline="${name}"]`);
        assertEquals(await row.count(), 1, name);
        assertEquals(await row.locator(`a[href="/pipelines/${name}"]`).count(), 1, name);
      }
      assertEquals(await attributes(page, 'tr[data-pipeline="dash_fail"] .mark', "class"), [
        "mark mark-failed",
      ]);
      assertEquals(await attributes(page, 'tr[data-pipeline="dash_up"] .mark', "class"), [
        "mark mark-success",
      ]);
      await screenshot(page, "overview");
      assertNothingRan(events.take(), "overview");
    });

    await t.step("a failed run's page: logs first, steps, the error at file:line", async () => {
      await visit(`/runs/${failed.json.run_id}`);
      assertMatch(await text(page, "[data-run-status]"), /failed/);
      const sections = await attributes(page, "main section", "id");
      const order = sections.filter((id) => ["logs", "steps", "error", "permissions"].includes(id));
      assertEquals(order[0], "logs", `sections: ${sections}`);
      assertEquals(order.toSorted(), ["error", "logs", "permissions", "steps"]);
      assertEquals(await attributes(page, "ol#log-lines > li.log-line", "data-seq"), [
        "0",
        "1",
      ]);
      const logs = await text(page, "ol#log-lines");
      assertMatch(logs, /extracted 0 rows/);
      assertMatch(logs, /transforming the extracted rows/);
      assertEquals(await attributes(page, "section#steps svg.timeline g.step", "data-step"), [
        "extract",
        "transform",
      ]);
      assertEquals(await text(page, "section#error .error-kind"), "exception");
      assertMatch(
        await text(page, "section#error .error-message"),
        /transform found no rows to transform/,
      );
      // The line of version 1, which ran: the current version 2 has no such line.
      assertMatch(await text(page, "section#error .error-location"), /^dash_fail\.ts:13\b/);
      assertMatch(
        await text(page, "section#error pre.excerpt"),
        /throw new Error\("transform found no rows to transform"\)/,
      );
      assert(await page.locator("section#permissions").isVisible(), "the permissions section");
      await screenshot(page, "run_failed");
      assertNothingRan(events.take(), "failed run page");
    });

    await t.step("a pipeline's page: runs, versions, rollback for an admin", async () => {
      await visit("/pipelines/dash_fail");
      assertEquals(await attributes(page, "table.runs tr[data-run-id]", "data-run-id"), [
        failed.json.run_id,
      ]);
      assertEquals(
        (await attributes(page, "table.versions tr[data-version]", "data-version")).toSorted(),
        ["1", "2"],
      );
      const rollback = page.locator('form.rollback:has(input[name="to"][value="1"])');
      assertEquals(await rollback.getAttribute("action"), "/pipelines/dash_fail/rollback");
      assertEquals(await rollback.locator('input[name="csrf"]').count(), 1);
      assert(await rollback.locator("button.rollback").isVisible(), "the rollback button");
      await screenshot(page, "pipeline");
      assertNothingRan(events.take(), "pipeline page");
    });

    await t.step("the DAG page draws the pipelines and their edge in SVG", async () => {
      await visit("/dag");
      await page.locator("svg.dag").waitFor();
      for (const name of ["dash_up", "dash_down"]) {
        const node = page.locator(
          `svg.dag a[href="/pipelines/${name}"] g.node[data-pipeline="${name}"]`,
        );
        assertEquals(await node.getAttribute("data-status"), "success", name);
      }
      assertEquals(await page.locator("svg.dag path.edge").count(), 1, "dash_up → dash_down");
      await screenshot(page, "dag");
      assertNothingRan(events.take(), "DAG page");
    });

    await t.step("markup in pipeline data is shown as text and runs nothing", async () => {
      const shown: [string, string, string[]][] = [
        ["/", 'tr[data-pipeline="dash_hostile"]', [
          "<script>alert('xss-description')</script><img src=x onerror=alert('xss-description-img')>",
          "<svg onload=alert('xss-tag')>",
          `"><img src=x onerror=alert('xss-tag-attr')>`,
        ]],
        ["/pipelines/dash_hostile", "main", [
          "<script>alert('xss-description')</script><img src=x onerror=alert('xss-description-img')>",
        ]],
        [`/runs/${hostileOk.json.run_id}`, "main", [
          "<script>alert('xss-log')</script>",
          "<img src=x onerror=alert('xss-log-img')>",
          "<svg onload=alert('xss-stdout')>",
          "<script>alert('xss-result')</script><img src=x onerror=alert('xss-result-img')>",
        ]],
        [`/runs/${hostileFailed.json.run_id}`, "main", [
          "<svg onload=alert('xss-error')><script>alert('xss-error-script')</script>",
        ]],
      ];
      for (const [path, where, payloads] of shown) {
        await visit(path);
        // Time for a broken image's onerror or an svg's onload, had one reached the DOM.
        await page.waitForLoadState("networkidle");
        assertNothingRan(events.take(), path);
        const injected = await page.locator("[onerror], [onload], img[src='x'], body script")
          .count();
        assertEquals(injected, 0, `${path}: an element from a payload`);
        const visible = await page.locator(where).innerText();
        for (const payload of payloads) {
          assert(visible.includes(payload), `${path}: ${payload} not shown as text in ${where}`);
        }
      }
      const stepName = "<img src=x onerror=alert('xss-step')>";
      assertEquals(await attributes(page, "svg.timeline g.step", "data-step"), [stepName]);
      assertMatch(await text(page, "section#steps"), /<img src=x onerror=alert\('xss-step'\)>/);
    });

    await t.step("a read key sees no rollback button; its rollback POST is refused", async () => {
      const viewer = await browser.newContext();
      viewer.setDefaultTimeout(WAIT_MS);
      try {
        const read = await viewer.newPage();
        const readEvents = watchPage(read, origin);
        await logIn(read, origin, viewerKey.json.key);
        assertEquals(await text(read, "header .scope"), "read key");
        assertEquals((await read.goto(`${origin}/pipelines/dash_fail`))?.status(), 200);
        assertEquals(await read.locator("table.versions tr[data-version]").count(), 2);
        assertEquals(await read.locator("form.rollback, button.rollback").count(), 0);
        // The session's own token (from the logout form), so only the scope can refuse it.
        const csrf = await read.locator('input[name="csrf"]').first().inputValue();
        const answer = await read.evaluate(async (csrf) => {
          const res = await fetch("/pipelines/dash_fail/rollback", {
            method: "POST",
            body: new URLSearchParams({ to: "1", csrf }),
          });
          return { status: res.status, text: await res.text() };
        }, csrf);
        assertEquals(answer.status, 403, answer.text);
        assertMatch(answer.text, /scope/);
        const versions = (await d.tau("versions", "dash_fail")).json;
        assertEquals(
          [versions.current_version, versions.versions.length],
          [2, 2],
          "nothing rolled back",
        );
        const seen = readEvents.take();
        assertEquals([seen.dialogs, seen.pageErrors, seen.cspViolations], [[], [], []]);
      } finally {
        await viewer.close();
      }
    });

    await t.step("CSP on every page; htmx from the daemon; the errors page", async () => {
      await visit("/errors");
      const errors = page.locator("table.errors");
      for (const run of [failed, hostileFailed]) {
        assertEquals(await errors.locator(`a[href="/runs/${run.json.run_id}"]`).count(), 1);
      }
      await screenshot(page, "errors");
      assert(policies.size >= 8, `pages seen: ${[...policies.keys()]}`);
      for (const [path, policy] of policies) {
        assertMatch(policy ?? "(none)", /script-src 'self'/, path);
      }
      const htmx = await page.request.get(`${origin}/static/htmx.min.js`);
      assertEquals(htmx.status(), 200);
      assertMatch(htmx.headers()["content-type"] ?? "", /^(text|application)\/javascript\b/);
      assertMatch(htmx.headers()["content-security-policy"] ?? "", /script-src 'self'/);
      assertMatch(await htmx.text(), /htmx/);
      const src = await attributes(page, "script[src]", "src");
      assertEquals(src, ["/static/htmx.min.js"]);
      assertEquals(
        await page.evaluate(() => typeof (globalThis as unknown as PageGlobals).htmx),
        "object",
        "htmx loaded and ran under the CSP",
      );
      assertNothingRan(events.take(), "errors page");
    });
  } finally {
    await browser.close();
    await d.stop();
  }
});
