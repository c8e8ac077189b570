/**
 * `/dag` through `dashboardApp(...).request` on a real SQLite store: one linked, coloured node
 * per pipeline, one edge per dependency, upstreams left of downstreams, hostile names escaped,
 * the empty states, and the session guard.
 */
import { assert, assertEquals, assertMatch } from "../../tests/helpers/assert.ts";
import { withDashboard } from "../../tests/helpers/dashboard_app.ts";
import { deployInput, newRun } from "../../tests/store/store_contract.ts";
import { newRunId } from "../core/ids.ts";
import type { RunStatus, Store } from "../store/mod.ts";

async function runOf(store: Store, pipeline: string, status: RunStatus, now = Date.now()) {
  const run = await store.createRun(newRun(newRunId(now), { pipeline }));
  await store.updateRun(run.run_id, { status });
}

/** Each node's `data-pipeline`, `data-status`, link, class, tooltip, box and label. */
function nodesIn(html: string) {
  const node = new RegExp(
    '<a href="([^"]*)"><g class="node status-([a-z_]+)" data-pipeline="([^"]*)" ' +
      'data-status="([a-z_]+)"><title>([^<]*)</title><rect x="([\\d.]+)" y="[\\d.]+" ' +
      'width="([\\d.]+)"[^>]*></rect><text [^>]*>([^<]*)</text></g></a>',
    "g",
  );
  return new Map([...html.matchAll(node)].map((m) => [m[3]!, {
    href: m[1]!,
    classStatus: m[2]!,
    status: m[4]!,
    title: m[5]!,
    x: Number(m[6]),
    width: Number(m[7]),
    text: m[8]!,
  }]));
}

function edgesIn(html: string): string[] {
  const edge =
    /<path class="edge" d="[^"]+" marker-end="url\(#dag-arrow\)" data-from="([^"]*)" data-to="([^"]*)"><\/path>/g;
  return [...html.matchAll(edge)].map((m) => `${m[1]}>${m[2]}`).sort();
}

Deno.test("dag page: a linked node per pipeline, coloured by its last run, and its edges", async () => {
  await withDashboard(async (h) => {
    for (const name of ["extract", "transform", "load", "report"]) {
      await h.store.deploy(deployInput({ name }));
    }
    await h.store.setDependencies("transform", ["extract"]);
    await h.store.setDependencies("load", ["transform"]);
    await h.store.setDependencies("report", ["transform"]);
    // The last run counts: extract failed once, then succeeded.
    await runOf(h.store, "extract", "failed", Date.now() - 60_000);
    await runOf(h.store, "extract", "success");
    await runOf(h.store, "transform", "failed");
    await runOf(h.store, "load", "running");

    const res = await h.get("/dag", await h.session());
    assertEquals(res.status, 200);
    const html = await res.text();
    assertMatch(
      html,
      /<svg class="dag" role="img" aria-label="Pipeline graph: 4 pipelines, 3 dependencies" [^>]*viewBox="0 0 \d+ \d+"/,
    );
    const nodes = nodesIn(html);
    assertEquals([...nodes.keys()].sort(), ["extract", "load", "report", "transform"]);
    const expected = { extract: "success", transform: "failed", load: "running", report: "none" };
    for (const [name, status] of Object.entries(expected)) {
      const node = nodes.get(name)!;
      assertEquals(node.href, `/pipelines/${name}`);
      assertEquals([node.status, node.classStatus], [status, status], name);
      assertEquals(node.text, name);
      assert(node.title.startsWith(`${name} — `), node.title);
    }
    assertEquals(nodes.get("report")!.title, "report — never run");
    assertEquals(edgesIn(html), ["extract>transform", "transform>load", "transform>report"]);

    // Left to right: each upstream's box ends before its downstream's starts.
    const right = (name: string) => nodes.get(name)!.x + nodes.get(name)!.width;
    assert(right("extract") < nodes.get("transform")!.x, "extract is left of transform");
    assert(right("transform") < nodes.get("load")!.x, "transform is left of load");
    assert(right("transform") < nodes.get("report")!.x, "transform is left of report");

    // Every status has a colour and a place in the legend, from the stylesheet.
    assertMatch(html, /<ul class="dag-legend"[^>]*><li class="status-success">succeeded<\/li>/);
    assertMatch(html, /<li class="status-none">never run<\/li><\/ul>/);
    const css = await (await h.get("/static/dashboard.css")).text();
    for (const status of ["success", "failed", "timed_out", "running", "none"]) {
      assertMatch(css, new RegExp(`svg\\.dag \\.node\\.status-${status} rect \\{ fill: #`));
    }
    assert(!html.includes("style="), "no inline style");
    assert(!html.includes('class="empty"'), "no empty state");
  });
});

Deno.test("dag page: hostile pipeline names are escaped in text, attributes and links", async () => {
  await withDashboard(async (h) => {
    // The store takes any name; the deploy route is what refuses these.
    const hostile = `x"><script>alert(1)</script>&<b`;
    await h.store.deploy(deployInput({ name: "upstream" }));
    await h.store.deploy(deployInput({ name: hostile }));
    await h.store.setDependencies(hostile, ["upstream"]);

    const html = await (await h.get("/dag", await h.session())).text();
    assert(!html.includes("<script>alert"), "no live script");
    assert(!html.includes('x">'), "no attribute break-out");
    const escaped = "x&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;&amp;&lt;b";
    const node = nodesIn(html).get(escaped);
    assert(node, "the hostile node is drawn, escaped");
    assertEquals(node.href, `/pipelines/${encodeURIComponent(hostile)}`);
    assertEquals(node.text, escaped);
    assertEquals(edgesIn(html), [`upstream>${escaped}`]);
  });
});

Deno.test("dag page: with nothing to draw, it says how to declare dependencies", async () => {
  await withDashboard(async (h) => {
    const cookie = await h.session();
    const empty = await (await h.get("/dag", cookie)).text();
    assertMatch(empty, /<p class="empty">No pipeline is deployed yet/);
    assertMatch(empty, /<code>tau depends NAME --on UPSTREAM<\/code>/);
    assert(!empty.includes("<svg"), "no drawing");

    await h.store.deploy(deployInput({ name: "alone" }));
    const lone = await (await h.get("/dag", cookie)).text();
    assertMatch(lone, /<p class="empty">No pipeline depends on another yet/);
    assertMatch(lone, /<code>tau depends NAME --on UPSTREAM<\/code>/);
    assertEquals([...nodesIn(lone).keys()], ["alone"], "the pipelines are still drawn");
    assertEquals(edgesIn(lone), []);
  });
});

Deno.test("dag page: without a session it sends the browser to log in", async () => {
  await withDashboard(async (h) => {
    await h.store.deploy(deployInput({ name: "secret_name" }));
    const res = await h.get("/dag");
    assertEquals(res.status, 303);
    assertEquals(res.headers.get("location"), "/");
    assert(!(await res.text()).includes("secret_name"));
    const stale = await h.get("/dag", "tau_session=not-a-session");
    assertEquals(stale.status, 303);
  });
});
