/**
 * What a compiled taud does at start, done from the checkout (`standalone: true`): the files
 * runs read are extracted into TAU_HOME and every path that names them moves there; a deno is
 * found and checked. The binaries themselves are tested in tests/e2e/compiled_test.ts.
 */
import { assert, assertEquals } from "../../tests/helpers/assert.ts";
import { tauPaths } from "../config/paths.ts";
import { prepareRuntime, runtime, sdkDir, SOURCE_ROOT } from "./root.ts";

Deno.test("a compiled start extracts the runtime into TAU_HOME and points the SDK there", async () => {
  const home = await Deno.makeTempDir({ prefix: "tau_runtime_root_" });
  try {
    const prepared = await prepareRuntime(home, {
      standalone: true,
      configuredDeno: Deno.execPath(),
    });
    assert(prepared.root.startsWith(`${home}/runtime/`), prepared.root);
    assertEquals(runtime(), prepared);
    assertEquals(prepared.deno, Deno.execPath());
    assertEquals(prepared.report.deno.source, "config");
    assertEquals(prepared.report.runtime_dir, prepared.root);
    assertEquals(sdkDir(), `${prepared.root}/sdk/`);
    assertEquals(tauPaths(home).sdkDir, sdkDir());
    // The extracted SDK, import map and lockfile are the checkout's, byte for byte.
    for (const file of ["sdk/mod.ts", "deno.json", "deno.lock", "src/connections/engine_main.ts"]) {
      assertEquals(
        await Deno.readFile(`${prepared.root}/${file}`),
        await Deno.readFile(`${SOURCE_ROOT}${file}`),
        file,
      );
    }
    // A second start reuses it.
    const again = await prepareRuntime(home, { standalone: true, configuredDeno: Deno.execPath() });
    assertEquals(again.root, prepared.root);
  } finally {
    const back = await prepareRuntime(home, { standalone: false });
    assertEquals([back.root, back.report.compiled, back.report.runtime_dir], [
      SOURCE_ROOT,
      false,
      null,
    ]);
    await Deno.remove(home, { recursive: true });
  }
});

Deno.test("a compiled start without a deno of its version is refused as sandbox_unavailable", async () => {
  const home = await Deno.makeTempDir({ prefix: "tau_runtime_root_" });
  try {
    const fake = `${home}/deno`;
    await Deno.writeTextFile(fake, "#!/bin/sh\necho 'deno 1.46.0 (stable)'\n");
    await Deno.chmod(fake, 0o755);
    const err = await prepareRuntime(home, { standalone: true, configuredDeno: fake })
      .then(() => null, (e) => e);
    assertEquals(err?.code, "sandbox_unavailable");
    assert(String(err.message).includes("1.46.0"), err.message);
    assertEquals(runtime().root, SOURCE_ROOT, "nothing changed");
  } finally {
    await Deno.remove(home, { recursive: true });
  }
});
