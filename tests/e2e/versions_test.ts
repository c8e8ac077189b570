/** Versions, diff and rollback through the real CLI and daemon. */
import { assert, assertEquals, assertMatch } from "../helpers/assert.ts";
import { startDaemon } from "../helpers/daemon.ts";

/** One pipeline file; each version returns its number, v2 also declares a host and a limit. */
function source(version: number, extra = ""): string {
  return `import { pipeline } from "tau";

export default pipeline({ name: "versioned"${extra} }, async (ctx) => {
  const v = await ctx.step("which", () => ${version});
  return { v };
});
`;
}

Deno.test("versions, diff and rollback", async (t) => {
  const d = await startDaemon();
  const dir = await Deno.makeTempDir({ prefix: "tau_versions_" });
  const file = `${dir}/versioned.ts`;
  const deploy = async (code: string) => {
    await Deno.writeTextFile(file, code);
    const out = await d.tau("deploy", file);
    assertEquals(out.code, 0, out.stdout);
    return out.json;
  };
  try {
    await t.step("a pipeline with one version has nothing to roll back to", async () => {
      assertEquals((await deploy(source(1))).version, 1);
      const out = await d.tau("rollback", "versioned");
      assertEquals(out.code, 1);
      assertEquals(out.json.error.code, "conflict");
      assertMatch(out.json.error.message, /no earlier version/);
      assertMatch(out.json.error.hint, /tau deploy FILE/);
    });

    await t.step("versions lists each version with its source and grants", async () => {
      const v2 = await deploy(
        source(2, `, net: ["api.example.com:443"], limits: { memoryMb: 2048 }`),
      );
      assertEquals(v2.version, 2);
      const out = await d.tau("versions", "versioned");
      assertEquals(out.code, 0, out.stdout);
      assertEquals(out.json.pipeline, "versioned");
      assertEquals(out.json.current_version, 2);
      const [second, first] = out.json.versions;
      assertEquals(
        [second.version, second.source, second.parent, second.current, second.promoted],
        [2, "deploy", 1, true, true],
      );
      assertEquals([first.version, first.source, first.parent, first.current], [
        1,
        "deploy",
        null,
        false,
      ]);
      assert.ok(!("heal_id" in first), "heal_id only on healed versions");
      assertEquals(first.permissions_summary.hosts, []);
      assertEquals(second.permissions_summary.hosts, ["api.example.com:443"]);
      assertEquals(second.permissions_summary.secrets, []);
      assertEquals(second.permissions_summary.connections, []);
      assertEquals(second.permissions_summary.limits.memory_mb, 2048);
      assertMatch(second.hash, /^[0-9a-f]{64}$/);
    });

    await t.step("diff shows the code and the host and limit added", async () => {
      const out = await d.tau("diff", "versioned", "1");
      assertEquals(out.code, 0, out.stdout);
      assertEquals([out.json.from, out.json.to], [1, 2]);
      assertMatch(out.json.diff, /^--- v1\/versioned\.ts\n\+\+\+ v2\/versioned\.ts\n@@ /);
      assert.ok(out.json.diff.includes('\n-  const v = await ctx.step("which", () => 1);\n'));
      assert.ok(out.json.diff.includes('\n+  const v = await ctx.step("which", () => 2);\n'));
      assertEquals(out.json.permissions.added.hosts, ["api.example.com:443"]);
      assertEquals(out.json.permissions.added.limits, { memory_mb: 2048 });
      assertEquals(out.json.permissions.removed.hosts, []);
      assertEquals(Object.keys(out.json.permissions.removed.limits), ["memory_mb"]);
      const back = await d.tau("diff", "versioned", "2", "1");
      assertEquals(back.json.permissions.removed.hosts, ["api.example.com:443"]);
      assertEquals(back.json.permissions.added.hosts, []);
    });

    await t.step("rollback makes v1's code current as v3; the next run runs it", async () => {
      const out = await d.tau("rollback", "versioned");
      assertEquals(out.code, 0, out.stdout);
      assertEquals(out.json, {
        pipeline: "versioned",
        version: 3,
        source: "rollback",
        rolled_back_to: 1,
        previous_version: 2,
        hash: out.json.hash,
      });
      const versions = (await d.tau("versions", "versioned")).json;
      assertEquals(versions.current_version, 3);
      const v3 = versions.versions[0];
      assertEquals([v3.version, v3.source, v3.parent, v3.current], [3, "rollback", 1, true]);
      assertEquals(v3.hash, versions.versions[2].hash, "v3 has v1's code");
      assertEquals(v3.permissions_summary.hosts, []);
      const show = await d.tau("show", "versioned");
      assertEquals(show.json.permissions.net, []);

      const run = await d.tau("run", "versioned");
      assertEquals(run.json.status, "success", run.stdout);
      assertEquals(run.json.version, 3);
      assertEquals(run.json.result, { v: 1 });
      const code = await d.tau("code", "versioned");
      assertEquals(code.json.code, source(1));
    });

    await t.step("--to picks the version; the default undoes the last change", async () => {
      const to = await d.tau("rollback", "versioned", "--to", "2");
      assertEquals(to.code, 0, to.stdout);
      assertEquals([to.json.version, to.json.rolled_back_to], [4, 2]);
      const run = await d.tau("run", "versioned");
      assertEquals([run.json.version, run.json.result], [4, { v: 2 }]);
      // The version current before v4 was v3 (v1's code).
      const undo = await d.tau("rollback", "versioned");
      assertEquals([undo.json.version, undo.json.rolled_back_to], [5, 3]);
      assertEquals((await d.tau("run", "versioned")).json.result, { v: 1 });
    });

    await t.step("rollback errors say what to do", async () => {
      const same = await d.tau("rollback", "versioned", "--to", "1");
      assertEquals(same.code, 1);
      assertEquals(same.json.error.code, "conflict");
      assertMatch(same.json.error.message, /current version's code already/);
      assertMatch(same.json.error.hint, /tau diff versioned/);
      const missing = await d.tau("rollback", "versioned", "--to", "99");
      assertEquals(missing.json.error.code, "not_found");
      assertMatch(missing.json.error.hint, /tau versions versioned/);
      const bad = await d.tau("rollback", "versioned", "--to", "two");
      assertEquals(bad.json.error.code, "invalid_params");
      assertMatch(bad.json.error.hint, /tau versions NAME/);
      const unknown = await d.tau("rollback", "nope");
      assertEquals(unknown.json.error.code, "not_found");
      const noVersion = await d.tau("diff", "versioned", "42");
      assertEquals(noVersion.json.error.code, "not_found");
      const noArgs = await d.tau("diff", "versioned");
      assertEquals(noArgs.json.error.code, "invalid_params");
      assertMatch(noArgs.json.error.hint, /usage: tau diff <name> <A> \[B\]/);
      // Nothing above made a version.
      assertEquals((await d.tau("versions", "versioned")).json.current_version, 5);
    });
  } finally {
    await d.stop();
    await Deno.remove(dir, { recursive: true });
  }
});
