/**
 * The run page through `dashboardApp(...).request` on a real SQLite store: its sections and
 * their order, the live follow's fragment, log search, the error with its code excerpt, the
 * access record, the timeline's geometry, escaping of what runs write, and its doors (404,
 * 400, no session).
 */
import { assert, assertEquals, assertMatch } from "../../tests/helpers/assert.ts";
import { withDashboard } from "../../tests/helpers/dashboard_app.ts";
import { deployInput, newRun } from "../../tests/store/store_contract.ts";
import { newRunId } from "../core/ids.ts";
import type { Json, LogRecord, RunPatch, RunRecord, StepRecord, Store } from "../store/mod.ts";
import { jsonText, MAX_JSON_CHARS, timeline, wholeError } from "./run_data.ts";

const T0 = Date.parse("2025-03-01T10:00:00.000Z");
const at = (ms: number) => new Date(T0 + ms).toISOString();

const CODE = [
  "import { pipeline } from 'tau';",
  "export default pipeline({ name: 'orders' }, async (ctx) => {",
  "  const rows = await ctx.step('extract', () => fetchRows());",
  "  throw new Error('boom');",
  "});",
].join("\n");

function logs(runId: string, messages: string[], first = 0): LogRecord[] {
  return messages.map((message, i) => ({
    run_id: runId,
    attempt: 1,
    seq: first + i,
    ts: at(i),
    level: i % 2 ? "warn" : "info",
    step: "extract",
    message,
  }));
}

function step(runId: string, seq: number, name: string, from: number, to: number): StepRecord {
  return {
    run_id: runId,
    attempt: 1,
    seq,
    name,
    status: "success",
    started_at: at(from),
    finished_at: at(to),
    duration_ms: to - from,
    rows_in: seq * 10,
    rows_out: seq * 10 + 7,
    metadata: {},
    error: null,
  };
}

async function seed(store: Store, patch: RunPatch = {}): Promise<RunRecord> {
  if (!(await store.getPipeline("orders"))) {
    await store.deploy(deployInput({ name: "orders", code: CODE, filename: "orders.ts" }));
  }
  const run = await store.createRun(newRun(newRunId(), { pipeline: "orders" }));
  return (await store.updateRun(run.run_id, { attempt: 1, started_at: at(0), ...patch }))!;
}

/** The HTML of `<section id="…">`. */
function section(html: string, id: string): string {
  const start = html.indexOf(`<section id="${id}"`);
  assert(start >= 0, `a section#${id}`);
  return html.slice(start, html.indexOf("</section>", start) + 10);
}

