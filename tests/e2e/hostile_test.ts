/**
 * Hostile pipelines against a real daemon: each attack must end as `permission_denied` (or be
 * refused at deploy, or contained), and the daemon must keep serving afterwards.
 */
import { assert, assertEquals, assertMatch } from "../helpers/assert.ts";
import { startDaemon, type TestDaemon } from "../helpers/daemon.ts";

/** The fixtures the steps run, deployed together before the first step. */
const FIXTURES = [
  "call_daemon",
  "dynamic_file",
  "dynamic_npm",
  "exit_early",
  "fetch_undeclared",
  "flood_output",
  "forged_protocol",
  "infinite_loop",
  "local_storage",
  "long_line",
  "read_env",
  "read_files",
  "spawn",
  "top_level_storage",
  "write_outside",
];
const deployed = new Set<string>();

async function runHostile(d: TestDaemon, fixture: string, params: Record<string, unknown> = {}) {
  if (!deployed.has(fixture)) {
    await d.deploy(`hostile/${fixture}.ts`);
    deployed.add(fixture);
  }
  const run = await d.tau("run", fixture, "--params", JSON.stringify(params));
  // The record is printed either way; a run that did not succeed exits 1.
  assertEquals(run.code, run.json.status === "success" ? 0 : 1, run.stdout);
  return run.json;
}

function assertDenied(run: { status: string; error: Record<string, unknown> }, permission: string) {
  assertEquals(run.status, "failed", JSON.stringify(run.error));
  assertEquals(run.error.kind, "permission_denied", JSON.stringify(run.error));
  assertEquals(run.error.permission, permission);
  assert.ok(typeof run.error.hint === "string" && run.error.hint.length > 0);
}

