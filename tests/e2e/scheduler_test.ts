/**
 * The scheduler and the DAG through a real daemon: an every-second schedule, a diamond run
 * with its middle in parallel, a failing branch, cycles refused, and max_concurrent honoured
 * by 20 queued runs.
 */
import { assert, assertEquals, assertMatch } from "../helpers/assert.ts";
import { FIXTURES, startDaemon, type TestDaemon } from "../helpers/daemon.ts";

interface Run {
  run_id: string;
  pipeline: string;
  status: string;
  trigger: string;
  scheduled_at: string | null;
  started_at: string | null;
  finished_at: string | null;
  error: { kind: string; message: string } | null;
}

const FINAL = ["success", "failed", "timed_out", "cancelled", "skipped"];

async function runsOf(d: TestDaemon, name: string): Promise<Run[]> {
  const out = await d.tau("runs", name, "--last", "100");
  assertEquals(out.code, 0, out.stdout);
  return out.json.runs;
}

/** Polls until `done` holds for the pipeline's runs (or fails after `ms`). */
async function until(d: TestDaemon, name: string, done: (runs: Run[]) => boolean, ms = 20_000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const runs = await runsOf(d, name);
    if (done(runs)) return runs;
    if (Date.now() > deadline) throw new Error(`${name}: gave up waiting: ${JSON.stringify(runs)}`);
    await new Promise((r) => setTimeout(r, 150));
  }
}

const finished = (n: number) => (runs: Run[]) =>
  runs.length >= n && runs.every((r) => FINAL.includes(r.status));
const t = (iso: string | null) => Date.parse(iso ?? "");

