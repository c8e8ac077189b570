/**
 * What a run record says when a run is stopped or runs steps at once: open steps are closed
 * with the run's status, the error names the step, logs carry their own step, and ctx.signal
 * tells the pipeline it is being stopped. Also: subprocesses and the drivers' env probes.
 */
import { assert, assertEquals, assertMatch } from "../helpers/assert.ts";
import { startDaemon, type TestDaemon } from "../helpers/daemon.ts";

interface Step {
  name: string;
  status: string;
  finished_at: string | null;
  error: { kind: string } | null;
}
interface Log {
  level: string;
  step: string | null;
  message: string;
}

/** Waits until the run has logged `text` `times` times (over all its attempts). */
async function waitForLog(
  d: TestDaemon,
  pipeline: string,
  runId: string,
  text: string,
  times = 1,
) {
  for (let i = 0; i < 600; i++) {
    const run = await d.tau("inspect", pipeline, "--run", runId);
    const seen = (run.json.logs ?? []).filter((l: Log) => l.message.includes(text)).length;
    if (seen >= times) return;
    assertEquals(run.json.status === "queued" || run.json.status === "running", true, run.stdout);
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`run ${runId} never logged ${text}`);
}

Deno.test("stopped and concurrent runs tell the truth about their steps", async (t) => {
  const d = await startDaemon();
  try {
    await t.step("a timeout closes the open steps as timed_out and names the step", async () => {
      await d.deploy("step_timeout.ts");
      const run = (await d.tau("run", "step_timeout")).json;
      assertEquals(run.status, "timed_out", JSON.stringify(run.error));
      assertEquals(run.error.kind, "timeout");
      assertEquals(run.error.step, "wait");
      const steps = Object.fromEntries(run.steps.map((s: Step) => [s.name, s]));
      assertEquals(steps.extract.status, "success");
      for (const name of ["load", "wait"]) {
        assertEquals(steps[name].status, "timed_out", JSON.stringify(steps[name]));
        assert.ok(steps[name].finished_at !== null);
        assertEquals(steps[name].error.kind, "timeout");
      }
      // ctx.signal aborted before the kill, with a reason that says why.
      const told = run.logs.find((l: Log) => l.message.startsWith("told to stop"));
      assertEquals(
        told?.message,
        "told to stop: TimeoutError: The run is about to reach its timeout",
      );
      assertEquals(told?.step, "wait");
    });

    await t.step("a cancelled run sees ctx.signal abort before it is killed", async () => {
      await d.deploy("await_signal.ts");
      const started = await d.tau("run", "await_signal", "--no-wait");
      const runId = started.json.run_id;
      await waitForLog(d, "await_signal", runId, "waiting");
      const cancelled = await d.tau("cancel", runId);
      assertEquals(cancelled.json.status, "cancelled", cancelled.stdout);
      const run = (await d.tau("inspect", "await_signal", "--run", runId)).json;
      assertEquals(run.status, "cancelled");
      assertEquals(run.error.kind, "cancelled");
      const aborted = run.logs.find((l: Log) => l.message.startsWith("aborted"));
      assertEquals(aborted?.message, "aborted: AbortError: The run was cancelled");
      assertEquals(aborted?.step, "wait");
      // The step ended as the pipeline reported it: it threw the abort reason.
      assertEquals(run.steps.map((s: Step) => [s.name, s.status]), [["wait", "failed"]]);
    });

    await t.step("logs of concurrent steps carry their own step", async () => {
      await d.deploy("concurrent_steps.ts");
      const run = (await d.tau("run", "concurrent_steps")).json;
      assertEquals(run.status, "success", JSON.stringify(run.error));
      const logs: Log[] = run.logs.filter((l: Log) => l.level !== "system");
      assertEquals(logs.length, 2 * (8 + 4) + 1, JSON.stringify(logs));
      for (const log of logs) {
        const written = log.message.split(" ")[0]!.replace(/:$/, "");
        assertEquals(log.step ?? "none", written, JSON.stringify(log));
      }
      // The steps really interleaved: a line of each between two lines of the other.
      const order = logs.map((l) => l.step);
      const between = (a: string, b: string) =>
        order.some((s, i) =>
          s === a && order.slice(i + 1).includes(b) &&
          order.slice(order.indexOf(b, i + 1)).includes(a)
        );
      assert.ok(between("left", "right") && between("right", "left"), order.join(","));
      assertEquals(
        run.steps.map((s: Step) => s.status),
        ["success", "success", "success", "success"],
      );
    });

    await t.step("a bare command name is a run denial, not a missing tool", async () => {
      await d.deploy("hostile/spawn_bare.ts");
      const run = (await d.tau("run", "spawn_bare")).json;
      assertEquals(run.status, "failed");
      assertEquals(run.error.kind, "permission_denied", JSON.stringify(run.error));
      assertEquals(run.error.permission, "run");
      assertEquals(run.error.target, "id");
      assertMatch(run.error.message, /may not start subprocesses/);
      assertMatch(run.error.hint, /never start or signal processes/);
      assertEquals(run.error.location, { file: "spawn_bare.ts", line: 5, column: 44 });
    });

    await t.step("the drivers' own env probes are not reported as reaching outside", async () => {
      await d.deploy("driver_probes.ts");
      const run = (await d.tau("run", "driver_probes")).json;
      assertEquals(run.status, "success", JSON.stringify(run.error));
      assertEquals(run.result, { pg: 1, mysql: 2 });
      assertEquals(run.access.audit, "complete");
      assertEquals(run.access.outside, [], JSON.stringify(run.access));
      assertEquals(run.access.net.every((g: { used: boolean }) => g.used), true);
    });
  } finally {
    await d.stop();
  }
});

Deno.test("a draining daemon aborts ctx.signal before it gives the run back", async () => {
  const d = await startDaemon({}, { config: '[daemon]\ndrain_grace = "0s"\n' });
  try {
    await d.deploy("await_signal.ts");
    const runId = (await d.tau("run", "await_signal", "--no-wait")).json.run_id;
    await waitForLog(d, "await_signal", runId, "waiting");
    d.process.kill("SIGTERM");
    await d.process.status;
    await d.restart(); // the run was given back to the queue, whole: it runs again
    await waitForLog(d, "await_signal", runId, "shutting down");
    // Cancel the second attempt only once it waits: earlier, it would never reach its step.
    await waitForLog(d, "await_signal", runId, "waiting", 2);
    const cancelled = await d.tau("cancel", runId);
    assertEquals(cancelled.json.status, "cancelled", cancelled.stdout);
    const run = (await d.tau("inspect", "await_signal", "--run", runId)).json;
    const aborted = run.logs.filter((l: Log) => l.message.startsWith("aborted")).map((l: Log) =>
      l.message
    );
    assertEquals(aborted, [
      "aborted: AbortError: The daemon is shutting down; the run will run again",
      "aborted: AbortError: The run was cancelled",
    ]);
  } finally {
    await d.stop();
  }
});
