/**
 * The dashboard's doors and its overview, through `dashboardApp(...).request` with no socket:
 * login, the session cookie, keys in URLs, cross-site forms, logout, revoked keys, expiry, the
 * security headers, and what the overview shows (escaped). A real SQLite store on a temp file.
 */
import { assert, assertEquals, assertMatch } from "../../tests/helpers/assert.ts";
import { deployInput, newRun } from "../../tests/store/store_contract.ts";
import { newRunId } from "../core/ids.ts";
import type { RunStatus } from "../store/mod.ts";
import { generateApiKey } from "../api/keys.ts";
import { ADMIN, cookieOf, ORIGIN, withDashboard } from "../../tests/helpers/dashboard_app.ts";
import { CONTENT_SECURITY_POLICY, SESSION_COOKIE } from "./app.tsx";
import { SESSION_TTL_MS } from "./sessions.ts";

Deno.test("dashboard: a login sets an HttpOnly, SameSite=Strict session cookie, never the key", async () => {
  await withDashboard(async (h) => {
    const page = await h.get("/");
    assertEquals(page.status, 200);
    const html = await page.text();
    assert(html.startsWith("<!doctype html><html"), "a page in standards mode");
    assertMatch(html, /<form method="post" action="\/login"/);
    assertMatch(html, /type="password"/);

    const res = await h.login(ADMIN);
    assertEquals(res.status, 303);
    assertEquals(res.headers.get("location"), "/");
    const header = res.headers.get("set-cookie")!;
    assertMatch(header, new RegExp(`^${SESSION_COOKIE}=[A-Za-z0-9_-]{43}; `));
    for (
      const attribute of [
        "HttpOnly",
        "SameSite=Strict",
        "Path=/",
        `Max-Age=${SESSION_TTL_MS / 1000}`,
      ]
    ) {
      assert(header.includes(attribute), `${attribute} in ${header}`);
    }
    assert(!header.includes(ADMIN), "the key is not in the cookie");
    const overview = await h.get("/", cookieOf(res));
    assertMatch(await overview.text(), /<h1>Pipelines<\/h1>/);
  });
});

Deno.test("dashboard: a wrong key, a key in the URL and a cross-site login all fail", async () => {
  await withDashboard(async (h) => {
    const wrong = await h.login("tau_sk_" + "00".repeat(24));
    assertEquals(wrong.status, 401);
    assertEquals(wrong.headers.get("set-cookie"), null);
    assertMatch(await wrong.text(), /not valid, or was revoked/);

    for (const param of ["key", "api_key", "TOKEN"]) {
      const inUrl = await h.get(`/?${param}=${ADMIN}`);
      assertEquals(inUrl.status, 400, param);
      assertEquals(inUrl.headers.get("set-cookie"), null);
      const text = await inUrl.text();
      assertMatch(text, /not accepted in the URL/);
      assert(!text.includes(ADMIN), "the key is not echoed");
    }

    const crossOrigin = await h.login(ADMIN, { origin: "http://evil.example" });
    assertEquals(crossOrigin.status, 403);
    assertEquals(crossOrigin.headers.get("set-cookie"), null);
    const crossSite = await h.login(ADMIN, { "sec-fetch-site": "cross-site" });
    assertEquals(crossSite.status, 403);
  });
});

Deno.test("dashboard: logout needs the session's token, and ends the session", async () => {
  await withDashboard(async (h) => {
    const cookie = cookieOf(await h.login(ADMIN));
    const html = await (await h.get("/", cookie)).text();
    const csrf = /name="csrf" value="([^"]+)"/.exec(html)?.[1];
    assert(csrf, "the logout form carries a token");
    const logout = (token: string) =>
      h.app.request(`${ORIGIN}/logout`, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded", origin: ORIGIN, cookie },
        body: `csrf=${encodeURIComponent(token)}`,
      });
    assertEquals((await logout("forged")).status, 403);
    assertMatch(await (await h.get("/", cookie)).text(), /<h1>Pipelines/, "still logged in");
    const out = await logout(csrf);
    assertEquals(out.status, 303);
    assertMatch(out.headers.get("set-cookie")!, new RegExp(`^${SESSION_COOKIE}=;`));
    assertMatch(await (await h.get("/", cookie)).text(), /action="\/login"/, "logged out");
  });
});

