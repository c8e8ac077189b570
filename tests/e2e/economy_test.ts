/**
 * Economy of output through the real CLI and daemon: each error stored and printed once per
 * attempt, `--brief`, resolved errors, logs that end with the error, `run --downstream` that
 * returns every run it triggered, and the worker in run summaries.
 */
import { assert, assertEquals, assertMatch } from "../helpers/assert.ts";
import { cleanEnv, FIXTURES, startDaemon, TAU } from "../helpers/daemon.ts";

/** How many times `part` occurs in `text`. */
const occurrences = (text: string, part: string) => text.split(part).length - 1;

Deno.test("economy of output", async (t) => {
  const d = await startDaemon();
  const deployAs = async (fixture: string, name: string) => {
    const out = await d.tau("deploy", `${FIXTURES}${fixture}`, "--name", name);
    assertEquals(out.code, 0, out.stdout);
  };
  try {
    await t.step("a failed materialization stores each error whole once per attempt", async () => {
      await d.deploy("failing_materialize.ts");
      const run = await d.tau("run", "failing_materialize");
      assertEquals(run.json.status, "failed", run.stdout);
      const inspect = await d.tau("inspect", "failing_materialize");
      const { error, attempts, steps } = inspect.json;
      assertEquals([error.kind, error.step], ["exception", "materialize"]);
      assertMatch(error.stack, /at /);
      // Attempt 1's error is its own (whole); attempt 2's is the run's error, referred to.
      assertEquals(attempts.length, 2);
      assertEquals(attempts[0].error.ref, undefined);
      assertMatch(attempts[0].error.stack, /at /);
      assertEquals(attempts[1].error, {
        kind: "exception",
        message: error.message.split("\n")[0],
        ref: "error",
      });
      const failed = steps.find((s: { name: string }) => s.name === "materialize");
      assertEquals(failed.error, attempts[1].error);
      // What tau run printed is the same record, final when the run is.
      assertEquals([run.json.attempts, run.json.steps], [attempts, steps]);
      // The whole stack of the final attempt is printed once.
      assertEquals(occurrences(inspect.stdout, JSON.stringify(error.stack)), 1);
      assertEquals(occurrences(inspect.stdout, '"stack"'), 2, "one stack per attempt");
    });

    await t.step("--brief: status, error, one line per step, result", async () => {
      const brief = await d.tau("inspect", "failing_materialize", "--brief");
      assertEquals(brief.code, 0, brief.stdout);
      assertEquals(Object.keys(brief.json.error), ["kind", "message", "location", "hint"]);
      assertEquals(brief.json.error.location.file, "failing_materialize.ts");
      assertEquals(brief.json.steps.length, 2);
      assertMatch(brief.json.steps[0], /^seed: success in \d+ ms$/);
      assertMatch(brief.json.steps[1], /^materialize: failed in \d+ ms: exception: analytics\.p: /);
      assertEquals(brief.json.result, null);
      assert(!("permissions" in brief.json) && !("logs" in brief.json), brief.stdout);
      assert(brief.stdout.length < 2000, `brief is short: ${brief.stdout.length} bytes`);

      await deployAs("fail_on_param.ts", "flaky");
      const ok = await d.tau("run", "flaky");
      assertEquals(ok.json.status, "success", ok.stdout);
      const byId = await d.tau("inspect", "flaky", "--run", ok.json.run_id, "--brief");
      assertEquals(byId.json.steps, [byId.json.steps[0]]);
      assertMatch(byId.json.steps[0], /^work: success in \d+ ms, 3 rows out$/);
      assertEquals([byId.json.error, byId.json.result], [null, { rows: 3 }]);

      const runs = await d.tau("runs", "failing_materialize", "--brief");
      assertEquals(runs.json.count, 1);
      assertEquals(runs.json.runs[0].steps, brief.json.steps);
      const errors = await d.tau("errors", "--brief");
      const entry = errors.json.errors[0];
      assertEquals([entry.pipeline, entry.resolved], ["failing_materialize", false]);
      assertEquals(entry.steps, brief.json.steps);
      assertEquals(entry.error, brief.json.error);
    });

    await t.step(
      "tau errors marks what a later success resolved; --unresolved hides it",
      async () => {
        const failed = await d.tau("run", "flaky", "--params", '{"fail": true}');
        assertEquals(failed.json.status, "failed", failed.stdout);
        const names = async (...flags: string[]) =>
          ((await d.tau("errors", ...flags)).json.errors as { run_id: string; resolved: boolean }[])
            .map((e) => [e.run_id, e.resolved]);
        const before = await names();
        assertEquals(before[0], [failed.json.run_id, false]);
        const fixed = await d.tau("run", "flaky");
        assertEquals(fixed.json.status, "success");
        const after = await names();
        assertEquals(after[0], [failed.json.run_id, true]);
        assertEquals(
          (await names("--unresolved")).map(([id]) => id).includes(failed.json.run_id),
          false,
        );
        assert((await names("--unresolved")).length > 0, "failing_materialize is still unresolved");
      },
    );

    await t.step("tau logs of a failed run ends with its error", async () => {
      const failed = await d.tau("run", "flaky", "--params", '{"fail": true}');
      const logs = await d.tau("logs", "flaky");
      assertEquals(logs.json.run_id, failed.json.run_id);
      assertEquals(Object.keys(logs.json).at(-1), "error");
      assertEquals(logs.json.error.kind, "exception");
      assertMatch(logs.json.error.message, /flaky fails on purpose/);
      // --follow prints JSON lines (runCli wants one document): its summary line is the last.
      const followed = await new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", TAU, "logs", "flaky", "--follow"],
        clearEnv: true,
        env: cleanEnv(d.env),
        stdout: "piped",
      }).output();
      const lines = new TextDecoder().decode(followed.stdout).trim().split("\n");
      const last = JSON.parse(lines.at(-1) as string);
      assertEquals([last.status, last.error.kind], ["failed", "exception"]);
      const ok = await d.tau("run", "flaky");
      assertEquals("error" in (await d.tau("logs", "flaky", "--run", ok.json.run_id)).json, false);
    });

    await t.step("run summaries carry the worker", async () => {
      const runs = await d.tau("runs", "flaky", "--last", "1");
      const inspect = await d.tau("inspect", "flaky");
      assertMatch(runs.json.runs[0].worker_id, /./);
      assertEquals(runs.json.runs[0].worker_id, inspect.json.worker_id);
    });

    await t.step("run --downstream waits for the whole DAG and returns every run", async () => {
      // root -> ok_child -> grandchild, root -> bad_child (fails) -> after_bad (skipped)
      for (const name of ["root", "ok_child", "grandchild", "bad_child", "after_bad"]) {
        await deployAs("fail_on_param.ts", name);
      }
      const depends = async (name: string, on: string) =>
        assertEquals((await d.tau("depends", name, "--on", on)).code, 0);
      await depends("ok_child", "root");
      await depends("grandchild", "ok_child");
      await depends("bad_child", "root");
      await depends("after_bad", "bad_child");
      const run = await d.tau("run", "root", "--downstream");
      assertEquals(run.code, 1, run.stdout);
      assertEquals(run.json.status, "success");
      const runs = run.json.runs as { pipeline: string; status: string }[];
      const statuses = Object.fromEntries(runs.map((r) => [r.pipeline, r.status]));
      assertEquals(statuses, {
        root: "success",
        ok_child: "success",
        grandchild: "success",
        bad_child: "failed",
        after_bad: "skipped",
      });
      assertEquals(run.json.runs[0].run_id, run.json.run_id, "the run itself comes first");
      assert(
        run.json.runs.every((r: { logical_run: string }) => r.logical_run === run.json.logical_run),
      );

      const good = await d.tau("run", "ok_child", "--downstream");
      assertEquals(good.code, 0, good.stdout);
      assertEquals(good.json.runs.map((r: { pipeline: string }) => r.pipeline), [
        "ok_child",
        "grandchild",
      ]);
      assert(good.json.runs.every((r: { status: string }) => r.status === "success"));
    });
  } finally {
    await d.stop();
  }
});
