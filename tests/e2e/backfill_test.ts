/**
 * Backfills through a real daemon: 48 hourly instants with concurrency 4, a graceful stop and a
 * kill -9 midway. The backfill never has more than 4 runs active, resumes after each restart,
 * reruns no instant that had finished, and completes with one successful run per instant.
 */
import { assert, assertEquals } from "../helpers/assert.ts";
import { FIXTURES, startDaemon, type TestDaemon } from "../helpers/daemon.ts";

interface Run {
  run_id: string;
  status: string;
  trigger: string;
  scheduled_at: string | null;
  error: { kind: string } | null;
}

const NAME = "backfill_hourly";
const HOUR = 3_600_000;
const FROM = Date.parse("2026-01-01T00:00:00Z");
const INSTANTS = Array.from({ length: 48 }, (_, i) => new Date(FROM + i * HOUR).toISOString());

/** The API straight from this process: sampling through the CLI would be too slow. */
async function api(d: TestDaemon, path: string) {
  const key = (await Deno.readTextFile(`${d.home}/api_key`)).trim();
  const res = await fetch(`http://127.0.0.1:${d.port}/api/v1${path}`, {
    headers: { authorization: `Bearer ${key}` },
  });
  const body = await res.json();
  if (!res.ok) throw new Error(`GET ${path}: ${res.status} ${JSON.stringify(body)}`);
  return body;
}

async function backfillRuns(d: TestDaemon, id: string): Promise<Run[]> {
  const page = await api(d, `/pipelines/${NAME}/runs?last=500`);
  return (page.runs as Run[]).filter((r) => r.trigger === `backfill:${id}`);
}

/**
 * Samples the backfill's runs until `stop` holds, checking that at most 4 are queued or running
 * at once. Returns the last sample.
 */
