/** `taud` in the background: idempotent start, the key file, stop. */
import { assert, assertEquals, assertMatch } from "../helpers/assert.ts";
import { cleanEnv, runCli, TAUD } from "../helpers/daemon.ts";

async function taud(home: string, ...args: string[]) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", TAUD, ...args],
    clearEnv: true,
    env: cleanEnv({ TAU_HOME: home }),
    cwd: home,
    stdout: "piped",
    stderr: "piped",
  }).output();
  return { code: out.code, json: JSON.parse(new TextDecoder().decode(out.stdout)) };
}

Deno.test("taud starts in the background once, creates its key 0600, and stops", async () => {
  const home = await Deno.makeTempDir({ prefix: "tau_daemon_" });
  try {
    const first = await taud(home, "--port", "0");
    assertEquals(first.code, 0);
    assertEquals(first.json.status, "started");
    assertEquals(first.json.home, home);
    assert.ok(first.json.port > 0);

    const second = await taud(home, "--port", "0");
    assertEquals(second.json.status, "already_running");
    assertEquals(second.json.pid, first.json.pid);

    const key = await Deno.stat(`${home}/api_key`);
    assertEquals((key.mode ?? 0) & 0o777, 0o600);

    const status = await runCli(["status"], { TAU_HOME: home });
    assertEquals(status.json.pid, first.json.pid);
    assertEquals(status.json.port, first.json.port);
    // Its own memory, as /proc sees it, and the warm pool of a daemon that executes runs.
    const { rss_mb, heap_used_mb, heap_total_mb } = status.json.memory;
    const procRss = Number(
      /VmRSS:\s+(\d+)/.exec(await Deno.readTextFile(`/proc/${first.json.pid}/status`))![1],
    ) / 1024;
    assert.ok(Math.abs(rss_mb - procRss) < 50, `${rss_mb} MB against /proc's ${procRss} MB`);
    assert.ok(heap_used_mb > 0 && heap_used_mb <= heap_total_mb, JSON.stringify(status.json));
    assertEquals(status.json.sandbox.warm_pool.budget_mb, 256);
    // From a checkout: runs use this deno and read the checkout's files (nothing extracted).
    assertEquals(status.json.build, {
      version: status.json.version,
      compiled: false,
      deno: { path: Deno.execPath(), version: Deno.version.deno, source: "self" },
      runtime_dir: null,
    });

    const stop = await taud(home, "stop");
    assertEquals(stop.json.status, "stopped");
    const again = await taud(home, "stop");
    assertEquals(again.json.status, "not_running");
    const down = await runCli(["status"], { TAU_HOME: home });
    assertEquals(down.code, 1);
    assertEquals(down.json.error.code, "daemon_unreachable");
  } finally {
    await taud(home, "stop").catch(() => {});
    await Deno.remove(home, { recursive: true });
  }
});

Deno.test("a bad tau.toml stops taud with a JSON error naming the key", async () => {
  const home = await Deno.makeTempDir({ prefix: "tau_daemon_" });
  try {
    await Deno.writeTextFile(`${home}/tau.toml`, '[daemon]\nport = "eighty"\n');
    const res = await taud(home, "--foreground");
    assertEquals(res.code, 1);
    assertEquals(res.json.error.code, "invalid_config");
    assert.ok(res.json.error.message.includes("daemon.port"), res.json.error.message);
  } finally {
    await Deno.remove(home, { recursive: true });
  }
});

