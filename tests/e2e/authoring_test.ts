/**
 * Writing pipelines against a real daemon: deploy errors point into the author's file (never
 * the staging copy), refused imports say why, `tau check` runs deploy's checks and stores
 * nothing, and `tau init` makes a folder outside the repository where a real `deno check` works.
 */
import { dirname, join } from "node:path";
import { assert, assertEquals, assertMatch } from "../helpers/assert.ts";
import { type CliResult, FIXTURES, startDaemon, TAU } from "../helpers/daemon.ts";

/** The CLI run from `cwd`, as a person in that folder would run it (no TAU_* but `env`). */
async function tauIn(cwd: string, env: Record<string, string>, ...args: string[]) {
  const inherited = Object.entries(Deno.env.toObject()).filter(([k]) => !k.startsWith("TAU_"));
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", TAU, ...args],
    cwd,
    env: { ...Object.fromEntries(inherited), ...env },
    clearEnv: true,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stdout = new TextDecoder().decode(out.stdout);
  return { code: out.code, json: JSON.parse(stdout), stdout } as CliResult;
}

interface Diagnostic {
  file: string;
  line: number;
  column: number;
  code: string;
  message: string;
}

/** The error's location and diagnostics name the author's file, and nothing names staging. */
function assertInAuthorFile(res: CliResult, file: string, line: number) {
  assertEquals(res.code, 1, res.stdout);
  const error = res.json.error;
  assertEquals(error.code, "invalid_pipeline", res.stdout);
  assertEquals(error.location.file, file, res.stdout);
  assertEquals(error.location.line, line, res.stdout);
  assert.ok(Number.isInteger(error.location.column) && error.location.column > 0);
  assert.ok(!/staging|deploy_|pipeline\.ts/.test(res.stdout), res.stdout);
  const diagnostics = error.details.diagnostics as Diagnostic[];
  assert.ok(diagnostics.length >= 1, res.stdout);
  for (const d of diagnostics) {
    assertEquals(Object.keys(d).sort(), ["code", "column", "file", "line", "message"]);
    assertEquals(d.file, file);
  }
  assertEquals(
    { file: diagnostics[0]!.file, line: diagnostics[0]!.line, column: diagnostics[0]!.column },
    error.location,
  );
  return error;
}