Deno.test("dashboard: a session ends when its key is revoked, and when it expires", async () => {
  await withDashboard(async (h) => {
    const { id, key, hash } = generateApiKey();
    const now = new Date().toISOString();
    await h.store.createApiKey({ id, name: "viewer", scope: "read", hash, created_at: now });
    const cookie = cookieOf(await h.login(key));
    const page = await (await h.get("/", cookie)).text();
    assertMatch(page, /read key/);
    await h.store.revokeApiKey(id, new Date());
    assertMatch(await (await h.get("/", cookie)).text(), /action="\/login"/);
    assertEquals((await h.login(key)).status, 401, "a revoked key cannot log in again");

    const admin = cookieOf(await h.login(ADMIN));
    h.clock.now += SESSION_TTL_MS - 1000;
    assertMatch(await (await h.get("/", admin)).text(), /<h1>Pipelines/);
    h.clock.now += 2000;
    assertMatch(await (await h.get("/", admin)).text(), /action="\/login"/, "expired");
  });
});

Deno.test("dashboard: every response carries the security headers", async () => {
  await withDashboard(async (h) => {
    for (const path of ["/", "/static/dashboard.css", "/nowhere", "/?key=x"]) {
      const res = await h.get(path);
      assertEquals(res.headers.get("content-security-policy"), CONTENT_SECURITY_POLICY, path);
      assertEquals(res.headers.get("x-content-type-options"), "nosniff", path);
      assertEquals(res.headers.get("x-frame-options"), "DENY", path);
      await res.body?.cancel();
    }
    assertMatch(CONTENT_SECURITY_POLICY, /script-src 'self'/);
    assert(!CONTENT_SECURITY_POLICY.includes("unsafe-inline"), "no inline script or style");
    const css = await h.get("/static/dashboard.css");
    assertEquals(css.headers.get("content-type"), "text/css; charset=utf-8");
    await css.body?.cancel();
  });
});

Deno.test("dashboard overview: failures first, recent runs as a strip, every value escaped", async () => {
  await withDashboard(async (h) => {
    const payload = `<script>alert(1)</script><img src=x onerror=alert(2)>`;
    await h.store.deploy(deployInput({ name: "alpha", metadata: { description: "fine" } }));
    await h.store.deploy(deployInput({
      name: "zeta",
      metadata: { description: payload, tags: [`"><svg onload=alert(3)>`] },
    }));
    const run = async (pipeline: string, status: RunStatus) => {
      // Runs are ordered by their creation time: two in one millisecond have no order.
      await new Promise((resolve) => setTimeout(resolve, 3));
      const created = await h.store.createRun(newRun(newRunId(), { pipeline }));
      await h.store.updateRun(created.run_id, { status });
    };
    await run("alpha", "failed");
    await run("alpha", "success");
    await run("zeta", "success");
    await run("zeta", "failed");

    const cookie = cookieOf(await h.login(ADMIN));
    const html = await (await h.get("/", cookie)).text();
    const order = [...html.matchAll(/data-pipeline="([^"]+)"/g)].map((m) => m[1]);
    assertEquals(order, ["zeta", "alpha"], "the failing pipeline comes first");
    assertEquals([...html.matchAll(/class="mark mark-(\w+)"/g)].map((m) => m[1]), [
      "success",
      "failed", // zeta, oldest first
      "failed",
      "success", // alpha
    ]);
    assert(!html.includes("<script>alert"), "no script from a description");
    assert(!html.includes("<img src=x"), "no element from a description");
    assert(!html.includes("<svg"), "no element from a tag");
    assert(html.includes("&lt;script&gt;alert(1)&lt;/script&gt;"), "the description, escaped");
  });
});
