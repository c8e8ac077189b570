/** The agent's loop — deploy, run, inspect, fix — through the real CLI and daemon. */
import { assert, assertEquals, assertMatch } from "../helpers/assert.ts";
import { EXAMPLES, FIXTURES, startDaemon } from "../helpers/daemon.ts";

const SECRET = "s3cr3t-value-for-tests";

Deno.test("deploy, run, inspect, logs, errors, undeploy", async (t) => {
  const d = await startDaemon({ TEST_SECRET_TOKEN: SECRET });
  try {
    await t.step("hello example end to end", async () => {
      const dep = await d.tau("deploy", `${EXAMPLES}hello_pipeline.ts`);
      assertEquals(dep.code, 0, dep.stdout);
      assertEquals(dep.json.deployed, "hello_world");
      assertEquals(dep.json.version, 1);
      const run = await d.tau("run", "hello_world", "--params", '{"greeting":"hi"}');
      assertEquals(run.code, 0);
      assertEquals(run.json.status, "success");
      assertEquals(run.json.result, { records_processed: 2, greeting: "hi" });
      assertEquals(run.json.steps.map((s: { name: string }) => s.name), ["extract", "transform"]);
      assertEquals(run.json.steps[1].rows_in, 2);
      assertEquals(run.json.steps[1].metadata, { names: ["ALICE", "BOB"] });
      const inspect = await d.tau("inspect", "hello_world", "--last-run");
      assertEquals(inspect.json.run_id, run.json.run_id);
      assertEquals(inspect.json.version, 1);
      for (
        const key of [
          "trigger",
          "params",
          "attempt",
          "started_at",
          "finished_at",
          "duration_ms",
          "permissions",
          "logs",
        ]
      ) {
        assert.ok(key in inspect.json, `inspect has ${key}`);
      }
      const byId = await d.tau("inspect", "hello_world", "--run", run.json.run_id);
      assertEquals(byId.json.run_id, run.json.run_id);
    });

    await t.step("redeploy: same code is unchanged, new code is a new version", async () => {
      const again = await d.tau("deploy", `${EXAMPLES}hello_pipeline.ts`);
      assertEquals(again.json.unchanged, true);
      assertEquals(again.json.version, 1);
      const renamed = await d.tau(
        "deploy",
        `${EXAMPLES}hello_pipeline.ts`,
        "--name",
        "hello_two",
        "--schedule",
        "0 6 * * *",
      );
      assertEquals(renamed.json.deployed, "hello_two");
      assertEquals(renamed.json.schedule, "0 6 * * *");
      const show = await d.tau("show", "hello_two");
      assertEquals(show.json.schedule, "0 6 * * *");
      assertEquals(show.json.permissions.net, []);
      assertEquals(show.json.permissions.run, false);
      assert.ok(show.json.permissions.flags.includes("--no-prompt"));
      const code = await d.tau("code", "hello_two");
      assertEquals(code.json.code, await Deno.readTextFile(`${EXAMPLES}hello_pipeline.ts`));
    });

    await t.step("list and runs", async () => {
      const list = await d.tau("list");
      assertEquals(list.json.pipelines.map((p: { name: string }) => p.name).sort(), [
        "hello_two",
        "hello_world",
      ]);
      const hello = list.json.pipelines.find((p: { name: string }) => p.name === "hello_world");
      assertEquals(hello.last_run.status, "success");
      await d.tau("run", "hello_world");
      const runs = await d.tau("runs", "hello_world", "--last", "1");
      assertEquals(runs.json.runs.length, 1);
      const all = await d.tau("runs", "hello_world");
      assertEquals(all.json.runs.length, 2);
    });

    await t.step("secrets: readable when declared, redacted from everything stored", async () => {
      await d.deploy("ok_pipeline.ts");
      const run = await d.tau("run", "ok_pipeline");
      assertEquals(run.json.status, "success", run.stdout);
      assert.ok(!run.stdout.includes(SECRET), "secret leaked into the run record");
      assertEquals(run.json.result.echo, "[REDACTED:TEST_SECRET_TOKEN]");
      assertEquals(run.json.permissions.env, ["TEST_SECRET_TOKEN"]);
      const logs = await d.tau("logs", "ok_pipeline");
      assert.ok(!logs.stdout.includes(SECRET));
      assert.ok(
        logs.json.logs.some((l: { message: string }) =>
          l.message.includes("[REDACTED:TEST_SECRET_TOKEN]")
        ),
      );
      const db = await Deno.readFile(`${d.home}/tau.db`);
      assert.ok(
        !new TextDecoder().decode(db).includes(SECRET),
        "secret found in the database file",
      );
    });

    await t.step("an undeclared secret is a clear error", async () => {
      await d.deploy("undeclared_secret.ts");
      const run = await d.tau("run", "undeclared_secret");
      assertEquals(run.json.status, "failed");
      assertEquals(run.json.error.kind, "undeclared_secret");
      assertMatch(run.json.error.message, /TEST_SECRET_TOKEN/);
    });

    await t.step("a failing step names the step and the line", async () => {
      await d.deploy("failing_step.ts");
      const run = await d.tau("run", "failing_step");
      assertEquals(run.code, 1, "a waited run that failed exits 1, printing its record");
      assertEquals(run.json.status, "failed");
      assertEquals(run.json.error.kind, "exception");
      assertEquals(run.json.error.step, "transform");
      assertEquals(run.json.error.location, { file: "failing_step.ts", line: 9, column: 18 });
      assertEquals(run.json.steps.map((s: { status: string }) => s.status), ["success", "failed"]);
      assertEquals(run.json.steps[0].rows_out, 5);
      const errors = await d.tau("errors", "--limit", "5");
      assert.ok(
        errors.json.errors.some((e: { pipeline: string }) => e.pipeline === "failing_step"),
      );
    });

    await t.step("retries: every attempt recorded", async () => {
      await d.deploy("retry_then_fail.ts");
      const run = await d.tau("run", "retry_then_fail");
      assertEquals(run.json.status, "failed");
      assertEquals(run.json.attempt, 3);
      assertEquals(run.json.attempts.map((a: { status: string }) => a.status), [
        "failed",
        "failed",
        "failed",
      ]);
      assertEquals(run.json.error.message, "attempt 3 failed");
      assert.ok(run.json.logs.some((l: { message: string }) => /retrying in/.test(l.message)));
    });

    await t.step("--no-wait then cancel", async () => {
      await d.deploy("sleepy.ts");
      const started = await d.tau("run", "sleepy", "--no-wait");
      assert.ok(["queued", "running"].includes(started.json.status));
      await new Promise((r) => setTimeout(r, 300));
      const cancelled = await d.tau("cancel", started.json.run_id);
      assertEquals(cancelled.json.status, "cancelled");
      const again = await d.tau("cancel", started.json.run_id);
      assertEquals(again.code, 1);
      assertEquals(again.json.error.code, "conflict");
    });

    await t.step("undeploy", async () => {
      const res = await d.tau("undeploy", "hello_two");
      assertEquals(res.json.undeployed, "hello_two");
      const show = await d.tau("show", "hello_two");
      assertEquals(show.code, 1);
      assertEquals(show.json.error.code, "not_found");
    });

    await t.step("status and version", async () => {
      const status = await d.tau("status");
      assertEquals(status.json.status, "ok");
      assertEquals(status.json.sandbox.layers.deno_permissions, true);
      assert.ok(status.json.pipelines >= 1);
      const version = await d.tau("version");
      assertEquals(typeof version.json.tau, "string");
    });
  } finally {
    await d.stop();
  }
});