async function watch(
  d: TestDaemon,
  id: string,
  stop: (runs: Run[], backfill: { status: string }) => boolean,
  state: { maxActive: number; samples: number },
): Promise<Run[]> {
  const deadline = Date.now() + 120_000;
  for (;;) {
    const runs = await backfillRuns(d, id);
    const active = runs.filter((r) => r.status === "queued" || r.status === "running").length;
    state.maxActive = Math.max(state.maxActive, active);
    state.samples++;
    assert(active <= 4, `${active} runs of the backfill active at once`);
    if (stop(runs, await api(d, `/backfills/${id}`))) return runs;
    if (Date.now() > deadline) throw new Error(`gave up waiting: ${JSON.stringify(runs)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const succeeded = (runs: Run[]) => runs.filter((r) => r.status === "success");

Deno.test("a backfill over 48 hourly instants with concurrency 4 resumes after a restart without rerunning finished instants", async (t) => {
  const d = await startDaemon({}, { config: "[scheduler]\nmax_concurrent = 10\n" });
  try {
    await d.deploy("backfill_hourly.ts");
    // A disabled schedule still says which instants exist; the test's runs are all backfill's.
    assertEquals((await d.tau("schedule", NAME, "--disable")).code, 0);
    const args = ["--from", "2026-01-01", "--to", "2026-01-03"];

    await t.step("bad requests are refused with a hint", async () => {
      await d.tau("deploy", `${FIXTURES}dag_node.ts`);
      const unscheduled = await d.tau("backfill", "dag_node", ...args);
      assertEquals(unscheduled.code, 1);
      assertEquals(unscheduled.json.error.code, "invalid_params");
      assert(unscheduled.json.error.hint.includes("tau schedule dag_node"));
      const noZone = await d.tau(
        "backfill",
        NAME,
        "--from",
        "2026-01-01T00:00",
        "--to",
        "2026-01-02",
      );
      assertEquals(noZone.json.error.code, "invalid_params");
      assert(noZone.json.error.message.includes("no time zone offset"), noZone.stdout);
      const reversed = await d.tau("backfill", NAME, "--from", "2026-01-03", "--to", "2026-01-01");
      assertEquals(reversed.json.error.code, "invalid_params");
      const tooMany = await d.tau("backfill", NAME, "--from", "2020-01-01", "--to", "2026-01-01");
      assertEquals(tooMany.json.error.code, "invalid_params");
      assert(tooMany.json.error.hint.includes("narrow the range"), tooMany.stdout);
      assertEquals((await d.tau("backfill", NAME, ...args, "--concurrency", "0")).code, 1);
      assertEquals((await d.tau("backfills", "show", "bf_nope")).json.error.code, "not_found");
    });

    await t.step("--dry-run lists the 48 instants and creates nothing", async () => {
      const plan = await d.tau("backfill", NAME, ...args, "--dry-run");
      assertEquals(plan.code, 0, plan.stdout);
      assertEquals([plan.json.dry_run, plan.json.total], [true, 48]);
      assertEquals(plan.json.instants, INSTANTS);
      assertEquals(plan.json.skipped, []);
      assertEquals((await d.tau("backfills")).json.count, 0);
    });

    const created = await d.tau("backfill", NAME, ...args, "--concurrency", "4");
    assertEquals(created.code, 0, created.stdout);
    const id: string = created.json.backfill_id;
    assertEquals([created.json.status, created.json.total, created.json.concurrency], [
      "running",
      48,
      4,
    ]);
    const state = { maxActive: 0, samples: 0 };
    let doneBeforeStop = new Set<string>();
    let doneBeforeKill = new Set<string>();
    let killed = new Set<string>();

    await t.step("a graceful stop midway: drained runs go back to the queue", async () => {
      const runs = await watch(d, id, (runs) => succeeded(runs).length >= 12, state);
      doneBeforeStop = new Set(succeeded(runs).map((r) => r.scheduled_at!));
      d.process.kill("SIGTERM");
      await d.process.status;
      await d.restart();
    });

    await t.step("a kill -9 midway: its running runs fail and run again", async () => {
      const runs = await watch(d, id, (runs) => succeeded(runs).length >= 28, state);
      doneBeforeKill = new Set(succeeded(runs).map((r) => r.scheduled_at!));
      await d.kill();
      await d.restart();
      // What was running when it died failed with daemon_restart (the existing recovery).
      const after = await backfillRuns(d, id);
      killed = new Set(
        after.filter((r) => r.error?.kind === "daemon_restart").map((r) => r.scheduled_at!),
      );
    });

    await t.step("it completes with one successful run per instant", async () => {
      await watch(d, id, (_, backfill) => backfill.status !== "running", state);
      const shown = await d.tau("backfills", "show", id);
      assertEquals(shown.code, 0, shown.stdout);
      assertEquals(shown.json.status, "completed", shown.stdout);
      assertEquals(shown.json.counts, {
        pending: 0,
        active: 0,
        succeeded: 48,
        failed: 0,
        skipped: 0,
        cancelled: 0,
      });
      const runs = await backfillRuns(d, id);
      const ok = succeeded(runs);
      assertEquals(ok.map((r) => r.scheduled_at).sort(), INSTANTS, "one success per instant");
      const perInstant = new Map<string, number>();
      for (const r of runs) {
        perInstant.set(r.scheduled_at!, (perInstant.get(r.scheduled_at!) ?? 0) + 1);
      }
      for (const at of INSTANTS) {
        // Only an instant whose run was killed mid-flight has a second run; none that had ended.
        const expected = killed.has(at) ? 2 : 1;
        assertEquals([at, perInstant.get(at)], [at, expected]);
        if (doneBeforeStop.has(at) || doneBeforeKill.has(at)) assertEquals(perInstant.get(at), 1);
      }
      assert(killed.size <= 4, `${killed.size} runs were running at the kill`);
      assert(state.maxActive >= 2, `the runs overlapped (at most ${state.maxActive} at once)`);
      // Each run saw its own instant as ctx.scheduledAt and ctx.logicalDate.
      const [sample] = ok;
      const inspected = await api(d, `/runs/${sample!.run_id}`);
      assertEquals(inspected.result, {
        scheduled_at: sample!.scheduled_at,
        logical_date: sample!.scheduled_at,
      });
      const listed = await d.tau("backfills", NAME);
      assertEquals(listed.code, 0, listed.stdout);
      assertEquals(listed.json.backfills[0].backfill_id, id);
      assertEquals(listed.json.backfills[0].status, "completed");
      assertEquals((await d.tau("backfills", "--status", "running")).json.count, 0);
    });

    await t.step("a second backfill skips what succeeded; cancel stops one", async () => {
      const again = await d.tau(
        "backfill",
        NAME,
        "--from",
        "2026-01-02T20:00Z",
        "--to",
        "2026-01-03T04:00Z",
      );
      assertEquals(again.code, 0, again.stdout);
      assertEquals([again.json.total, again.json.counts.skipped, again.json.counts.pending], [
        8,
        4,
        4,
      ]);
      const cancelled = await d.tau("backfills", "cancel", again.json.backfill_id);
      assertEquals(cancelled.code, 0, cancelled.stdout);
      assertEquals(cancelled.json.status, "cancelled");
      const twice = await d.tau("backfills", "cancel", again.json.backfill_id);
      assertEquals(twice.json.error.code, "conflict");
    });
  } finally {
    await d.stop();
  }
});
