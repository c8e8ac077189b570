/**
 * Hostile pipelines against the trusted side itself (round two): values nested to crash the
 * daemon's walkers, oversized and forged final events, engines that burn CPU and memory, bytes
 * and files outside the scratch folder, and a flood of files to make disk accounting expensive.
 * Each attack ends with its own status and kind; the daemon's memory and CPU stay within the
 * budgets stated below while and after it runs, and it goes on serving.
 */
import { DatabaseSync } from "node:sqlite";
import { assert, assertEquals, assertMatch } from "../helpers/assert.ts";
import { EXAMPLES, startDaemon, type TestDaemon } from "../helpers/daemon.ts";
import {
  api,
  assertFailed,
  assertNoSecret,
  assertServing,
  databaseBytes,
  measureDaemon,
  processUsage,
  run,
} from "../helpers/hostile.ts";

/** How much the daemon may grow (resident MiB) while one attack runs. */
const RSS_BUDGET_MB = 150;
/** The most CPU the daemon may spend while a run sits still (on any number of files). */
const IDLE_CPU_SHARE = 0.1;
/** How much more a run sitting on its files may cost than one with none. */
const EXTRA_CPU_SHARE = 0.03;
/** `[sandbox] max_files` of the test daemon (small, so that making files takes seconds). */
const MAX_FILES = 10_000;