Deno.test("a bad tau.toml: the background start prints the daemon's own error, file, line and key", async (t) => {
  const cases: [string, string, RegExp, RegExp][] = [
    ["a key typo", "[daemon]\nprot = 8400\n", /tau\.toml:2: daemon\.prot: unknown key/, /port/],
    [
      "a section typo",
      "[deamon]\nport = 8400\n",
      /tau\.toml:1: deamon: unknown table/,
      /\[daemon\]/,
    ],
    ["a TOML syntax error", "[daemon\nport = 8400\n", /tau\.toml:1:\d+: syntax error/, /TOML/],
    [
      "an unknown connection type",
      '[connections.db]\ntype = "postgress"\ndsn = "postgres://x"\n',
      /tau\.toml:2: connections\.db\.type: unknown type "postgress"/,
      /postgres, redshift/,
    ],
    [
      "an unset ${VAR}",
      '[connections.db]\ntype = "postgres"\n\ndsn = "${TAU_TEST_UNSET_DSN}"\n',
      /tau\.toml:4: connections\.db\.dsn refers to \$\{TAU_TEST_UNSET_DSN\}, which is not set/,
      /export TAU_TEST_UNSET_DSN=/,
    ],
  ];
  for (const [what, toml, message, hint] of cases) {
    await t.step(what, async () => {
      const home = await Deno.makeTempDir({ prefix: "tau_daemon_" });
      try {
        await Deno.writeTextFile(`${home}/tau.toml`, toml);
        const res = await taud(home, "--port", "0");
        assertEquals(res.code, 1);
        assertEquals(res.json.error.code, "invalid_config", JSON.stringify(res.json));
        assertMatch(res.json.error.message, message);
        assert.ok(res.json.error.message.startsWith(`${home}/tau.toml:`), res.json.error.message);
        assertMatch(res.json.error.hint, hint);
        // The log it leaves holds the same error.
        const log = (await Deno.readTextFile(`${home}/taud.log`)).trim().split("\n").map((l) =>
          JSON.parse(l)
        );
        assertEquals(log.at(-1).error, res.json.error);
        assertEquals((await taud(home, "stop")).json.status, "not_running");
      } finally {
        await Deno.remove(home, { recursive: true });
      }
    });
  }
});

Deno.test("tau status names the tau.toml in effect and its connections, never a secret", async () => {
  const home = await Deno.makeTempDir({ prefix: "tau_daemon_" });
  const secret = "pw-never-shown-by-status";
  try {
    const none = await taud(home, "--port", "0");
    assertEquals(none.json.status, "started", JSON.stringify(none.json));
    const bare = await runCli(["status"], { TAU_HOME: home });
    assertEquals(bare.json.config, {
      file: null,
      connections: [{ name: "warehouse", type: "duckdb" }],
    });
    // Without a tau.toml, a pipeline naming a connection is told where taud looked.
    const pipeline = `${home}/p.ts`;
    await Deno.writeTextFile(
      pipeline,
      'import { pipeline } from "tau";\nexport default pipeline({ name: "p", connections: ["db"] }, () => 1);\n',
    );
    const orphan = await runCli(["deploy", pipeline], { TAU_HOME: home });
    assertEquals(orphan.json.error.code, "invalid_pipeline", orphan.stdout);
    assertMatch(
      orphan.json.error.message,
      /Unknown connection db: taud started without a tau\.toml/,
    );
    assertMatch(orphan.json.error.hint, /TAU_CONFIG/);
    await taud(home, "stop");

    await Deno.writeTextFile(
      `${home}/tau.toml`,
      `[connections.pg]\ntype = "postgres"\ndsn = "postgres://u:${secret}@127.0.0.1:5432/test"\n`,
    );
    assertEquals((await taud(home, "--port", "0")).json.status, "started");
    const status = await runCli(["status"], { TAU_HOME: home });
    assertEquals(status.json.config, {
      file: `${home}/tau.toml`,
      connections: [{ name: "warehouse", type: "duckdb" }, { name: "pg", type: "postgres" }],
    });
    assert.ok(!status.stdout.includes(secret));
    const unknown = await runCli(["deploy", pipeline], { TAU_HOME: home });
    assertEquals(unknown.json.error.code, "invalid_pipeline", unknown.stdout);
    assertEquals(
      unknown.json.error.message,
      `Unknown connection db: ${home}/tau.toml has no [connections.db]`,
    );
    assertMatch(unknown.json.error.hint, /configured connections: warehouse, pg\. .*TAU_CONFIG/);
  } finally {
    await taud(home, "stop").catch(() => {});
    await Deno.remove(home, { recursive: true });
  }
});

Deno.test("a dashboard port already taken stops the start with conflict, naming the dashboard", async () => {
  const home = await Deno.makeTempDir({ prefix: "tau_daemon_" });
  const taken = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  try {
    const port = String((taken.addr as Deno.NetAddr).port);
    const res = await taud(home, "--port", "0", "--dashboard-port", port);
    assertEquals(res.code, 1);
    assertEquals(res.json.error.code, "conflict");
    assertMatch(res.json.error.message, new RegExp(`Port ${port} .*the dashboard's.* in use`));
    assertMatch(res.json.error.hint, /--dashboard-port N/);
    const bad = await taud(home, "--dashboard-port", "http");
    assertEquals([bad.code, bad.json.error.message], [1, "Invalid --dashboard-port http"]);
  } finally {
    taken.close();
    await taud(home, "stop");
    await Deno.remove(home, { recursive: true });
  }
});
