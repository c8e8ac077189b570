/** `taud` in the background: idempotent start, the key file, stop. */
import { assert, assertEquals } from "../helpers/assert.ts";
import { runCli, TAUD } from "../helpers/daemon.ts";

async function taud(home: string, ...args: string[]) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", TAUD, ...args],
    env: { TAU_HOME: home },
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