const seqs = (html: string) =>
  [...html.matchAll(/<li class="log-line[^"]*" data-seq="(\d+)"/g)].map((m) => Number(m[1]));

Deno.test("run page: logs first, then the error with its excerpt, diagnosis, steps, permissions", async () => {
  await withDashboard(async (h) => {
    const error = {
      kind: "exception" as const,
      message: "boom\nsecond line",
      step: "load",
      location: { file: "orders.ts", line: 4, column: 9 },
      stack: "Error: boom\n    at orders.ts:4:9",
    };
    const run = await seed(h.store, {
      status: "failed",
      finished_at: at(10_000),
      duration_ms: 10_000,
      error,
      permissions: {
        net: ["api.example.com:443", "idle.example.com:443"],
        deny_net: ["127.0.0.1:8400"],
        env: ["API_TOKEN"],
        read: [],
        write: [],
        limits: { timeout_ms: 60_000, memory_mb: 256 },
      },
      access: {
        audit: "complete",
        net: [
          { target: "api.example.com:443", used: true },
          { target: "idle.example.com:443", used: false },
        ],
        env: [{ target: "API_TOKEN", used: true }],
        read: [],
        write: [],
        connections: [{ name: "warehouse", used: false }],
        outside: [{ permission: "net", target: "evil.example.com:443" }],
      },
      sandbox: {
        layers: { deno_permissions: true, module_graph_check: true, os_boundary: false },
        os_boundary: null,
        os_boundary_reason: "bwrap not installed",
        rlimits: true,
        warm: false,
        usage: { memory_mb: 41, threads: 9 },
      },
    });
    await h.store.appendLogs(logs(run.run_id, ["starting", "fetched 7 rows"]));
    await h.store.saveStep(step(run.run_id, 0, "extract", 0, 4_000));
    await h.store.saveStep({
      ...step(run.run_id, 1, "load", 5_000, 10_000),
      status: "failed",
      error: { kind: "exception", message: "boom", ref: "error" },
    });
    await h.store.setDiagnosis(run.run_id, {
      class: "code_bug",
      summary: "The pipeline code threw at orders.ts:4",
      step: "load",
      location: error.location,
      excerpt: null,
      evidence: [{ source: "error", ref: "error.message", text: "boom" }],
      changed_since_success: null,
      suggestions: [{ action: "fix_code", file: "orders.ts", line: 4, column: 9 }],
    });
    await h.store.createHeal({ id: "heal_1", pipeline: "orders", run_id: run.run_id }, new Date());
    await h.store.updateHeal("heal_1", {
      status: "promoted",
      record: { promoted: true, version: 2, attempts: [{ n: 1, run_id: "run_replay1" }] },
    });
    await h.store.createHeal(
      { id: "heal_other", pipeline: "orders", run_id: "run_else" },
      new Date(),
    );

    const res = await h.get(`/runs/${run.run_id}`, await h.session("read"));
    assertEquals(res.status, 200);
    const html = await res.text();
    assertMatch(html, new RegExp(`<h1>Run <span class="run-id">${run.run_id}</span></h1>`));
    assertMatch(html, /<span id="run-status" [^>]*data-run-status="failed"[^>]*>failed<\/span>/);
    assertMatch(html, /<a class="pipeline-link" href="\/pipelines\/orders">orders<\/a>/);
    assertMatch(html, /<span class="trigger">manual<\/span>/);
    assertMatch(html, /<span class="version">v1<\/span>/);
    assertMatch(html, /<span class="duration">10\.0 s<\/span>/);

    const main = html.slice(html.indexOf("<main>"));
    const order = [...main.matchAll(/<section id="(\w+)"/g)].map((m) => m[1]);
    assertEquals(order, [
      "logs",
      "error",
      "diagnosis",
      "steps",
      "data",
      "permissions",
      "sandbox",
    ]);
    assertEquals(seqs(section(html, "logs")), [0, 1]);
    assertMatch(section(html, "logs"), /<span class="level level-warn">warn<\/span>/);
    assert(!html.includes('id="log-follow"'), "an ended run is not followed");
    assertMatch(section(html, "logs"), /<form class="log-search" method="get" action="\/runs\//);

    const err = section(html, "error");
    assertMatch(err, /<span class="error-kind">exception<\/span>/);
    assertMatch(err, /<pre class="error-message">boom\nsecond line<\/pre>/);
    assertMatch(err, /<code class="error-location">orders\.ts:4<\/code>/);
    assertMatch(err, /<pre class="excerpt">/);
    assert(
      err.includes(`<span class="located">&gt; 4 |   throw new Error(&#39;boom&#39;);\n</span>`),
      "the located line, marked",
    );
    assert(err.includes(`<span class="around">  1 | import`), "the lines around it");

    const diagnosis = section(html, "diagnosis");
    assertMatch(diagnosis, /code_bug/);
    assertMatch(diagnosis, /fix_code, file &quot;orders\.ts&quot;, line 4/);
    assertMatch(diagnosis, /data-heal="heal_1"/);
    assertMatch(diagnosis, /promoted version 2/);
    assertMatch(diagnosis, /<a href="\/runs\/run_replay1">run_replay1<\/a>/);
    assert(!diagnosis.includes("heal_other"), "only heals this run started");

    const steps = section(html, "steps");
    assertMatch(steps, /<svg class="timeline"/);
    const bars = [
      ...steps.matchAll(
        /<g class="step [^"]*" data-step="(\w+)"[^>]*>.*?<rect class="bar" x="([\d.]+)" y="[\d.]+" width="([\d.]+)"/g,
      ),
    ].map((m) => [m[1], m[2], m[3]]);
    // 220 user units of names, then 780 for the run's 10 s.
    assertEquals(bars, [["extract", "220.0", "312.0"], ["load", "610.0", "390.0"]]);
    assertMatch(steps, /<td class="rows-in">10<\/td><td class="rows-out">17<\/td>/);
    assertMatch(steps, /exception: boom<\/td>/, "the step's error reference, made whole");

    const permissions = section(html, "permissions");
    const grant = (use: string, permission: string, target: string) =>
      new RegExp(
        `<tr class="grant ${use}" data-permission="${permission}" data-target="${target}"`,
      );
    assertMatch(permissions, grant("used", "net", "api\\.example\\.com:443"));
    assertMatch(permissions, grant("unused", "net", "idle\\.example\\.com:443"));
    assertMatch(permissions, grant("used", "env", "API_TOKEN"));
    assertMatch(permissions, grant("unused", "connection", "warehouse"));
    assertMatch(permissions, grant("denied", "net", "evil\\.example\\.com:443"));
    assertMatch(permissions, /<dt>timeout_ms<\/dt><dd>1 min 00 s<\/dd>/);
    assertMatch(section(html, "sandbox"), /none: bwrap not installed/);
  });
});

Deno.test("run page: the live follow returns only newer lines, and stops once the run ended", async () => {
  await withDashboard(async (h) => {
    const cookie = await h.session();
    const run = await seed(h.store, { status: "running" });
    const empty = await (await h.get(`/runs/${run.run_id}`, cookie)).text();
    assertMatch(empty, new RegExp(`id="log-follow"[^>]* hx-get="/runs/${run.run_id}/logs"`));

    await h.store.appendLogs(logs(run.run_id, ["a", "b", "c"]));
    const html = await (await h.get(`/runs/${run.run_id}`, cookie)).text();
    assertMatch(
      html,
      new RegExp(
        `<p id="log-follow" class="log-follow" hx-get="/runs/${run.run_id}/logs\\?after=2" ` +
          `hx-trigger="every 1s" hx-swap="outerHTML">`,
      ),
    );
    assertMatch(html, /<p id="run-ended" class="run-ended" hidden/);

    await h.store.appendLogs(logs(run.run_id, ["d", "e"], 3));
    const next = await (await h.get(`/runs/${run.run_id}/logs?after=2`, cookie)).text();
    assertEquals(seqs(next), [3, 4]);
    assertMatch(next, /^<ol hx-swap-oob="beforeend:#log-lines"><li /);
    assertMatch(next, /<span id="run-status" [^>]*data-run-status="running" hx-swap-oob="true">/);
    assertMatch(next, /hx-get="\/runs\/[^"]+\/logs\?after=4" hx-trigger="every 1s"/);

    const idle = await (await h.get(`/runs/${run.run_id}/logs?after=4`, cookie)).text();
    assertEquals(seqs(idle), []);
    assert(!idle.includes("<ol"), "no lines, no list");
    assertMatch(idle, /logs\?after=4" hx-trigger="every 1s"/, "still following");

    await h.store.appendLogs(logs(run.run_id, ["last"], 5));
    await h.store.updateRun(run.run_id, { status: "success", finished_at: at(1000) });
    const last = await (await h.get(`/runs/${run.run_id}/logs?after=4`, cookie)).text();
    assertEquals(seqs(last), [5]);
    assertMatch(last, /data-run-status="success" hx-swap-oob="true">success<\/span>/);
    assert(!last.includes("log-follow"), "no poller once the run ended");
    assertMatch(
      last,
      /<p id="run-ended" class="run-ended" hx-swap-oob="true">The run ended success/,
    );
  });
});

Deno.test("run page: a poll brings at most 1000 lines, and follows on until it caught up", async () => {
  await withDashboard(async (h) => {
    const cookie = await h.session();
    const run = await seed(h.store, { status: "success", finished_at: at(1000) });
    await h.store.appendLogs(logs(run.run_id, Array.from({ length: 1200 }, (_, i) => `m${i}`)));

    const page = await (await h.get(`/runs/${run.run_id}`, cookie)).text();
    const shown = seqs(page);
    assertEquals([shown.length, shown[0], shown.at(-1)], [1000, 200, 1199]);
    assertMatch(page, /Showing the last 1000 lines/);

    const first = await (await h.get(`/runs/${run.run_id}/logs`, cookie)).text();
    assertEquals(seqs(first).length, 1000);
    assertMatch(first, /logs\?after=999" hx-trigger/, "an ended run is followed until caught up");
    const rest = await (await h.get(`/runs/${run.run_id}/logs?after=999`, cookie)).text();
    assertEquals(seqs(rest).length, 200);
    assert(!rest.includes("log-follow"));
  });
});

Deno.test("run page: search keeps matching lines, counts them, and does not follow", async () => {
  await withDashboard(async (h) => {
    const cookie = await h.session();
    const run = await seed(h.store, { status: "running" });
    await h.store.appendLogs(
      logs(run.run_id, ["fetch ok", "ERROR: Timeout after 3s", "retry after timeout", "done"]),
    );
    const html = await (await h.get(`/runs/${run.run_id}?q=TIMEOUT`, cookie)).text();
    assertEquals(seqs(html), [1, 2]);
    assertMatch(html, /2 lines match “TIMEOUT”/);
    assertMatch(html, /<input type="search" name="q" value="TIMEOUT"/);
    assert(!html.includes('id="log-follow"'), "a search is not followed");

    const none = await (await h.get(`/runs/${run.run_id}?q=nowhere`, cookie)).text();
    assertEquals(seqs(none), []);
    assertMatch(none, /0 lines match/);
    const hostile = await (await h.get(`/runs/${run.run_id}?q=%3Cscript%3Ex`, cookie)).text();
    assert(!hostile.includes("<script>x"));
    assertMatch(hostile, /value="&lt;script&gt;x"/);
  });
});

Deno.test("run page: what a run writes is escaped everywhere", async () => {
  await withDashboard(async (h) => {
    const cookie = await h.session();
    const run = await seed(h.store, {
      status: "failed",
      finished_at: at(2000),
      result: { html: "</pre><script>alert(3)</script>" },
      error: { kind: "exception", message: "<script>alert(4)</script>" },
    });
    await h.store.appendLogs(logs(run.run_id, ["<script>alert(1)</script>"]));
    await h.store.saveStep(step(run.run_id, 0, `"><img src=x onerror=alert(2)>`, 0, 1000));
    const html = await (await h.get(`/runs/${run.run_id}`, cookie)).text();
    assert(!html.includes("<script>alert"), "no script from a run");
    assert(!html.includes("<img src=x"), "no element from a step name");
    assert(!html.includes("</pre><script>"), "a result cannot close its <pre>");
    assertMatch(html, /&lt;script&gt;alert\(1\)&lt;\/script&gt;/);
    assertMatch(html, /data-step="&quot;&gt;&lt;img src=x onerror=alert\(2\)&gt;"/);
    assertMatch(html, /&lt;\/pre&gt;&lt;script&gt;alert\(3\)/);
    assertMatch(section(html, "error"), /&lt;script&gt;alert\(4\)&lt;\/script&gt;/);
    const fragment = await (await h.get(`/runs/${run.run_id}/logs`, cookie)).text();
    assert(!fragment.includes("<script>alert"));
    assertMatch(fragment, /&lt;script&gt;alert\(1\)/);
  });
});

Deno.test("run page: an unknown run is 404, a bad after 400, no session goes to login", async () => {
  await withDashboard(async (h) => {
    const cookie = await h.session();
    const run = await seed(h.store, { status: "running" });
    assertEquals((await h.get("/runs/run_nope", cookie)).status, 404);
    assertEquals((await h.get("/runs/run_nope/logs?after=0", cookie)).status, 404);
    for (const after of ["-1", "x", "1.5", "", "1e3"]) {
      const res = await h.get(`/runs/${run.run_id}/logs?after=${after}`, cookie);
      assertEquals(res.status, 400, after);
      assertMatch(await res.text(), /after must be an integer/);
    }
    const anonymous = await h.get(`/runs/${run.run_id}`);
    assertEquals(anonymous.status, 303);
    assertEquals(anonymous.headers.get("location"), "/");
    const poll = await h.app.request(`http://127.0.0.1:8401/runs/${run.run_id}/logs`, {
      headers: { "hx-request": "true" },
    });
    assertEquals(poll.status, 401, "a poll after the session ended");
    await poll.body?.cancel();
  });
});

Deno.test("run page parts: bars, error references, cut values", () => {
  const run = {
    run_id: "r",
    started_at: at(0),
    finished_at: null,
    error: { kind: "timeout", message: "whole", stack: "s" },
    attempts: [{ error: { kind: "exception", message: "first attempt" } }],
  } as unknown as RunRecord;
  const running = { ...step("r", 0, "a", 2_000, 0), finished_at: null, duration_ms: null };
  // Still running at 4 s: the bar runs from 2 s to now, the end of the span.
  assertEquals(timeline(run, [running], T0 + 4_000).map((b) => [b.start, b.width]), [[0.5, 0.5]]);
  assertEquals(timeline({ ...run, started_at: null }, [], T0), []);

  assertEquals(wholeError(run, { kind: "timeout", message: "w", ref: "error" }).message, "whole");
  assertEquals(
    wholeError(run, { kind: "exception", message: "f", ref: "attempts[0].error" }).message,
    "first attempt",
  );
  assertEquals(wholeError(run, { kind: "timeout", message: "gone", ref: "attempts[5].error" }), {
    kind: "timeout",
    message: "gone",
    ref: "attempts[5].error",
  });

  assertEquals(jsonText({ a: 1 }), { text: '{\n  "a": 1\n}', cut: null });
  const big = jsonText("x".repeat(MAX_JSON_CHARS + 10) as Json);
  assertEquals([big.text.length, big.cut], [MAX_JSON_CHARS, MAX_JSON_CHARS + 12]);
});
