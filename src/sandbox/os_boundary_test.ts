/**
 * Layer 3 for real: bubblewrap must be installed on Linux (install.sh and .ci/run install it).
 * The child runs with every Deno permission so only the OS boundary stands in the way.
 */
import { assert, assertEquals } from "../../tests/helpers/assert.ts";
import { bubblewrapArgs, detectOsBoundary } from "./os_boundary.ts";

const boundary = await detectOsBoundary("auto");

async function inside(code: string, network: boolean, readWrite: string[] = []) {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/probe.ts`, code);
    const out = await new Deno.Command(boundary.bwrap!, {
      args: [
        ...bubblewrapArgs(boundary, { readOnly: [dir], readWrite, network, cwd: dir }),
        "--",
        Deno.execPath(),
        "run",
        "-A",
        `${dir}/probe.ts`,
      ],
      clearEnv: true,
      env: { DENO_DIR: `${dir}/.deno`, NO_COLOR: "1", HOME: dir },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder().decode(out.stdout).trim();
    assertEquals(out.code, 0, new TextDecoder().decode(out.stderr));
    return JSON.parse(text);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test({
  name: "bubblewrap is detected and proven to work on Linux",
  ignore: Deno.build.os !== "linux",
  fn() {
    assertEquals(boundary.mechanism, "bubblewrap", boundary.reason ?? "");
    assert.ok(boundary.prlimit, "prlimit (util-linux) is available");
  },
});

Deno.test({
  name: "inside the boundary: no host files, own PID namespace, no network, read-only mounts",
  ignore: Deno.build.os !== "linux",
  async fn() {
    const probe = `
      const tryIt = async (f) => { try { await f(); return "reachable"; } catch (e) { return e.name; } };
      console.log(JSON.stringify({
        passwd: await tryIt(() => Deno.readTextFile("/etc/passwd")),
        root_home: await tryIt(() => Deno.readDir("/root")[Symbol.asyncIterator]().next()),
        pids: [...Deno.readDirSync("/proc")].filter((e) => /^\\d+$/.test(e.name)).length,
        my_pid: Deno.pid,
        net: await tryIt(() => Deno.connect({ hostname: "127.0.0.1", port: 5432 })),
        write_code: await tryIt(() => Deno.writeTextFile(new URL("./x", import.meta.url), "x")),
        hostname: Deno.hostname(),
      }));`;
    const seen = await inside(probe, false);
    assertEquals(seen.passwd, "NotFound");
    assertEquals(seen.root_home, "NotFound");
    assert.ok(seen.pids <= 3, `sees ${seen.pids} processes`);
    assert.ok(seen.my_pid <= 3);
    assertEquals(seen.net, "ConnectionRefused"); // an empty namespace: only its own loopback
    assert.ok(seen.write_code !== "reachable", "the code folder is mounted read-only (EROFS)");
    assertEquals(seen.hostname, "tau-run");
  },
});

Deno.test({
  name: "with network declared the host network is shared (the allow-list is Deno's job)",
  ignore: Deno.build.os !== "linux",
  async fn() {
    const probe = `
      const c = await Deno.connect({ hostname: "127.0.0.1", port: 5432 });
      c.close();
      console.log(JSON.stringify({ ok: true }));`;
    assertEquals(await inside(probe, true), { ok: true });
  },
});
