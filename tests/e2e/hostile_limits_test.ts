/**
 * The resource and OS-boundary half of the hostile suite, through a real daemon: every attack
 * ends with its own error kind, the run record says which layers and limits it had, and the
 * daemon keeps serving a benign pipeline afterwards.
 */
import { assert, assertEquals, assertMatch } from "../helpers/assert.ts";
import { EXAMPLES, FIXTURES, startDaemon, type TestDaemon } from "../helpers/daemon.ts";

/** The attacks, deployed together before the first step. */
const ATTACKS = [
  "memory_bomb",
  "heap_bomb",
  "cpu_spin",
  "worker_bomb",
  "disk_fill",
  "event_flood",
  "close_stdout",
];

async function attack(d: TestDaemon, fixture: string) {
  const run = await d.tau("run", fixture);
  // The record is printed either way; a run that did not succeed exits 1.
  assertEquals(run.code, run.json.status === "success" ? 0 : 1, run.stdout);
  assertEquals(run.json.result, null, JSON.stringify(run.json.result));
  return run.json;
}

function assertEnded(run: { status: string; error: { kind: string } }, kind: string) {
  assertEquals(run.status, "failed", JSON.stringify(run.error));
  assertEquals(run.error.kind, kind, JSON.stringify(run.error));
}

async function assertServing(d: TestDaemon) {
  const status = await d.tau("status");
  assertEquals(status.json.status, "ok");
  const ok = await d.tau("run", "hello_world");
  assertEquals(ok.json.status, "success", JSON.stringify(ok.json.error));
}

