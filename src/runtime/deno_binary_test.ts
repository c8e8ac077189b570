/**
 * findDeno with real processes: fake `deno` shell scripts beside a fake compiled binary, on PATH
 * and configured, and the real deno running these tests.
 */
import { assert, assertEquals, assertMatch } from "../../tests/helpers/assert.ts";
import { TauError } from "../core/errors.ts";
import { findDeno, parseDenoVersion, probeDeno } from "./deno_binary.ts";

const WANT = "2.9.6";
const GOOD = "deno 2.9.6 (stable, release, x86_64-unknown-linux-gnu)";

/** A folder with `bin/taud` (the fake compiled binary), `beside/`, `path1/`, `path2/`. */
async function layout(t: (dir: string) => Promise<void>) {
  const dir = await Deno.makeTempDir({ prefix: "tau_deno_binary_" });
  try {
    for (const d of ["bin", "path1", "path2", "other"]) await Deno.mkdir(`${dir}/${d}`);
    await Deno.writeTextFile(`${dir}/bin/taud`, "");
    await t(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function fakeDeno(path: string, firstLine: string, mode = 0o755) {
  await Deno.writeTextFile(path, `#!/bin/sh\necho '${firstLine}'\necho 'v8 14.0'\n`);
  await Deno.chmod(path, mode);
}

function opts(dir: string, extra: { configured?: string | null; pathEnv?: string } = {}) {
  return {
    standalone: true,
    execPath: `${dir}/bin/taud`,
    pathEnv: extra.pathEnv ?? `${dir}/path1:${dir}/path2`,
    expectedVersion: WANT,
    configured: extra.configured ?? null,
  };
}

async function refusal(p: Promise<unknown>): Promise<TauError> {
  try {
    await p;
  } catch (err) {
    assert(err instanceof TauError, String(err));
    assertEquals(err.code, "sandbox_unavailable");
    return err;
  }
  throw new Error("findDeno succeeded; a refusal was expected");
}

Deno.test("parseDenoVersion reads the first line of deno --version", () => {
  assertEquals(parseDenoVersion(`${GOOD}\nv8 14.0\ntypescript 5.9\n`), "2.9.6");
  assertEquals(parseDenoVersion("deno 2.1.0-rc.1 (release candidate, …)\n"), "2.1.0-rc.1");
  assertEquals(parseDenoVersion("deno 1.46.0"), "1.46.0");
  assertEquals(parseDenoVersion("node v22.0.0\n"), null);
  assertEquals(parseDenoVersion(`v8 14.0\n${GOOD}`), null);
  assertEquals(parseDenoVersion(""), null);
});

Deno.test("not compiled: this process's own executable, nothing probed", async () => {
  const choice = await findDeno({
    standalone: false,
    execPath: "/nowhere/deno",
    pathEnv: "",
    expectedVersion: WANT,
  });
  assertEquals(choice, { path: "/nowhere/deno", version: WANT, source: "self" });
});

Deno.test("compiled: a deno beside the binary comes first, before PATH", async () => {
  await layout(async (dir) => {
    await fakeDeno(`${dir}/bin/deno`, GOOD);
    await fakeDeno(`${dir}/path1/deno`, GOOD);
    const choice = await findDeno(opts(dir));
    assertEquals(choice, { path: `${dir}/bin/deno`, version: WANT, source: "beside" });
  });
});

Deno.test("compiled: else the first good deno on PATH; a non-executable file is skipped", async () => {
  await layout(async (dir) => {
    await fakeDeno(`${dir}/path1/deno`, GOOD, 0o644);
    await fakeDeno(`${dir}/path2/deno`, GOOD);
    const choice = await findDeno(opts(dir, { pathEnv: `relative:${dir}/path1:${dir}/path2` }));
    assertEquals(choice, { path: `${dir}/path2/deno`, version: WANT, source: "path" });
  });
});

Deno.test("compiled: [sandbox] deno is used when set", async () => {
  await layout(async (dir) => {
    await fakeDeno(`${dir}/other/deno`, GOOD);
    await fakeDeno(`${dir}/bin/deno`, GOOD);
    const choice = await findDeno(opts(dir, { configured: `${dir}/other/deno` }));
    assertEquals(choice, { path: `${dir}/other/deno`, version: WANT, source: "config" });
  });
});

Deno.test("compiled: a wrong [sandbox] deno is an error, never a fallback", async () => {
  await layout(async (dir) => {
    await fakeDeno(`${dir}/bin/deno`, GOOD);
    await fakeDeno(`${dir}/path1/deno`, GOOD);
    const missing = await refusal(findDeno(opts(dir, { configured: `${dir}/other/deno` })));
    assertMatch(missing.message, /\[sandbox\] deno = ".*\/other\/deno": it does not exist/);
    assertMatch(missing.hint!, /npm install -g deno@2\.9\.6/);
    await fakeDeno(`${dir}/other/deno`, "deno 1.46.0 (stable, release, x86_64-unknown-linux-gnu)");
    const old = await refusal(findDeno(opts(dir, { configured: `${dir}/other/deno` })));
    assertMatch(old.message, /it is deno 1\.46\.0, not 2\.9\.6/);
    const relative = await refusal(findDeno(opts(dir, { configured: "deno" })));
    assertMatch(relative.message, /it is not an absolute path/);
  });
});

Deno.test("compiled: a deno of another version is refused, naming found and wanted", async () => {
  await layout(async (dir) => {
    await fakeDeno(`${dir}/bin/deno`, "deno 1.46.0 (stable, release, x86_64-unknown-linux-gnu)");
    await Deno.writeTextFile(`${dir}/path1/deno`, "#!/bin/sh\necho 'node v22.1.0'\n");
    await Deno.chmod(`${dir}/path1/deno`, 0o755);
    await fakeDeno(`${dir}/path2/deno`, GOOD, 0o600);
    const err = await refusal(findDeno(opts(dir)));
    assertMatch(err.message, /bin\/deno is deno 1\.46\.0, not 2\.9\.6/);
    assertMatch(err.message, /path1\/deno is not deno: `--version` printed "node v22\.1\.0"/);
    assertMatch(err.message, /path2\/deno is not executable/);
    const details = err.details as { wanted: string; refused: { source: string }[] };
    assertEquals(details.wanted, WANT);
    assertEquals(details.refused.map((r) => r.source), ["beside", "path", "path"]);
  });
});

Deno.test("compiled: no deno anywhere says how to install the right one", async () => {
  await layout(async (dir) => {
    const err = await refusal(findDeno(opts(dir)));
    assertMatch(err.message, /with deno 2\.9\.6, and found none beside .*\/bin\/taud or on PATH/);
    assertMatch(err.hint!, /`npm install -g deno@2\.9\.6`/);
    assertMatch(err.hint!, /\/bin\/deno/);
    assertMatch(err.hint!, /\[sandbox\] deno = /);
    assertEquals(err.status, 503);
  });
});

Deno.test("a candidate that hangs is refused after the timeout", async () => {
  await layout(async (dir) => {
    await Deno.writeTextFile(`${dir}/bin/deno`, "#!/bin/sh\nexec sleep 30\n");
    await Deno.chmod(`${dir}/bin/deno`, 0o755);
    const started = Date.now();
    const r = await probeDeno(`${dir}/bin/deno`, {
      pathEnv: "/usr/bin:/bin",
      expectedVersion: WANT,
      timeoutMs: 300,
    });
    assertEquals(r, { reason: "did not answer `--version` within 0.3 s" });
    assert(Date.now() - started < 5_000, "the probe waited for the child");
  });
});

Deno.test("the probe runs with PATH and HOME only", async () => {
  await layout(async (dir) => {
    await Deno.writeTextFile(
      `${dir}/bin/deno`,
      `#!/bin/sh\necho "deno 2.9.6 (\${TAU_PROBE_SECRET:-clean})"\n`,
    );
    await Deno.chmod(`${dir}/bin/deno`, 0o755);
    Deno.env.set("TAU_PROBE_SECRET", "leak");
    try {
      const r = await probeDeno(`${dir}/bin/deno`, {
        pathEnv: "/usr/bin:/bin",
        expectedVersion: WANT,
      });
      assertEquals(r, { version: WANT });
      await Deno.writeTextFile(
        `${dir}/bin/deno`,
        `#!/bin/sh\necho "deno \${TAU_PROBE_SECRET:-2.9.6}"\n`,
      );
      assertEquals(
        await probeDeno(`${dir}/bin/deno`, { pathEnv: "/usr/bin:/bin", expectedVersion: WANT }),
        { version: WANT },
      );
    } finally {
      Deno.env.delete("TAU_PROBE_SECRET");
    }
  });
});

Deno.test("the real deno running these tests is accepted as its own version", async () => {
  await layout(async (dir) => {
    const real = Deno.execPath();
    const choice = await findDeno({
      standalone: true,
      execPath: `${dir}/bin/taud`,
      pathEnv: real.slice(0, real.lastIndexOf("/")),
      expectedVersion: Deno.version.deno,
    });
    assertEquals(choice, { path: real, version: Deno.version.deno, source: "path" });
  });
});