Deno.test("deploy errors point into the author's file and say what is wrong", async (t) => {
  const d = await startDaemon();
  try {
    await t.step("a syntax error", async () => {
      const error = assertInAuthorFile(
        await d.tau("deploy", `${FIXTURES}syntax_error.ts`),
        "syntax_error.ts",
        4,
      );
      assertEquals(error.location.column, 23);
      assertEquals(error.details.diagnostics[0].code, "SyntaxError");
      assertMatch(error.message, /syntax error at syntax_error\.ts:4:23/);
      assert.ok(!/import/.test(error.hint), error.hint);
    });

    await t.step("a type error", async () => {
      const error = assertInAuthorFile(
        await d.tau("deploy", `${FIXTURES}type_error.ts`),
        "type_error.ts",
        4,
      );
      assertEquals(error.details.diagnostics.length, 1);
      assertEquals(error.details.diagnostics[0].code, "TS2322");
      assertMatch(error.details.diagnostics[0].message, /not assignable to type 'number'/);
    });

    await t.step("an unapproved npm package", async () => {
      const res = await d.tau("deploy", `${FIXTURES}import_unapproved.ts`);
      const error = assertInAuthorFile(res, "import_unapproved.ts", 2);
      assertMatch(error.message, /npm package left-pad is not approved/);
      for (const name of ["postgres", "mysql2/promise", "zod"]) {
        assert.ok(error.hint.includes(name));
      }
      assert.ok(!/TLS|certificate|registry|deno add/i.test(res.stdout), res.stdout);
      assertEquals(error.details.refused[0].reason, "not_approved");
    });

    await t.step("a bare package name that is not approved", async () => {
      const dir = await Deno.makeTempDir();
      const file = join(dir, "bare_import.ts");
      await Deno.writeTextFile(
        file,
        `import { pipeline } from "tau";\nimport express from "express";\n\n` +
          `export default pipeline({ name: "bare_import" }, () => ({ t: typeof express }));\n`,
      );
      const res = await d.tau("deploy", file);
      const error = assertInAuthorFile(res, "bare_import.ts", 2);
      assertMatch(error.message, /npm package express is not approved/);
      assert.ok(!/deno add/.test(res.stdout), res.stdout);
      await Deno.remove(dir, { recursive: true });
    });

    await t.step("a sibling file", async () => {
      const res = await d.tau("deploy", `${FIXTURES}import_sibling.ts`);
      const error = assertInAuthorFile(res, "import_sibling.ts", 2);
      assertMatch(error.message, /Pipelines are single files/);
      assertMatch(error.hint, /into the pipeline file itself/);
      assertEquals(error.details.refused[0].specifier, "./helpers.ts");
    });

    await t.step("a text import of another file (refused by the graph check)", async () => {
      const res = await d.tau("deploy", `${FIXTURES}hostile/import_text.ts`);
      const error = assertInAuthorFile(res, "import_text.ts", 2);
      assertMatch(error.message, /single files: the import of \/etc\/passwd/);
    });

    await t.step("top-level code that throws", async () => {
      const res = await d.tau("deploy", `${FIXTURES}top_level_throw.ts`);
      assertEquals(res.code, 1, res.stdout);
      assertEquals(res.json.error.location, { file: "top_level_throw.ts", line: 3, column: 23 });
      assertMatch(res.json.error.hint, /line 3/);
    });

    await t.step("a config error names the field's line", async () => {
      const res = await d.tau("deploy", `${FIXTURES}bad_cron.ts`);
      assertEquals(res.code, 1, res.stdout);
      assertEquals(res.json.error.location.file, "bad_cron.ts");
      assertEquals(res.json.error.location.line, 3);
      assertEquals(res.json.error.location.column, 45); // `schedule:`
    });

    await t.step("an error without a place says so, and no hint claims one", async () => {
      const res = await d.tau("deploy", `${FIXTURES}not_a_pipeline.ts`);
      assertEquals(res.code, 1, res.stdout);
      assertEquals(res.json.error.location, null);
      assert.ok(!/ at |line \d/.test(res.json.error.hint), res.json.error.hint);
    });

    await t.step("nothing was deployed", async () => {
      assertEquals((await d.tau("list")).json.count, 0);
    });
  } finally {
    await d.stop();
  }
});

Deno.test("tau check runs deploy's checks, shows the permissions, and stores nothing", async (t) => {
  const d = await startDaemon();
  try {
    await t.step("a good file", async () => {
      const res = await d.tau("check", `${FIXTURES}ok_pipeline.ts`);
      assertEquals(res.code, 0, res.stdout);
      assertEquals(res.json.ok, true);
      assertEquals(res.json.deploy, "new_pipeline");
      assertEquals(res.json.version, 1);
      assertEquals(typeof res.json.metadata.name, "string");
      assert.ok(Array.isArray(res.json.permissions.flags));
      assert.ok(res.json.permissions.flags.includes("--no-prompt"));
      assertEquals((await d.tau("list")).json.count, 0);
    });

    for (
      const fixture of ["syntax_error.ts", "type_error.ts", "import_sibling.ts", "bad_cron.ts"]
    ) {
      await t.step(`${fixture}: the same error as deploy`, async () => {
        const check = await d.tau("check", `${FIXTURES}${fixture}`);
        const deploy = await d.tau("deploy", `${FIXTURES}${fixture}`);
        assertEquals(check.code, 1, check.stdout);
        assertEquals(check.json, deploy.json);
      });
    }

    await t.step("after a deploy: unchanged, then a new version", async () => {
      const dir = await Deno.makeTempDir();
      const file = join(dir, "ok.ts");
      await Deno.copyFile(`${FIXTURES}ok_pipeline.ts`, file);
      await d.tau("deploy", file);
      const same = await d.tau("check", file);
      assertEquals([same.json.deploy, same.json.version], ["unchanged", 1]);
      await Deno.writeTextFile(file, "// edited\n", { append: true });
      const edited = await d.tau("check", file);
      assertEquals([edited.json.deploy, edited.json.version], ["new_version", 2]);
      assertEquals((await d.tau("show", same.json.pipeline)).json.current_version, 1);
      await Deno.remove(dir, { recursive: true });
    });
  } finally {
    await d.stop();
  }
});