Deno.test("scheduler and DAGs end to end", async (ctx) => {
  const d = await startDaemon({}, { config: "[scheduler]\nmax_concurrent = 3\n" });
  const node = async (...names: string[]) => {
    for (const name of names) {
      const out = await d.tau("deploy", `${FIXTURES}dag_node.ts`, "--name", name);
      assertEquals(out.code, 0, out.stdout);
    }
  };
  const depends = async (name: string, ...on: string[]) => {
    const out = await d.tau("depends", name, ...on.flatMap((u) => ["--on", u]));
    assertEquals(out.code, 0, out.stdout);
    return out.json;
  };
  try {
    await ctx.step("an every-second schedule fires each second, once, until disabled", async () => {
      const deployed = await d.deploy("every_second.ts");
      assertEquals(deployed.json.every_s, 1);
      assert(deployed.json.next_run_at, "the next fire time is shown");
      const runs = await until(
        d,
        "every_second",
        (r) => r.filter((x) => x.status === "success").length >= 3,
      );
      const instants = runs.map((r) => r.scheduled_at as string).sort();
      assertEquals(new Set(instants).size, instants.length, "no instant fires twice");
      for (let i = 1; i < instants.length; i++) {
        assertEquals((t(instants[i] as string) - t(instants[i - 1] as string)) % 1000, 0);
      }
      assert(runs.every((r) => r.trigger === "schedule"));
      const off = await d.tau("schedule", "every_second", "--disable");
      assertEquals([off.json.enabled, off.json.next_run_at], [false, null]);
      const count = (await until(d, "every_second", finished(3))).length;
      await new Promise((r) => setTimeout(r, 2_500));
      assertEquals((await runsOf(d, "every_second")).length, count, "nothing fires when disabled");
      const listed = await d.tau("list");
      const entry = listed.json.pipelines.find((p: { name: string }) => p.name === "every_second");
      assertEquals([entry.every_s, entry.enabled], [1, false]);
    });

    await ctx.step("tau schedule validates, and shows the next fire time", async () => {
      const bad = await d.tau("schedule", "every_second", "61 * * * *");
      assertEquals(bad.json.error.code, "invalid_schedule");
      const tz = await d.tau("schedule", "every_second", "0 6 * * *", "--timezone", "Mars/Base");
      assertEquals(tz.json.error.code, "invalid_schedule");
      const ok = await d.tau(
        "schedule",
        "every_second",
        "0 6 * * *",
        "--timezone",
        "Europe/Berlin",
      );
      assertEquals([ok.json.schedule, ok.json.timezone, ok.json.enabled], [
        "0 6 * * *",
        "Europe/Berlin",
        false,
      ]);
      const on = await d.tau("schedule", "every_second", "--enable");
      assertMatch(on.json.next_run_at, /T0[45]:00:00.000Z$/); // 06:00 in Berlin
      await d.tau("schedule", "every_second", "--disable");
    });

    await ctx.step("a diamond runs in order, its middle in parallel", async () => {
      await node("a", "b", "c", "d");
      await depends("b", "a");
      await depends("c", "a");
      const view = await depends("d", "b", "c");
      assertEquals(view.all_upstream, ["a", "b", "c"]);
      const dag = await d.tau("dag");
      assertEquals(dag.json.levels, [["a", "every_second"], ["b", "c"], ["d"]]);
      assertMatch(dag.json.mermaid, /b --> d/);
      const root = await d.tau("run", "a", "--downstream");
      assertEquals(root.json.status, "success", root.stdout);
      const [a, b, c, dd] = (await Promise.all(
        ["a", "b", "c", "d"].map((n) => until(d, n, finished(1))),
      )).map((runs) => runs[0]);
      assert(a && b && c && dd);
      for (const r of [b, c, dd]) {
        assertEquals([r.status, r.trigger], ["success", "dependency"]);
      }
      assert(t(b.started_at) >= t(a.finished_at) && t(c.started_at) >= t(a.finished_at));
      assert(t(dd.started_at) >= Math.max(t(b.finished_at), t(c.finished_at)));
      assert(t(b.started_at) < t(c.finished_at) && t(c.started_at) < t(b.finished_at), "b ∥ c");
      // A plain run does not trigger anything downstream.
      await d.tau("run", "a");
      await new Promise((r) => setTimeout(r, 1_000));
      assertEquals((await runsOf(d, "b")).length, 1);
    });

    await ctx.step("a failing branch skips only its descendants", async () => {
      await node("x_a", "x_b", "x_fail_c", "x_d", "x_e");
      await depends("x_b", "x_a");
      await depends("x_fail_c", "x_a");
      await depends("x_d", "x_b", "x_fail_c");
      await depends("x_e", "x_b");
      await d.tau("run", "x_a", "--downstream");
      const [c] = await until(d, "x_fail_c", finished(1));
      const [dd] = await until(d, "x_d", finished(1));
      const [e] = await until(d, "x_e", finished(1));
      assertEquals(c?.status, "failed");
      assertEquals([dd?.status, dd?.error?.kind], ["skipped", "upstream_failed"]);
      assertMatch(String(dd?.error?.message), /upstream x_fail_c ended failed/);
      assertEquals(e?.status, "success");
    });

    await ctx.step("cycles and unknown upstreams are refused, naming them", async () => {
      const cycle = await d.tau("depends", "a", "--on", "d");
      assertEquals(cycle.json.error.code, "dependency_cycle");
      assertMatch(cycle.json.error.message, /a → b → d → a|a → c → d → a/);
      const unknown = await d.tau("deploy", `${FIXTURES}unknown_upstream.ts`);
      assertEquals(unknown.json.error.code, "unknown_dependency");
      assertEquals((await d.tau("show", "orphan")).json.error.code, "not_found");
      const used = await d.tau("undeploy", "a");
      assertEquals(used.json.error.code, "has_dependents");
    });

    await ctx.step("max_concurrent = 3 holds with 20 queued runs", async () => {
      await node("wide");
      for (let i = 0; i < 20; i++) {
        const out = await d.tau("run", "wide", "--no-wait");
        assertEquals(out.code, 0, out.stdout);
      }
      const runs = await until(d, "wide", finished(20), 60_000);
      assert(runs.every((r) => r.status === "success"));
      const events = runs.flatMap((r) => [
        [t(r.started_at), 1],
        [t(r.finished_at), -1],
      ]).sort((x, y) => (x[0] as number) - (y[0] as number) || (x[1] as number) - (y[1] as number));
      let running = 0;
      let peak = 0;
      for (const [, delta] of events) peak = Math.max(peak, running += delta as number);
      assertEquals(peak, 3);
    });
  } finally {
    await d.stop();
  }
});
