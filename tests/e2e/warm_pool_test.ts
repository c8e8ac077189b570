/**
 * The warm pool with a real daemon and real sandboxed children: a run of a recently run version
 * starts on a child started ahead, which holds only its pipeline's permissions and secrets, and
 * nothing one run leaves behind reaches the next; a redeploy discards the stale child, and so
 * does a stop. (The pool's bookkeeping — keys, budget, expiry — is src/runner/warm_pool_test.ts.)
 */
import { assert, assertEquals } from "../helpers/assert.ts";
import { FIXTURES, startDaemon, type TestDaemon } from "../helpers/daemon.ts";

interface WarmChild {
  pipeline: string;
  version: number;
  pid: number | null;
  memory_mb: number;
}

async function warmChildren(d: TestDaemon): Promise<WarmChild[]> {
  const status = await d.tau("status");
  assertEquals(status.code, 0, status.stdout);
  return status.json.sandbox.warm_pool.children;
}

/** Waits until the pool holds a started child for this version, and returns it. */
async function waitForWarm(d: TestDaemon, version: number): Promise<WarmChild> {
  for (let i = 0; i < 200; i++) {
    const found = (await warmChildren(d)).find((c) => c.version === version && c.pid !== null);
    if (found) return found;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const pool = JSON.stringify((await d.tau("status")).json.sandbox.warm_pool);
  throw new Error(`no warm child for version ${version}: ${pool}\n${d.log().slice(-2000)}`);
}

function processAlive(pid: number): boolean {
  try {
    Deno.statSync(`/proc/${pid}`);
    return true;
  } catch {
    return false;
  }
}

async function waitGone(pid: number) {
  for (let i = 0; i < 200 && processAlive(pid); i++) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  assertEquals(processAlive(pid), false, `process ${pid} is still there`);
}

Deno.test("warm children: one run each, nothing crosses runs, discarded on redeploy and stop", async (t) => {
  const d = await startDaemon({ WARM_SECRET: "warm-secret-value", UNDECLARED_SECRET: "nope" });
  let lastPid = 0;
  try {
    await d.deploy("warm_state.ts");

    await t.step("the first two runs start cold and leave a child for the next", async () => {
      for (let i = 0; i < 2; i++) {
        const run = (await d.tau("run", "warm_state")).json;
        assertEquals(run.status, "success", JSON.stringify(run.error));
        assertEquals(run.sandbox.warm, false);
        assertEquals(run.result.seen, { file: false, storage: null, global: null });
      }
      let child = await waitForWarm(d, 1);
      assertEquals(child.pipeline, "warm_state");
      // Measured from /proc: a child caught in its first instant (still exec'ing through
      // prlimit and bubblewrap) may hold almost nothing yet; it is measured again each status.
      for (let i = 0; i < 100 && child.memory_mb === 0; i++) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        child = await waitForWarm(d, 1);
      }
      assert.ok(child.memory_mb > 0, JSON.stringify(child));
    });

    await t.step("a waiting child holds its declared secret and no other", async () => {
      const child = await waitForWarm(d, 1);
      const environ = (await Deno.readTextFile(`/proc/${child.pid}/environ`)).split("\0");
      assert.ok(environ.includes("WARM_SECRET=warm-secret-value"), environ.join(" "));
      assertEquals(environ.filter((e) => e.startsWith("UNDECLARED_SECRET=")), []);
    });

    await t.step(
      "the next runs start warm, each on a child of its own, with nothing left behind",
      async () => {
        const pids = new Set<number>();
        for (let i = 0; i < 3; i++) {
          const child = await waitForWarm(d, 1);
          const run = (await d.tau("run", "warm_state")).json;
          assertEquals(run.status, "success", JSON.stringify(run.error));
          assertEquals(run.sandbox.warm, true);
          assertEquals(run.result.seen, { file: false, storage: null, global: null });
          assertEquals(run.result.secret_length, "warm-secret-value".length);
          const record = (await d.tau("inspect", "warm_state", "--run", run.run_id)).json;
          assertEquals(record.sandbox.warm, true);
          pids.add(child.pid!);
          await waitGone(child.pid!); // served one run, then it was done
        }
        assertEquals(pids.size, 3);
        const pool = (await d.tau("status")).json.sandbox.warm_pool;
        assert.ok(pool.hits >= 3, JSON.stringify(pool));
        assertEquals(pool.budget_mb, 256);
      },
    );

    await t.step(
      "a redeploy discards the stale child; the new version runs its own code",
      async () => {
        const stale = await waitForWarm(d, 1);
        const file = `${d.home}/warm_state.ts`;
        const code = await Deno.readTextFile(`${FIXTURES}warm_state.ts`);
        await Deno.writeTextFile(
          file,
          code.replace("secret_length:", "version: 2, secret_length:"),
        );
        const deployed = await d.tau("deploy", file, "--force");
        assertEquals(deployed.code, 0, deployed.stdout);
        await waitGone(stale.pid!);
        for (let i = 0; i < 2; i++) {
          const run = (await d.tau("run", "warm_state")).json;
          assertEquals([run.status, run.version, run.result.version], ["success", 2, 2]);
          assertEquals(run.sandbox.warm, false);
        }
        lastPid = (await waitForWarm(d, 2)).pid!;
      },
    );
  } finally {
    await d.stop();
  }
  // A stopping daemon takes its waiting children with it.
  await waitGone(lastPid);
});
