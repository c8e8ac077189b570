/**
 * A second hostile suite against a real daemon: pipelines that try to reach what a run must
 * never touch — procfs, devices, other pipelines' code and secrets, the daemon's port under other
 * spellings, raw sockets, native code, workers, persistent storage, the protocol channel and the
 * trusted-side DuckDB. Each attack must fail with a precise error and leak nothing; the daemon
 * must keep serving afterwards.
 */
import { assert, assertEquals, assertMatch } from "../helpers/assert.ts";
import { FIXTURES, inPool, startDaemon } from "../helpers/daemon.ts";

interface RunLog {
  level: string;
  message: string;
}

interface RunJson {
  run_id: string;
  status: string;
  result: unknown;
  // deno-lint-ignore no-explicit-any
  error: any;
  logs: RunLog[];
  steps: unknown[];
}

const DAEMON_SECRET = `daemon-only-${crypto.randomUUID()}`;
const A_SECRET = `pipeline-a-only-${crypto.randomUUID()}`;
/** The start of /etc/passwd: if it shows up anywhere, a read got through. */
const PASSWD = "root:x:0:0";

/** Names /etc/hosts maps to a loopback address, besides localhost (e.g. the machine's name). */
async function loopbackAliases(): Promise<string[]> {
  const text = await Deno.readTextFile("/etc/hosts").catch(() => "");
  const names = new Set<string>();
  for (const line of text.split("\n")) {
    const [address, ...rest] = line.replace(/#.*/, "").trim().split(/\s+/);
    if (!address || !/^127\./.test(address)) continue;
    for (const name of rest) {
      if (name && name !== "localhost" && /^[a-z0-9.-]+$/i.test(name)) names.add(name);
    }
  }
  return [...names].slice(0, 3);
}

function messages(run: RunJson): string[] {
  return (run.logs ?? []).map((l) => l.message);
}

/** Nothing secret appears anywhere in what the run recorded: result, error, logs, steps. */
function assertNoLeak(run: RunJson, needles: string[]): void {
  const all = JSON.stringify(run);
  for (const needle of needles) {
    assert.ok(!all.includes(needle), `leaked ${JSON.stringify(needle)}: ${all.slice(0, 2000)}`);
    for (const message of messages(run)) {
      assert.ok(!message.includes(needle), `leaked in logs: ${message.slice(0, 500)}`);
    }
  }
}

function assertFailed(run: RunJson, kind: string): void {
  const dump = JSON.stringify({ status: run.status, error: run.error, result: run.result });
  assertEquals(run.status, "failed", dump);
  assertEquals(run.error?.kind, kind, dump);
  assertEquals(run.result, null, dump);
}

function assertDenied(run: RunJson, permission: string | null, target?: string): void {
  assertFailed(run, "permission_denied");
  const dump = JSON.stringify(run.error);
  assertEquals(run.error.permission, permission, dump);
  if (target !== undefined) assertEquals(run.error.target, target, dump);
  assert.ok(typeof run.error.hint === "string" && run.error.hint.length > 0, dump);
}

/** The fixtures the steps run, deployed together before the first step. */
const ACCESS_FIXTURES = [
  "access_benign",
  "cache_storage",
  "channel_garbage",
  "chdir_escape",
  "daemon_port_encodings",
  "duck_temp_dir",
  "duck_undeclared",
  "duck_warehouse_check",
  "env_enumerate",
  "fetch_ip_literal",
  "fetch_ipv6",
  "ffi_dlopen",
  "forged_result_line",
  "forged_stdout_exit",
  "import_attrs_runtime",
  "import_remote_runtime",
  "kill_daemon",
  "listen_port",
  "node_child_process",
  "node_dgram_udp",
  "node_dlopen",
  "node_fs_read",
  "node_fs_write",
  "node_net_tcp",
  "open_device",
  "open_kv",
  "proc_environ",
  "proc_memory",
  "proc_pid1",
  "read_other_code",
  "real_nonce_result",
  "secret_owner",
  "secret_thief",
  "symlink_escape",
  "unix_socket",
  "worker_escalate",
  "worker_nested",
];

Deno.test("hostile access attempts are denied and leak nothing", async (t) => {
  const d = await startDaemon({ HOSTILE_DAEMON_SECRET: DAEMON_SECRET, ACCESS_A_SECRET: A_SECRET });
  const deployed = new Set<string>();
  const apiKey = (await Deno.readTextFile(`${d.home}/api_key`)).trim();
  assert.ok(apiKey.length >= 16);
  const needles = [DAEMON_SECRET, A_SECRET, PASSWD, apiKey];

  async function run(fixture: string, params: Record<string, unknown> = {}): Promise<RunJson> {
    if (!deployed.has(fixture)) {
      await d.deploy(`hostile/${fixture}.ts`);
      deployed.add(fixture);
    }
    const res = await d.tau("run", fixture, "--params", JSON.stringify(params));
    // The record is printed either way; a run that did not succeed exits 1.
    assertEquals(res.code, res.json.status === "success" ? 0 : 1, res.stdout);
    const json = res.json as RunJson;
    assertNoLeak(json, needles);
    return json;
  }

  try {
    await d.deployAll(ACCESS_FIXTURES.map((fixture) => `hostile/${fixture}.ts`));
    ACCESS_FIXTURES.forEach((fixture) => deployed.add(fixture));

    await t.step("/proc/self/environ and the daemon's /proc/PPID/environ", async () => {
      const self = await run("proc_environ");
      assertDenied(self, "read", "/proc/self/environ");
      const parent = await run("proc_environ", { parent: true });
      assertDenied(parent, "read");
      assertMatch(parent.error.target, /^\/proc\/\d+\/environ$/);
    });

    await t.step("/proc/self/maps and /proc/self/mem", async () => {
      for (const path of ["/proc/self/maps", "/proc/self/mem"]) {
        assertDenied(await run("proc_memory", { path }), "read", path);
      }
    });

    await t.step("/proc/1/cmdline (another process)", async () => {
      assertDenied(await run("proc_pid1"), "read", "/proc/1/cmdline");
    });

    await t.step("opening devices: /dev/sda, /dev/mem, /dev/tty", async () => {
      for (const path of ["/dev/sda", "/dev/mem"]) {
        assertDenied(await run("open_device", { path }), "read", path);
      }
      assertDenied(await run("open_device", { path: "/dev/tty", write: true }), "read", "/dev/tty");
    });

    await t.step("a symlink in scratch pointing at /etc/passwd (Deno and node:fs)", async () => {
      for (const mode of ["deno", "node"]) {
        const res = await run("symlink_escape", { mode });
        // Deno refuses symlinks outright under path-scoped grants (no target in its message).
        assertDenied(res, "read");
        assertMatch(res.error.message, /symlink(Sync)?\(\) requires unscoped --allow-read/);
      }
    });

    await t.step("a hard link in scratch to /etc/passwd", async () => {
      assertDenied(await run("symlink_escape", { mode: "hardlink" }), "read", "/etc/passwd");
    });

    await t.step("node:fs readFileSync / fs.promises.readFile of /etc/passwd", async () => {
      assertDenied(await run("node_fs_read"), "read", "/etc/passwd");
      assertDenied(await run("node_fs_read", { async: true }), "read", "/etc/passwd");
    });

    await t.step("run-time import of a file outside, with type json and type text", async () => {
      const json = await run("import_attrs_runtime", {
        url: `file://${d.home}/taud.json`,
        type: "json",
      });
      assertDenied(json, "read", `${d.home}/taud.json`);
      assert.ok(!JSON.stringify(json).includes(`"pid":${d.process.pid}`));
      const text = await run("import_attrs_runtime", {
        url: `file://${d.home}/api_key`,
        type: "text",
      });
      assertDenied(text, "read", `${d.home}/api_key`);
    });

    await t.step("run-time import of a remote module", async () => {
      const res = await run("import_remote_runtime", { url: "https://example.com/x.ts" });
      // --no-remote answers before the permission check: a TypeError, so kind exception.
      assertFailed(res, "exception");
      assertMatch(res.error.message, /remote specifier was requested.*--no-remote/);
    });

    await t.step("fetch to undeclared IPv4 literals", async () => {
      for (
        const [url, target] of [
          ["http://10.0.0.1:80/", "10.0.0.1:80"],
          ["https://1.1.1.1/", "1.1.1.1:443"],
          ["http://169.254.169.254/latest/meta-data/", "169.254.169.254:80"],
        ]
      ) {
        assertDenied(await run("fetch_ip_literal", { url }), "net", target);
      }
    });

    await t.step(
      "undeclared IPv6 literals: loopback at the daemon port, a public resolver",
      async () => {
        const v6 = await run("fetch_ipv6", { url: `http://[::1]:${d.port}/api/v1/status` });
        assertDenied(v6, "net", `[::1]:${d.port}`);
        const mapped = await run("fetch_ipv6", {
          url: `http://[::ffff:127.0.0.1]:${d.port}/api/v1/status`,
        });
        // Deno normalizes the v4-mapped address before it checks it.
        assertDenied(mapped, "net", `127.0.0.1:${d.port}`);
        const resolver = await run("fetch_ipv6", { url: "https://[2606:4700::1111]/" });
        assertDenied(resolver, "net", "[2606:4700::1111]:443");
      },
    );

    await t.step("the daemon port, declared exactly under every spelling and name", async () => {
      // A declaration is static, so the test writes the daemon's port into a copy of the fixture.
      // Most spellings are refused before the run starts (the trusted side resolves each grant);
      // the non-canonical IPv6 ones slip past that check and are stopped by Deno's --deny-net,
      // which reports the normalized address.
      const template = await Deno.readTextFile(`${FIXTURES}hostile/daemon_port_declared.ts`);
      const dir = await Deno.makeTempDir({ prefix: "tau_hostile_access_" });
      const hosts = [
        "127.0.0.1",
        "localhost",
        "[::1]",
        "[::ffff:127.0.0.1]",
        "[::FFFF:127.0.0.1]",
        "[::ffff:7f00:1]",
        "[0:0:0:0:0:0:0:1]",
        "[0::1]",
        "2130706433",
        "0x7f000001",
        "0177.0.0.1",
        "127.1",
        "127.0.0.2",
        "0.0.0.0",
        "[::]",
        ...await loopbackAliases(),
      ];
      const port = d.port;
      try {
        // One pipeline per spelling, deployed together (the daemon type-checks them in one run).
        const name = (i: number) => `daemon_port_declared_${i}`;
        await inPool(hosts.map((host, i) => ({ host, i })), 6, async ({ host, i }) => {
          const file = `${dir}/${name(i)}.ts`;
          await Deno.writeTextFile(
            file,
            template
              .replace('"DECLARED_HOST_PORT"', JSON.stringify(`${host}:${port}`))
              .replace('name: "daemon_port_declared"', `name: "${name(i)}"`),
          );
          const deployed = await d.tau("deploy", file);
          assertEquals(deployed.code, 0, `${host}: ${deployed.stdout}`);
        });
        for (const [i, host] of hosts.entries()) {
          const declared = `${host}:${port}`;
          for (
            const via of host === "localhost" ? ["fetch", "connect", "node"] : ["fetch", "connect"]
          ) {
            const res = await d.tau(
              "run",
              name(i),
              "--params",
              JSON.stringify({ host, port, via }),
            );
            const json = res.json as RunJson;
            const dump = `${host} via ${via}: ${JSON.stringify(json.error)}`;
            assertNoLeak(json, needles);
            assertDenied(json, "net");
            if (json.error.target === declared) {
              assertMatch(json.error.message, /the Tau daemon's own port/, dump);
            } else {
              assert.ok([`127.0.0.1:${port}`, `[::1]:${port}`].includes(json.error.target), dump);
            }
          }
        }
      } finally {
        await Deno.remove(dir, { recursive: true });
      }
    });

    await t.step("the daemon port through a WebSocket, an HTTP proxy, numeric hosts", async () => {
      for (const via of ["websocket", "proxy"]) {
        const res = await run("daemon_port_encodings", { port: d.port, via });
        assertDenied(res, "net", `127.0.0.1:${d.port}`);
      }
      for (const via of ["decimal", "short"]) {
        // fetch parses the URL (WHATWG), so both become 127.0.0.1 before any check.
        const res = await run("daemon_port_encodings", { port: d.port, via });
        assertDenied(res, "net", `127.0.0.1:${d.port}`);
      }
    });

    await t.step("raw TCP with node:net to an undeclared port", async () => {
      assertDenied(await run("node_net_tcp"), "net", "127.0.0.1:5432");
    });

    await t.step("raw UDP with node:dgram", async () => {
      // The implicit bind before the first send is what Deno checks.
      assertDenied(await run("node_dgram_udp"), "net", "0.0.0.0:0");
    });

    await t.step("opening a server port with Deno.listen / Deno.serve", async () => {
      assertDenied(await run("listen_port"), "net", "0.0.0.0:0");
      assertDenied(
        await run("listen_port", { via: "serve", hostname: "127.0.0.1", port: 8765 }),
        "net",
        "127.0.0.1:8765",
      );
    });

    await t.step("connecting to a unix socket (Deno and node:net)", async () => {
      for (const via of ["deno", "node"]) {
        const res = await run("unix_socket", { path: "/var/run/docker.sock", via });
        assertDenied(res, "read", "/var/run/docker.sock");
      }
    });

    await t.step("a subprocess via node:child_process", async () => {
      // Node's child_process reads the environment before it asks for run: Deno refuses that
      // first, but the attempt is a subprocess all the same, and is reported as one.
      const exec = await run("node_child_process");
      assertDenied(exec, "run");
      assertMatch(exec.error.message, /Requires env access/);
      assert.ok(!JSON.stringify(exec).includes("uid="));
      const spawned = await run("node_child_process", { via: "spawn" });
      assertDenied(spawned, "run");
      assertMatch(spawned.error.message, /NODE_V8_COVERAGE/);
      assert.ok(!JSON.stringify(spawned).includes("uid="));
    });

    await t.step("signalling the parent process (Deno.kill, process.kill)", async () => {
      for (const via of ["deno", "node"]) {
        const res = await run("kill_daemon", { via });
        // "Requires run access, run again…": no target in the message.
        assertDenied(res, "run");
        assertMatch(res.error.message, /Requires run access/);
      }
      assertEquals((await d.tau("status")).json.status, "ok");
    });

    await t.step("FFI: Deno.dlopen(libc)", async () => {
      assertDenied(await run("ffi_dlopen"), "ffi", "libc.so.6");
    });

    await t.step("FFI: node process.dlopen", async () => {
      const path = "/usr/lib/x86_64-linux-gnu/libc.so.6";
      assertDenied(await run("node_dlopen", { path }), "ffi", path);
    });

    await t.step("a Worker asking for more permissions than the run", async () => {
      for (const via of ["blob", "data"]) {
        const res = await run("worker_escalate", { via });
        // Worker permission options are unstable: Deno exits the whole process (code 70).
        assertFailed(res, "crashed");
        assertMatch(res.error.message, /exit code 70/);
        assertMatch(res.error.stack ?? "", /Worker\.deno\.permissions/);
      }
    });

    await t.step("a Worker starting a Worker that reads /etc/passwd", async () => {
      assertDenied(await run("worker_nested"), "read", "/etc/passwd");
    });

    await t.step("Deno.openKv is unavailable", async () => {
      const res = await run("open_kv");
      assertFailed(res, "exception");
      assertMatch(res.error.message, /openKv is not a function/);
    });

    await t.step(
      "Cache API entries do not survive from one run (or the warm-up) to the next",
      async () => {
        const first = await run("cache_storage");
        assertEquals(first.status, "success", JSON.stringify(first.error));
        assertEquals(first.result, { before: null, planted: null });
        const second = await run("cache_storage");
        assertEquals(second.status, "success", JSON.stringify(second.error));
        assertEquals(second.result, { before: null, planted: null });
      },
    );

    await t.step("enumerating the environment (Deno.env.toObject, process.env)", async () => {
      const deno = await run("env_enumerate");
      // "Requires env access, run again…": no target in the message.
      assertDenied(deno, "env");
      assertMatch(deno.error.message, /Requires env access/);
      const node = await run("env_enumerate", { via: "node" });
      assertFailed(node, "permission_denied");
      assertMatch(node.error.message, /Requires env access/);
    });

    await t.step("reading another pipeline's deployed code", async () => {
      const benign = await run("access_benign");
      assertEquals(benign.status, "success", JSON.stringify(benign.error));
      const [folder] = [...Deno.readDirSync(`${d.home}/code/access_benign`)].map((e) => e.name);
      const path = `${d.home}/code/access_benign/${folder}/pipeline.ts`;
      assert.ok((await Deno.readTextFile(path)).includes("access_benign"));
      const read = await run("read_other_code", { path });
      assertDenied(read, "read", path);
      assert.ok(!JSON.stringify(read).includes("scratch works"));
      const imported = await run("read_other_code", { path, via: "import" });
      assertDenied(imported, "read", path);
    });

    await t.step("reading another pipeline's secret", async () => {
      const owner = await run("secret_owner");
      assertEquals(owner.status, "success", JSON.stringify(owner.error));
      assertEquals(owner.result, { length: A_SECRET.length });
      const env = await run("secret_thief");
      assertDenied(env, "env", "ACCESS_A_SECRET");
      const viaCtx = await run("secret_thief", { via: "ctx" });
      assertFailed(viaCtx, "undeclared_secret");
    });

    await t.step("forged result lines behind guessed nonces, then a real failure", async () => {
      const earlier = await run("access_benign");
      const res = await run("forged_result_line", { other_run_id: earlier.run_id });
      assertFailed(res, "exception");
      assertEquals(res.error.message, "the real failure");
      assertEquals(res.steps, []);
      assert.ok(messages(res).some((m) => m.includes(`@tau:${earlier.run_id}`)));
    });

    await t.step("forged success written to stdout, then exit 1", async () => {
      const res = await run("forged_stdout_exit");
      assertFailed(res, "crashed");
      assertMatch(res.error.message, /exit code 1/);
      assert.ok(messages(res).some((m) => m.includes('"value":"forged"')));
    });

    await t.step("an early result on the real channel, then a failure", async () => {
      const res = await run("real_nonce_result");
      // Never success: the exit code decides, and the real exception is what is reported.
      assertFailed(res, "exception");
      assertEquals(res.error.message, "the real failure");
    });

    await t.step("malformed, oversized and unknown requests on the channel", async () => {
      const res = await run("channel_garbage");
      assertFailed(res, "exception");
      assertEquals(res.steps, []);
      const prefix = "tampering done ";
      assert.ok(res.error.message.startsWith(prefix), res.error.message);
      const refused = JSON.parse(res.error.message.slice(prefix.length)) as Record<string, string>;
      assertEquals(Object.keys(refused).length, 5);
      for (const [label, outcome] of Object.entries(refused)) {
        assert.ok(outcome !== "ALLOWED", `${label} was served`);
      }
      assertMatch(refused["unknown op"]!, /Unknown request shell\.exec/);
      assertMatch(refused["no connection"]!, /not declared/);
      assertMatch(refused["bad load"]!, /file: expected a staged load file name/);
      const system = res.logs.filter((l) => l.level === "system").map((l) => l.message);
      assert.ok(system.some((m) => /protocol event rejected/.test(m)), JSON.stringify(system));
      assert.ok(system.some((m) => /line longer than/.test(m)), JSON.stringify(system));
      assert.ok(messages(res).some((m) => m.includes("forged success")));
    });

    await t.step("DuckDB requests for the undeclared warehouse connection", async () => {
      const warehouse = `${d.home}/warehouse/warehouse.duckdb`;
      const cases: [Record<string, unknown>, RegExp][] = [
        [{ via: "proxy" }, /Cannot use connection warehouse: it is not declared/],
        [{ via: "request" }, /Cannot use connection warehouse: it is not declared/],
        [{ via: "inline_relative" }, /must live in the run's scratch folder/],
        [{ via: "inline_absolute", path: warehouse }, /must live in the run's scratch folder/],
        [{ via: "attach", path: warehouse }, /Permission Error|disabled by configuration/],
        [{ via: "stdout" }, /^forged request lines written$/],
      ];
      for (const [params, message] of cases) {
        const res = await run("duck_undeclared", params);
        assertFailed(res, "exception");
        assertMatch(res.error.message, message, JSON.stringify(params));
      }
      const check = await run("duck_warehouse_check");
      assertEquals(check.status, "success", JSON.stringify(check.error));
      assertEquals(check.result, { hostile_tables: 0 });
    });

    await t.step("inline DuckDB writing to its temp directory outside scratch", async () => {
      // DuckDB silently adds its temp_directory to allowed_directories; its default for an
      // in-memory session is ".tmp" under the daemon's working directory, shared by every run.
      // Tau points it into the run's scratch folder, so nothing outside scratch is reachable.
      const path = `${Deno.cwd()}/.tmp/hostile_planted.csv`;
      const res = await run("duck_temp_dir", { path });
      assertFailed(res, "exception");
      const allowed = messages(res).find((m) => m.startsWith("allowed_directories: "));
      assert.ok(allowed !== undefined, JSON.stringify(res.logs));
      const dirs = JSON.parse(allowed.slice("allowed_directories: ".length)) as string[];
      assertMatch(dirs[0]!, /\/scratch\/?$/);
      for (const dir of dirs) {
        assert.ok(
          dir.startsWith(dirs[0]!),
          `the session may reach more than its scratch: ${allowed}`,
        );
      }
      assertMatch(res.error.message, /Permission Error/);
      await assert.rejects(() => Deno.stat(path));
    });

    await t.step("node:fs writeFileSync / appendFileSync into $TAU_HOME", async () => {
      for (const append of [false, true]) {
        const path = `${d.home}/pwned_node_${append ? "append" : "write"}.txt`;
        assertDenied(await run("node_fs_write", { path, append }), "write", path);
        await assert.rejects(() => Deno.stat(path));
      }
    });

    await t.step("chdir to /, chmod outside, and ../ paths", async () => {
      assertDenied(await run("chdir_escape", { via: "chdir" }), "read", "/");
      const before = (await Deno.stat(`${d.home}/api_key`)).mode;
      assertDenied(
        await run("chdir_escape", { via: "chmod", path: `${d.home}/api_key` }),
        "write",
        `${d.home}/api_key`,
      );
      assertEquals((await Deno.stat(`${d.home}/api_key`)).mode, before);
      // The scratch folder is $TAU_HOME/runs/<child>/scratch.
      assertDenied(
        await run("chdir_escape", { path: "../../../api_key" }),
        "read",
        "../../../api_key",
      );
    });

    await t.step("the daemon still serves", async () => {
      const status = await d.tau("status");
      assertEquals(status.code, 0, status.stdout);
      assertEquals(status.json.status, "ok");
      const benign = await run("access_benign", { after: "all attacks" });
      assertEquals(benign.status, "success", JSON.stringify(benign.error));
      assertEquals(benign.result, {
        ok: true,
        note: "scratch works",
        params: { after: "all attacks" },
      });
    });
  } finally {
    await d.stop();
  }
});
