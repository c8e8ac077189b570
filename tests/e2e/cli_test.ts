/**
 * The real `tau` against a real daemon: exit codes that tell the truth (a waited run that did
 * not succeed exits 1 and still prints its record), inspect saying which run it chose, and the
 * errors a stopped or absent daemon gives.
 */
import { assert, assertEquals, assertMatch } from "../helpers/assert.ts";
import { EXAMPLES, runCli, startDaemon } from "../helpers/daemon.ts";

function closedPort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

Deno.test("tau exit codes and selections, through a real daemon", async (t) => {
  const config = `[connections.down]\ntype = "postgres"\n` +
    `dsn = "postgres://postgres@127.0.0.1:${closedPort()}/test"\n`;
  const d = await startDaemon({}, { config });
  const dir = await Deno.makeTempDir({ prefix: "tau_cli_" });
  try {
    await t.step("a waited run that fails exits 1 and prints the run record", async () => {
      await d.deploy("failing_step.ts");
      const run = await d.tau("run", "failing_step");
      assertEquals(run.code, 1, run.stdout);
      assertEquals(run.json.status, "failed");
      assertEquals(run.json.error.kind, "exception");
      assert.ok(run.json.run_id);
    });

    await t.step("--no-wait exits 0 once the run is queued, whatever it becomes", async () => {
      const queued = await d.tau("run", "failing_step", "--no-wait");
      assertEquals(queued.code, 0, queued.stdout);
      assert.ok(["queued", "running"].includes(queued.json.status), queued.json.status);
    });

    await t.step("a waited run that times out exits 1", async () => {
      const file = `${dir}/too_slow.ts`;
      await Deno.writeTextFile(
        file,
        `import { pipeline } from "tau";\n\nexport default pipeline({ name: "too_slow", ` +
          `timeout: "1s" }, async () => {\n  await new Promise((r) => setTimeout(r, 30_000));\n});\n`,
      );
      assertEquals((await d.tau("deploy", file)).code, 0);
      const run = await d.tau("run", "too_slow");
      assertEquals(run.code, 1, run.stdout);
      assertEquals(run.json.status, "timed_out");
    });

    await t.step("a run that succeeds exits 0; inspect says which run it chose", async () => {
      assertEquals((await d.tau("deploy", `${EXAMPLES}hello_pipeline.ts`)).code, 0);
      const run = await d.tau("run", "hello_world");
      assertEquals([run.code, run.json.status], [0, "success"], run.stdout);
      const last = await d.tau("inspect", "hello_world");
      assertEquals([last.code, last.json.selected, last.json.run_id], [
        0,
        "last_run",
        run.json.run_id,
      ]);
      const byId = await d.tau("inspect", "hello_world", "--run", run.json.run_id);
      assertEquals([byId.json.selected, byId.json.run_id], ["run_id", run.json.run_id]);

      const cancel = await d.tau("cancel", run.json.run_id);
      assertEquals([cancel.code, cancel.json.error.code], [1, "conflict"], cancel.stdout);
      assertEquals(
        cancel.json.error.hint,
        `nothing to cancel; see how it ended with tau inspect hello_world --run ${run.json.run_id}`,
      );
    });

    await t.step("a connection test that cannot connect exits 1 with its result", async () => {
      const test = await d.tau("connections", "--test", "down");
      assertEquals(test.code, 1, test.stdout);
      assertEquals(test.json.ok, false);
      assert.ok(test.json.error, test.stdout);
      assertEquals((await d.tau("connections")).code, 0);
    });

    await t.step("flag mistakes are refused before the daemon is asked", async () => {
      const typo = await d.tau("run", "hello_world", "--param", "{}");
      assertEquals(typo.code, 1);
      assertEquals(typo.json.error.message, "Unknown flag --param; did you mean --params?");
      const help = await d.tau("run", "--help");
      assertEquals([help.code, help.json.command], [0, "run"]);
    });
  } finally {
    await d.stop();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("with no daemon in its TAU_HOME the CLI says so, and a stopped one is stale", async () => {
  const home = await Deno.makeTempDir({ prefix: "tau_cli_home_" });
  try {
    const none = await runCli(["status"], { TAU_HOME: home });
    assertEquals(none.code, 1);
    assertEquals(none.json.error.code, "daemon_unreachable", none.stdout);
    assertMatch(none.json.error.message, /taud\.json does not exist/);
    assertMatch(none.json.error.hint, /start the daemon with taud/);

    // What a daemon killed without cleaning up leaves behind: taud.json naming a dead pid.
    const port = closedPort();
    await Deno.writeTextFile(
      `${home}/taud.json`,
      JSON.stringify({ pid: 2 ** 30, host: "127.0.0.1", port, home, started_at: "" }),
    );
    const stale = await runCli(["list"], { TAU_HOME: home });
    assertEquals(stale.json.error.code, "daemon_unreachable", stale.stdout);
    assertMatch(
      stale.json.error.message,
      new RegExp(`127\\.0\\.0\\.1:${port}.*connection refused`),
    );
    assertMatch(stale.json.error.message, /stale/);
  } finally {
    await Deno.remove(home, { recursive: true });
  }
});