Deno.test("the same file from another path is unchanged; hints work from the caller's folder", async () => {
  const d = await startDaemon();
  const root = await Deno.makeTempDir();
  try {
    const code = await Deno.readTextFile(`${FIXTURES}ok_pipeline.ts`);
    for (const sub of ["a", "b"]) {
      await Deno.mkdir(join(root, sub));
      await Deno.writeTextFile(join(root, sub, "p.ts"), code);
    }
    assertEquals((await tauIn(join(root, "a"), d.env, "deploy", "p.ts")).code, 0);
    const copy = await tauIn(join(root, "b"), d.env, "deploy", "p.ts");
    assertEquals(copy.code, 0, copy.stdout);
    assertEquals([copy.json.unchanged, copy.json.version], [true, 1]);
    const shown = await d.tau("show", copy.json.deployed);
    assertEquals(shown.json.source_path, join(root, "a", "p.ts"));

    await Deno.writeTextFile(join(root, "b", "p.ts"), "// edited\n", { append: true });
    const clash = await tauIn(join(root, "b"), d.env, "deploy", "p.ts");
    assertEquals(clash.json.error.code, "name_conflict", clash.stdout);
    assertMatch(clash.json.error.message, /deployed from \.\.\/a\/p\.ts/);
    const command = /tau (deploy \S+ --force)/.exec(clash.json.error.hint)?.[1];
    assertEquals(command, "deploy p.ts --force");
    // The hint, run as printed from the same folder, does what it says.
    const forced = await tauIn(join(root, "b"), d.env, ...command!.split(" "));
    assertEquals([forced.code, forced.json.version], [0, 2], forced.stdout);
  } finally {
    await d.stop();
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("tau init makes deno check work on a pipeline outside the repository", async () => {
  const dir = await Deno.makeTempDir({ prefix: "tau_init_" });
  const home = await Deno.makeTempDir();
  // No daemon anywhere: init needs none.
  const env = { TAU_HOME: home, TAU_HOST: "http://127.0.0.1:1", NO_COLOR: "1" };
  try {
    const project = join(dir, "my-project");
    const first = await tauIn(dir, env, "init", "my-project");
    assertEquals(first.code, 0, first.stdout);
    assertEquals(first.json.written, ["my-project/deno.json", "my-project/pipeline.ts"]);
    assertEquals(first.json.skipped, []);
    const config = JSON.parse(await Deno.readTextFile(join(project, "deno.json")));
    const sdk = new URL("../../sdk/", import.meta.url).href;
    assertEquals(config.imports.tau, `${sdk}mod.ts`);
    assertEquals(config.imports["tau/connectors"], `${sdk}connectors/mod.ts`);

    const check = (file: string) =>
      new Deno.Command(Deno.execPath(), {
        args: ["check", file],
        cwd: project,
        env: { NO_COLOR: "1" },
        stdout: "piped",
        stderr: "piped",
      }).output();
    const ok = await check("pipeline.ts");
    assertEquals(ok.code, 0, new TextDecoder().decode(ok.stderr));
    // The check is real: a type error in the author's file fails it, at that file.
    await Deno.writeTextFile(
      join(project, "broken.ts"),
      `import { pipeline } from "tau";\n\nexport default pipeline({ name: 7 }, () => null);\n`,
    );
    const broken = await check("broken.ts");
    assertEquals(broken.code, 1);
    assertMatch(new TextDecoder().decode(broken.stderr), /TS2322[\s\S]*broken\.ts:3/);

    // A second init overwrites nothing and says so.
    const before = await Deno.readTextFile(join(project, "pipeline.ts"));
    const again = await tauIn(project, env, "init");
    assertEquals(again.code, 0, again.stdout);
    assertEquals(again.json.written, []);
    assertEquals(again.json.skipped.map((s: { path: string }) => s.path), [
      "deno.json",
      "pipeline.ts",
    ]);
    assertEquals(await Deno.readTextFile(join(project, "pipeline.ts")), before);
    assert.ok(!dirname(project).startsWith(new URL("../../", import.meta.url).pathname));
  } finally {
    await Deno.remove(dir, { recursive: true });
    await Deno.remove(home, { recursive: true });
  }
});
