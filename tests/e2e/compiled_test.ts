/**
 * The binaries of `deno task compile`: the compiled `tau` against a daemon, printing what the
 * source CLI prints, and a compiled `taud` that extracts its runtime, finds its deno and runs
 * the hello pipeline in the sandbox. `deno compile` needs Deno's denort runtime (downloaded
 * from dl.deno.land, or DENORT_BIN): without one these tests are reported as ignored, never as
 * passed. What needs no binary (extraction, deno discovery, the status report) is tested always,
 * in src/runtime/ and daemon_test.ts.
 */
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { assert, assertEquals } from "../helpers/assert.ts";
import { cleanEnv, EXAMPLES, runCli, startDaemon } from "../helpers/daemon.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

/** A denort for this Deno: DENORT_BIN, or the one `deno compile` downloaded before. */
function denortAvailable(): string | null {
  const given = Deno.env.get("DENORT_BIN");
  if (given) return given;
  const cache = Deno.env.get("DENO_DIR") ??
    join(Deno.env.get("XDG_CACHE_HOME") ?? join(Deno.env.get("HOME") ?? "/", ".cache"), "deno");
  const zip = join(
    cache,
    "dl",
    "release",
    `v${Deno.version.deno}`,
    `denort-${Deno.build.target}.zip`,
  );
  try {
    return Deno.statSync(zip).isFile ? zip : null;
  } catch {
    return null;
  }
}

const DENORT = denortAvailable();
if (!DENORT) {
  console.log(
    "compiled binary tests ignored: no denort (deno compile downloads it from dl.deno.land, " +
      "or set DENORT_BIN=/path/to/denort)",
  );
}

async function run(cmd: string, args: string[], env: Record<string, string>) {
  const out = await new Deno.Command(cmd, {
    args,
    clearEnv: true,
    env: cleanEnv(env),
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stdout = new TextDecoder().decode(out.stdout);
  return { code: out.code, stdout, stderr: new TextDecoder().decode(out.stderr) };
}

Deno.test({
  name: "deno task compile: tau and taud as single binaries that still sandbox every run",
  ignore: DENORT === null,
  async fn(t) {
    const dist = await Deno.makeTempDir({ prefix: "tau_dist_" });
    try {
      const built = await run(Deno.execPath(), [
        "run",
        "-A",
        join(ROOT, "build/compile.ts"),
        "--out",
        dist,
      ], {});
      assertEquals(built.code, 0, built.stdout + built.stderr);

      await t.step("the compiled tau prints what the source CLI prints", async () => {
        const d = await startDaemon();
        try {
          await d.tau("deploy", `${EXAMPLES}hello_pipeline.ts`);
          for (const args of [["list"], ["version"], ["help", "deploy"], ["nope"]]) {
            const source = await runCli(args, d.env);
            const compiled = await run(join(dist, "tau"), args, d.env);
            assertEquals(compiled.stdout, source.stdout, args.join(" "));
            assertEquals(compiled.code, source.code, args.join(" "));
          }
        } finally {
          await d.stop();
        }
      });

      await t.step(
        "the compiled taud extracts its runtime and runs hello_world sandboxed",
        async () => {
          const home = await Deno.makeTempDir({ prefix: "tau_compiled_home_" });
          // Runs use the deno that built the binaries, put beside taud as install.sh --binaries does.
          await Deno.symlink(Deno.execPath(), join(dist, "deno"));
          const env = { TAU_HOME: home, TAU_PORT: "0", PATH: "/usr/bin:/bin" };
          try {
            const started = await run(join(dist, "taud"), [], env);
            assertEquals(started.code, 0, started.stdout + started.stderr);
            const tau = (...args: string[]) => run(join(dist, "tau"), args, env);
            const status = JSON.parse((await tau("status")).stdout);
            assertEquals(status.build.compiled, true);
            assertEquals(status.build.deno.source, "beside");
            assert(
              status.build.runtime_dir.startsWith(`${home}/runtime/`),
              status.build.runtime_dir,
            );
            assert(status.sandbox.layers.deno_permissions, "runs are sandboxed");
            const deployed = await tau("deploy", `${EXAMPLES}hello_pipeline.ts`);
            assertEquals(deployed.code, 0, deployed.stdout);
            const ran = JSON.parse((await tau("run", "hello_world")).stdout);
            assertEquals(ran.status, "success", JSON.stringify(ran));
          } finally {
            await run(join(dist, "taud"), ["stop"], env);
            await Deno.remove(home, { recursive: true });
          }
        },
      );
    } finally {
      await Deno.remove(dist, { recursive: true });
    }
  },
});