Deno.test("bad input gets a JSON error and a non-zero exit", async (t) => {
  const d = await startDaemon();
  try {
    const cases: [string, string[], string, RegExp?][] = [
      ["unknown pipeline", ["run", "nope"], "not_found"],
      ["malformed params", ["run", "nope", "--params", "{oops"], "invalid_params"],
      ["params not an object", ["run", "nope", "--params", "[1]"], "invalid_params"],
      [
        "not a pipeline",
        ["deploy", `${FIXTURES}not_a_pipeline.ts`],
        "invalid_pipeline",
        /not a pipeline/,
      ],
      ["missing file", ["deploy", "/nonexistent.ts"], "invalid_params"],
      ["bad cron", ["deploy", `${FIXTURES}bad_cron.ts`], "invalid_pipeline", /schedule/],
      ["bad timeout", ["deploy", `${FIXTURES}bad_timeout.ts`], "invalid_pipeline", /timeout/],
      ["unknown key", ["deploy", `${FIXTURES}unknown_key.ts`], "invalid_pipeline", /secret/],
      ["type error", ["deploy", `${FIXTURES}type_error.ts`], "invalid_pipeline", /type-check/],
      [
        "bad --schedule",
        ["deploy", `${EXAMPLES}hello_pipeline.ts`, "--schedule", "every day"],
        "invalid_params",
      ],
      ["unknown command", ["frobnicate"], "invalid_params"],
      ["unknown flag", ["list", "--bogus"], "invalid_params"],
      ["inspect without a run", ["inspect", "nope", "--last-run"], "not_found"],
      ["cancel unknown run", ["cancel", "run_nope"], "not_found"],
    ];
    for (const [label, args, code, message] of cases) {
      await t.step(label, async () => {
        const res = await d.tau(...args);
        assertEquals(res.code, 1, res.stdout);
        assertEquals(res.json.error.code, code, res.stdout);
        assertEquals(typeof res.json.error.message, "string");
        if (message) assertMatch(res.json.error.message, message);
      });
    }

    await t.step("two different files with one name", async () => {
      const dir = await Deno.makeTempDir();
      const code = await Deno.readTextFile(`${EXAMPLES}hello_pipeline.ts`);
      await Deno.writeTextFile(`${dir}/a.ts`, code);
      await Deno.writeTextFile(`${dir}/b.ts`, code.replace("My first pipeline", "Another"));
      assertEquals((await d.tau("deploy", `${dir}/a.ts`)).code, 0);
      const clash = await d.tau("deploy", `${dir}/b.ts`);
      assertEquals(clash.code, 1);
      assertEquals(clash.json.error.code, "name_conflict");
      assertMatch(clash.json.error.hint, /--force|--name/);
      const forced = await d.tau("deploy", `${dir}/b.ts`, "--force");
      assertEquals(forced.json.version, 2);
      await Deno.remove(dir, { recursive: true });
    });

    await t.step("a wrong API key is refused", async () => {
      const { runCli } = await import("../helpers/daemon.ts");
      const res = await runCli(["list"], { ...d.env, TAU_API_KEY: "tau_sk_wrong" });
      assertEquals(res.code, 1);
      assertEquals(res.json.error.code, "unauthorized");
      const raw = await fetch(`http://127.0.0.1:${d.port}/api/v1/pipelines`);
      assertEquals(raw.status, 401);
      assertEquals((await raw.json()).error.code, "unauthorized");
    });

    await t.step("the daemon unreachable is a JSON error too", async () => {
      const { runCli } = await import("../helpers/daemon.ts");
      const res = await runCli(["list"], { ...d.env, TAU_HOST: "http://127.0.0.1:1" });
      assertEquals(res.code, 1);
      assertEquals(res.json.error.code, "daemon_unreachable");
    });
  } finally {
    await d.stop();
  }
});