/** The DuckDB engines the daemon has running (its children started from engine_main.ts). */
async function engines(daemonPid: number): Promise<number[]> {
  const found: number[] = [];
  for await (const entry of Deno.readDir("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    const cmdline = await Deno.readTextFile(`/proc/${entry.name}/cmdline`).catch(() => "");
    const stat = await Deno.readTextFile(`/proc/${entry.name}/stat`).catch(() => "");
    const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
    if (ppid === daemonPid && cmdline.includes("engine_main.ts")) found.push(Number(entry.name));
  }
  return found;
}

/**
 * The daemon's share of a core while a many_files run sleeps on `n` files: the quieter of two
 * 1.5 s windows, from 1.5 s after it made them.
 */
async function sleepingShare(d: TestDaemon, n: number): Promise<number> {
  const params = JSON.stringify({ n, sleep_ms: 6000 });
  const runId = (await d.tau("run", "many_files", "--no-wait", "--params", params)).json.run_id;
  for (let i = 0; i < 600; i++) {
    const { json } = await api(d, "GET", `/runs/${runId}/logs`);
    if (json.logs.some((l: { message: string }) => l.message === `created ${n} files`)) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  // The watchdog walks the folders once more after the last file, up to ten walks' time later
  // (longer on a loaded machine). That one walk may fall in either window, but not in both;
  // walks that went on while the run sleeps would show in both.
  await new Promise((resolve) => setTimeout(resolve, 1_500));
  const shares = [];
  for (let window = 0; window < 2; window++) {
    const before = await processUsage(d.process.pid);
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    shares.push(((await processUsage(d.process.pid)).cpuS - before.cpuS) / 1.5);
  }
  const done = (await api(d, "GET", `/runs/${runId}?wait_ms=10000`)).json;
  assertEquals(done.status, "success", JSON.stringify(done.error));
  assert.ok(done.sandbox.usage.files >= n, JSON.stringify(done.sandbox.usage));
  return Math.min(...shares);
}

async function attack(d: TestDaemon, name: string, params: Record<string, unknown> = {}) {
  const { value, rssGrowthMb } = await measureDaemon(d, () => run(d, name, params));
  assert.ok(
    rssGrowthMb < RSS_BUDGET_MB,
    `the daemon grew by ${rssGrowthMb.toFixed(0)} MiB during ${name}`,
  );
  return value;
}

Deno.test("no run can crash, starve or bloat the daemon", async (t) => {
  const secret = `deep-${crypto.randomUUID()}`;
  const d = await startDaemon({ ROUND2_SECRET: secret }, {
    config: `[sandbox]\nmax_files = ${MAX_FILES}\n`,
  });
  try {
    assertEquals((await d.tau("deploy", `${EXAMPLES}hello_pipeline.ts`)).code, 0);
    await d.deployAll(
      [
        "deep_values",
        "big_result",
        "exit_code",
        "cache_fill",
        "unknown_requests",
        "request_flood",
        "many_files",
        "audit_flood",
        "duck_burn",
        "duck_result",
      ].map((fixture) => `hostile2/${fixture}.ts`),
    );

    await t.step(
      "a deep result through the SDK fails invalid_output, naming the limit",
      async () => {
        const res = await attack(d, "deep_values", { where: "result" });
        assertFailed(res, "invalid_output");
        assertMatch(res.error.message, /nested deeper than 64 levels/);
      },
    );

    await t.step("deep step metadata through the SDK fails its step and the run", async () => {
      const res = await attack(d, "deep_values", { where: "metadata" });
      assertFailed(res, "invalid_output");
      assertMatch(res.error.message, /Step deep: its metadata is nested deeper than 64 levels/);
      assertEquals(res.steps[0].status, "failed");
    });

    await t.step("a deep result written to the channel is refused, naming the limit", async () => {
      const res = await attack(d, "deep_values", { where: "raw_result" });
      assertFailed(res, "invalid_output");
      assertEquals(
        res.error.message,
        "The run's result was refused: nested deeper than 64 levels",
      );
    });

    await t.step("deep metadata written to the channel closes its step as refused", async () => {
      const res = await attack(d, "deep_values", { where: "raw_metadata" });
      assertEquals(res.result, "after the deep metadata");
      assertEquals(res.steps[0].status, "failed");
      assertEquals(res.steps[0].error.kind, "invalid_output");
      assertMatch(res.steps[0].error.message, /refused: .*nested deeper than 64 levels/);
    });

    await t.step("a deep request written to the channel is refused and logged", async () => {
      const res = await attack(d, "deep_values", { where: "raw_request" });
      assertEquals(res.status, "success");
      assert.ok(
        res.logs.some((l: { level: string; message: string }) =>
          l.level === "system" && /nested deeper than 64 levels/.test(l.message)
        ),
      );
    });

    await t.step("deep --params are refused at the API with invalid_params", async () => {
      let deep = '"x"';
      for (let i = 0; i < 5000; i++) deep = `{"a":${deep}}`;
      const res = await d.tau("run", "hello_world", "--params", `{"p":${deep}}`);
      assertEquals(res.code, 1);
      assertEquals(res.json.error.code, "invalid_params");
      assertMatch(res.json.error.message, /nested deeper than 64 levels/);
      const big = await api(d, "POST", "/pipelines/hello_world/runs", {
        params: { p: "x".repeat(300_000) },
      });
      assertEquals([big.status, big.json.error.code], [400, "invalid_params"]);
      assertMatch(big.json.error.message, /at most 262144 are allowed/);
    });

    await t.step("a deep record stored before runs were bounded still prints", async () => {
      const res = await run(d, "hello_world");
      const deep = "[".repeat(100_000) + "]".repeat(100_000);
      const db = new DatabaseSync(`${d.home}/tau.db`);
      try {
        db.prepare("UPDATE runs SET result = ? WHERE run_id = ?").run(deep, res.run_id);
      } finally {
        db.close();
      }
      const shown = await d.tau("inspect", "hello_world", "--run", res.run_id);
      assertEquals(shown.code, 0, shown.stdout.slice(0, 500));
      assertMatch(shown.stdout, /nested deeper than 64 levels/);
    });

    await t.step("a 2 MiB result names the result cap (SDK and raw)", async () => {
      const sdk = await attack(d, "big_result");
      assertFailed(sdk, "invalid_output");
      assertMatch(sdk.error.message, /is 2\.0 MiB as JSON; a result may be at most \d+ KiB/);
      const raw = await attack(d, "big_result", { raw: true });
      assertFailed(raw, "invalid_output");
      assertEquals(
        raw.error.message,
        "The run's result was refused: it is larger than the 1 MiB a result may be",
      );
    });

    await t.step("Deno.exit(152) and (153) are crashes, not CPU or disk limits", async () => {
      for (const code of [152, 153]) {
        const res = await attack(d, "exit_code", { code });
        assertFailed(res, "crashed");
        assertMatch(res.error.message, new RegExp(`exit code ${code}`));
      }
    });

    await t.step("the Cache API's bytes (in the run's DENO_DIR) count as disk", async () => {
      const res = await attack(d, "cache_fill");
      assertFailed(res, "disk_limit");
      assertMatch(res.error.message, /disk use of its folders reached/);
    });

    await t.step("requests for ops Tau does not serve count as output", async () => {
      const res = await attack(d, "unknown_requests");
      assertFailed(res, "output_limit");
    });

    await t.step("requests Tau serves count against the request budget", async () => {
      const res = await attack(d, "request_flood");
      assertFailed(res, "request_limit");
    });

    await t.step("a permission-check flood is an audit_limit, not scratch disk use", async () => {
      const res = await attack(d, "audit_flood");
      assertFailed(res, "audit_limit");
      assert.ok(res.sandbox.usage.disk_mb < 1, JSON.stringify(res.sandbox.usage));
    });

    await t.step("more files than the cap end the run with disk_limit", async () => {
      const res = await attack(d, "many_files", { n: MAX_FILES + 2_000 });
      assertFailed(res, "disk_limit");
      assertMatch(res.error.message, /files in its folders reached \d+ \(limit 10000\)/);
    });

    await t.step(
      "a run sitting on its files costs the daemon no more than one with none",
      async () => {
        // The floor is measured in the same run: a run sleeping on no files at all.
        const floor = await sleepingShare(d, 0);
        const share = await sleepingShare(d, 8_000);
        const percent = (x: number) => `${(x * 100).toFixed(1)}%`;
        assert.ok(
          share - floor < EXTRA_CPU_SHARE && share < IDLE_CPU_SHARE,
          `the daemon used ${percent(share)} of a core while a run slept on 8,000 files, ` +
            `${percent(floor)} while one slept on none`,
        );
      },
    );

    await t.step("a CPU-burning DuckDB query ends with its run, engine and all", async () => {
      const res = await attack(d, "duck_burn", { what: "cpu" });
      assertFailed(res, "timeout", "timed_out");
      // The engine is gone within moments, and nothing of the daemon's keeps a core busy.
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      assertEquals(await engines(d.process.pid), []);
      const before = await processUsage(d.process.pid);
      await new Promise((resolve) => setTimeout(resolve, 2_000));
      const share = ((await processUsage(d.process.pid)).cpuS - before.cpuS) / 2;
      assert.ok(share < IDLE_CPU_SHARE, `the daemon used ${(share * 100).toFixed(0)}% of a core`);
    });

    await t.step("a memory-hungry DuckDB aggregate is held to the run's memory", async () => {
      const res = await attack(d, "duck_burn", { what: "memory" });
      assertEquals(res.status === "success", false, JSON.stringify(res.result));
      assert.ok(
        ["memory_limit", "exception", "timeout"].includes(res.error.kind),
        JSON.stringify(res.error),
      );
      if (res.error.kind === "exception") assertMatch(res.error.message, /Out of Memory|memory/i);
      assert.ok(res.sandbox.usage.memory_mb <= 512 + 64, JSON.stringify(res.sandbox.usage));
    });

    await t.step(
      "a DuckDB result beyond the reply cap is refused, naming extractStream",
      async () => {
        const res = await attack(d, "duck_result", {});
        assertFailed(res, "exception");
        assertMatch(res.error.message, /extractStream/);
      },
    );

    await t.step("the secret nested in the deep values was stored nowhere", async () => {
      assertNoSecret(await databaseBytes(d), [secret], "the database file");
    });

    await t.step("the daemon still serves, and logged no stray error", async () => {
      await assertServing(d);
      assert.ok(!d.log().includes("internal_error"), d.log().slice(-2000));
    });
  } finally {
    await d.stop();
  }
});