Deno.test("resource attacks end with their own kind; the OS boundary is reported", async (t) => {
  const d = await startDaemon({ AUDIT_USED: "used-value", AUDIT_UNUSED: "unused-value" });
  try {
    assertEquals((await d.tau("deploy", `${EXAMPLES}hello_pipeline.ts`)).code, 0);
    await d.deployAll(ATTACKS.map((fixture) => `hostile/${fixture}.ts`));

    await t.step("tau status reports all three layers and the default limits", async () => {
      const status = await d.tau("status");
      const sandbox = status.json.sandbox;
      assertEquals(sandbox.layers, {
        deno_permissions: true,
        module_graph_check: true,
        os_boundary: Deno.build.os === "linux",
      });
      if (Deno.build.os === "linux") assertEquals(sandbox.os_boundary, "bubblewrap");
      assertEquals(sandbox.default_limits.memory_mb, 1024);
    });

    await t.step("every run record says which layers and limits it had", async () => {
      const run = await d.tau("run", "hello_world");
      assertEquals(run.json.sandbox.layers.os_boundary, Deno.build.os === "linux");
      assertEquals(run.json.sandbox.limits.heap_mb, 512);
      assert.ok(run.json.sandbox.usage.memory_mb >= 0);
    });

    await t.step("ArrayBuffer memory bomb → memory_limit", async () => {
      const run = await attack(d, "memory_bomb");
      assertEnded(run, "memory_limit");
      assertEquals(run.sandbox.limits.memory_mb, 256);
    });

    await t.step("V8 heap bomb → memory_limit", async () => {
      assertEnded(await attack(d, "heap_bomb"), "memory_limit");
    });

    await t.step("CPU spin on every thread → cpu_limit", async () => {
      const run = await attack(d, "cpu_spin");
      assertEnded(run, "cpu_limit");
    });

    await t.step("Workers spawning Workers → memory or process limit", async () => {
      const run = await attack(d, "worker_bomb");
      assertEquals(run.status, "failed");
      assert.ok(["memory_limit", "process_limit"].includes(run.error.kind), run.error.kind);
    });

    await t.step("filling the scratch disk → disk_limit", async () => {
      assertEnded(await attack(d, "disk_fill"), "disk_limit");
    });

    await t.step("flooding protocol events → event_limit", async () => {
      const run = await attack(d, "event_flood");
      assertEnded(run, "event_limit");
      assert.ok(run.steps.length <= 1000, `${run.steps.length} steps stored`);
    });

    await t.step("closing stdout and running on never reports success", async () => {
      const run = await attack(d, "close_stdout");
      assertEquals(run.status, "failed");
      assert.ok(["channel_closed", "crashed"].includes(run.error.kind), run.error.kind);
    });

    await t.step("a declared name that resolves to the daemon's port is refused", async () => {
      const dir = await Deno.makeTempDir();
      const file = `${dir}/resolves_to_daemon.ts`;
      const code = await Deno.readTextFile(`${FIXTURES}hostile/resolves_to_daemon.ts`);
      await Deno.writeTextFile(file, code.replaceAll("localhost:1", `localhost:${d.port}`));
      assertEquals((await d.tau("deploy", file)).code, 0);
      const run = (await d.tau("run", "resolves_to_daemon")).json;
      assertEquals(run.status, "failed");
      assertEquals(run.error.kind, "permission_denied");
      assertEquals(run.error.target, `localhost:${d.port}`);
      assertMatch(run.error.message, /resolves to 127\.0\.0\.1, the Tau daemon's own port/);
    });

    await t.step("the permission audit tells used from unused grants", async () => {
      await d.deploy("hostile/uses_half.ts");
      const run = (await d.tau("run", "uses_half")).json;
      assertEquals(run.status, "success", JSON.stringify(run.error));
      assertEquals(run.access.audit, "complete");
      assertEquals(run.access.env, [
        { target: "AUDIT_UNUSED", used: false },
        { target: "AUDIT_USED", used: true },
      ]);
      assertEquals(run.access.net, [
        { target: "127.0.0.1:5432", used: true },
        { target: "unused.example:443", used: false },
      ]);
      assertEquals(run.access.write[0].used, true);
      assert.ok(
        run.access.outside.some((o: { permission: string; target: string }) =>
          o.permission === "read" && o.target === "/etc/hostname"
        ),
        JSON.stringify(run.access.outside),
      );
      const inspected = (await d.tau("inspect", "uses_half", "--last-run")).json;
      assertEquals(inspected.access.env, run.access.env);
      const show = (await d.tau("show", "uses_half")).json;
      assertEquals(
        show.warnings.map((w: { permission: string; target: string }) =>
          `${w.permission} ${w.target}`
        ),
        ["net unused.example:443", "env AUDIT_UNUSED"],
      );
    });

    await t.step("the daemon still serves", () => assertServing(d));
  } finally {
    await d.stop();
  }
});

Deno.test("limits above the daemon's ceiling are refused at deploy", async () => {
  const d = await startDaemon({}, {
    config: "[sandbox.ceiling]\nmemory_mb = 128\n[sandbox]\nmemory_mb = 128\nheap_mb = 64\n",
  });
  try {
    const res = await d.tau("deploy", `${FIXTURES}hostile/memory_bomb.ts`);
    assertEquals(res.code, 1);
    assertEquals(res.json.error.code, "invalid_pipeline");
    assertMatch(
      res.json.error.message,
      /limits\.memoryMb: 256 exceeds the daemon's ceiling of 128/,
    );
  } finally {
    await d.stop();
  }
});

Deno.test('os_boundary = "off" runs with layers 1 and 2 and says so', async () => {
  const d = await startDaemon({}, { config: '[sandbox]\nos_boundary = "off"\n' });
  try {
    const status = (await d.tau("status")).json;
    assertEquals(status.sandbox.layers.os_boundary, false);
    assertMatch(status.sandbox.os_boundary_reason, /turned off/);
    assertEquals((await d.tau("deploy", `${EXAMPLES}hello_pipeline.ts`)).code, 0);
    const run = (await d.tau("run", "hello_world")).json;
    assertEquals(run.status, "success");
    assertEquals(run.sandbox.layers.os_boundary, false);
    assertEquals(run.sandbox.os_boundary, null);
  } finally {
    await d.stop();
  }
});

Deno.test("a daemon bound to every interface is denied on each of its addresses", async () => {
  const address = Deno.networkInterfaces().find((i) =>
    i.family === "IPv4" && !i.address.startsWith("127.")
  )?.address;
  if (!address) throw new Error("this test needs a non-loopback IPv4 interface");
  const d = await startDaemon({}, { config: '[daemon]\nhost = "0.0.0.0"\n' });
  try {
    const template = await Deno.readTextFile(`${FIXTURES}hostile/daemon_port_declared.ts`);
    const file = `${await Deno.makeTempDir()}/daemon_port_declared.ts`;
    await Deno.writeTextFile(
      file,
      template.replaceAll("DECLARED_HOST_PORT", `${address}:${d.port}`),
    );
    const deployed = await d.tau("deploy", file);
    assertEquals(deployed.code, 0, deployed.stdout);
    const run = (await d.tau(
      "run",
      "daemon_port_declared",
      "--params",
      JSON.stringify({ host: address, port: d.port }),
    )).json;
    assertEquals(run.status, "failed", JSON.stringify(run.result));
    assertEquals(run.error.kind, "permission_denied");
    assertEquals(run.error.target, `${address}:${d.port}`);
    assert.ok(run.permissions.deny_net.includes(`${address}:${d.port}`));
  } finally {
    await d.stop();
  }
});