Deno.test("a daemon killed mid-run leaves every run truthful and loses nothing", async () => {
  const d = await startDaemon();
  try {
    await d.deploy("sleepy.ts");
    await d.deploy("ok_pipeline.ts");
    const done = await d.tau("run", "ok_pipeline");
    assertEquals(done.json.status, "failed"); // TEST_SECRET_TOKEN is not set for this daemon
    const running = await d.tau("run", "sleepy", "--no-wait");
    const runId = running.json.run_id;
    for (let i = 0; i < 100; i++) {
      const r = await d.tau("inspect", "sleepy", "--run", runId);
      if (r.json.status === "running") break;
      await new Promise((r) => setTimeout(r, 50));
    }
    const folders = () => [...Deno.readDirSync(`${d.home}/runs`)].map((e) => e.name);
    const left = folders();
    assert.ok(left.length > 0, "the running child has its folder");
    await d.kill();
    await d.restart();
    // The dead daemon's run folders are gone (a warm child of the new one may have its own).
    assertEquals(folders().filter((name) => left.includes(name)), []);
    const after = await d.tau("inspect", "sleepy", "--run", runId);
    assertEquals(after.json.status, "failed");
    assertEquals(after.json.error.kind, "daemon_restart");
    const finished = await d.tau("inspect", "ok_pipeline", "--run", done.json.run_id);
    assertEquals(finished.json.status, "failed");
    assertEquals(finished.json.error.kind, "secret_not_set");
    const list = await d.tau("list");
    assertEquals(list.json.pipelines.map((p: { name: string }) => p.name).sort(), [
      "ok_pipeline",
      "sleepy",
    ]);
  } finally {
    await d.stop();
  }
});