Deno.test("hostile pipelines are denied or contained while the daemon keeps serving", async (t) => {
  const d = await startDaemon({ HOSTILE_SECRET_IN_DAEMON_ENV: "daemon-only-value" });
  try {
    await d.deployAll(FIXTURES.map((fixture) => `hostile/${fixture}.ts`));
    FIXTURES.forEach((fixture) => deployed.add(fixture));

    await t.step("reading an undeclared env var", async () => {
      const run = await runHostile(d, "read_env");
      assertDenied(run, "env");
      assertEquals(run.error.target, "PATH");
      assertMatch(run.error.hint, /secrets: \["PATH"\]/);
    });

    await t.step("fetch to an undeclared host", async () => {
      const run = await runHostile(d, "fetch_undeclared");
      assertDenied(run, "net");
      assertEquals(run.error.target, "evil.example:443");
      assertEquals(run.error.location.file, "fetch_undeclared.ts");
      assertEquals(run.error.location.line, 4);
    });

    for (
      const path of ["/root/.ssh/id_rsa", "/etc/passwd", `${d.home}/tau.db`, `${d.home}/api_key`]
    ) {
      await t.step(`Deno.readTextFile(${path})`, async () => {
        const run = await runHostile(d, "read_files", { path });
        assertDenied(run, "read");
        assertEquals(run.error.target, path);
      });
    }

    for (const fixture of ["import_text", "import_relative", "import_remote"]) {
      await t.step(`static import refused at deploy: ${fixture}`, async () => {
        const res = await d.tau("deploy", `${Deno.cwd()}/tests/fixtures/hostile/${fixture}.ts`);
        assertEquals(res.code, 1, res.stdout);
        assertEquals(res.json.error.code, "invalid_pipeline");
        const list = await d.tau("list");
        assert.ok(!list.json.pipelines.some((p: { name: string }) => p.name === fixture));
      });
    }

    await t.step("top-level I/O at deploy runs with no permissions", async () => {
      const res = await d.tau("deploy", `${Deno.cwd()}/tests/fixtures/hostile/top_level_io.ts`);
      assertEquals(res.code, 1, res.stdout);
      assertEquals(res.json.error.code, "invalid_pipeline");
      assertMatch(res.json.error.message, /NotCapable|read access/);
    });

    await t.step("import('npm:' + name) at run time", async () => {
      // hono and smol-toml are locked and cached for Tau itself, but not approved for pipelines.
      for (const pkg of ["hono", "hono@4.13.19", "smol-toml@1.9.1", "left-pad"]) {
        const run = await runHostile(d, "dynamic_npm", { pkg });
        assertEquals(run.status, "failed", pkg);
        assertMatch(run.error.message, /npm|hono|smol-toml|left-pad/i);
        assert.ok(run.result === null);
      }
    });

    await t.step("dynamic import of a file outside the sandbox", async () => {
      const run = await runHostile(d, "dynamic_file", { path: "file:///etc/passwd" });
      assertDenied(run, "read");
    });

    await t.step("localStorage does not survive from one run to the next", async () => {
      const first = await runHostile(d, "local_storage");
      assertEquals(first.status, "success");
      const second = await d.tau("run", "local_storage");
      assertEquals(second.json.status, "success");
      assertEquals(second.json.result, { before: null });
    });

    await t.step("localStorage written while warming the caches does not reach a run", async () => {
      const first = await runHostile(d, "top_level_storage");
      assertEquals(first.result, { before: null });
      const second = await d.tau("run", "top_level_storage");
      assertEquals(second.json.result, { before: null });
    });

    await t.step("writing outside the scratch folder", async () => {
      const target = `${d.home}/pwned.txt`;
      const run = await runHostile(d, "write_outside", { path: target });
      assertDenied(run, "write");
      assert.ok(run.logs.some((l: { message: string }) => l.message.includes("scratch ok")));
      await assert.rejects(() => Deno.stat(target));
    });

    await t.step("spawning a subprocess", async () => {
      const run = await runHostile(d, "spawn");
      assertDenied(run, "run");
    });

    await t.step("calling the daemon's own API, even with localhost declared", async () => {
      const run = await runHostile(d, "call_daemon", { port: d.port });
      assertDenied(run, "net");
      assertEquals(run.error.target, `127.0.0.1:${d.port}`);
    });

    await t.step("calling the daemon's dashboard, even with localhost declared", async () => {
      const port = (await d.tau("status")).json.dashboard.port;
      assert.ok(port > 0 && port !== d.port, `the dashboard has a port of its own: ${port}`);
      const run = await runHostile(d, "call_daemon", { port });
      assertDenied(run, "net");
      assertEquals(run.error.target, `127.0.0.1:${port}`);
    });

    await t.step("an infinite loop is killed at its timeout", async () => {
      const run = await runHostile(d, "infinite_loop");
      assertEquals(run.status, "timed_out");
      assertEquals(run.error.kind, "timeout");
    });

    await t.step("forged protocol lines are kept as log text", async () => {
      const run = await runHostile(d, "forged_protocol");
      assertEquals(run.status, "failed");
      assertEquals(run.result, null);
      assertEquals(run.error.kind, "exception");
      assertEquals(run.error.message, "real failure");
      assertEquals(run.steps, []);
      const messages = run.logs.map((l: { message: string }) => l.message);
      assert.ok(messages.some((m: string) => m.includes('"value":"forged"')));
    });

    await t.step("megabytes of output end the run as output_limit", async () => {
      const run = await runHostile(d, "flood_output");
      assertEquals(run.status, "failed");
      assertEquals(run.error.kind, "output_limit");
    });

    await t.step("a single huge line is dropped, the run still succeeds", async () => {
      const run = await runHostile(d, "long_line");
      assertEquals(run.status, "success");
      assert.ok(
        run.logs.some((l: { level: string; message: string }) =>
          l.level === "system" && /dropped/.test(l.message)
        ),
      );
    });

    await t.step("exiting without a result is invalid_output", async () => {
      const run = await runHostile(d, "exit_early");
      assertEquals(run.status, "failed");
      assertEquals(run.error.kind, "invalid_output");
    });

    await t.step("the daemon still serves", async () => {
      const status = await d.tau("status");
      assertEquals(status.code, 0);
      assertEquals(status.json.status, "ok");
    });
  } finally {
    await d.stop();
  }
});
