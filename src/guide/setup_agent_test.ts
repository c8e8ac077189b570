/**
 * The agent setup install.sh runs, against a temporary Claude Code folder and a fake `claude`
 * that records its arguments, fails `mcp get` until an `mcp add` and succeeds after it.
 */
import { assertEquals, assertMatch } from "../../tests/helpers/assert.ts";
import { agentGuide, GUIDE_DESCRIPTION } from "./guide.ts";
import { COMMANDS } from "../cli/commands.ts";
import { setupAgent, type SetupOptions, skillText } from "./setup_agent.ts";

const SCRIPT = new URL("./setup_agent.ts", import.meta.url).pathname;

const FAKE_CLAUDE = `#!/bin/sh
here="$(dirname "$0")"
echo "$*" >> "$here/calls.log"
if [ "$1 $2" = "mcp get" ]; then [ -f "$here/registered" ]; exit $?; fi
if [ "$1 $2" = "mcp add" ]; then touch "$here/registered"; exit 0; fi
exit 2
`;

interface Sandbox {
  dir: string;
  configDir: string;
  skill: string;
  bin: string;
  claude: string;
  notes: string[];
  calls(): Promise<string[]>;
  /** Every file under the sandbox with its text, to show a run changed nothing. */
  files(): Promise<Record<string, string>>;
  setup(extra?: Partial<SetupOptions>): ReturnType<typeof setupAgent>;
}

async function sandbox(): Promise<Sandbox> {
  const dir = await Deno.makeTempDir({ prefix: "tau_agent_" });
  const bin = `${dir}/bin`;
  await Deno.mkdir(bin);
  const claude = `${bin}/claude`;
  await Deno.writeTextFile(claude, FAKE_CLAUDE, { mode: 0o755 });
  const configDir = `${dir}/claude`;
  const notes: string[] = [];
  const walk = async (at: string, out: Record<string, string>) => {
    for await (const entry of Deno.readDir(at)) {
      const path = `${at}/${entry.name}`;
      if (entry.isDirectory) await walk(path, out);
      else out[path.slice(dir.length)] = await Deno.readTextFile(path);
    }
    return out;
  };
  return {
    dir,
    configDir,
    skill: `${configDir}/skills/tau/SKILL.md`,
    bin,
    claude,
    notes,
    calls: async () =>
      (await Deno.readTextFile(`${bin}/calls.log`).catch(() => "")).split("\n").filter(Boolean),
    files: () => walk(dir, {}),
    setup: (extra = {}) =>
      setupAgent({
        configDir,
        tau: "/opt/tau/bin/tau",
        claude,
        guide: () => Promise.resolve("# Guide v1\n"),
        note: (text) => notes.push(text),
        ...extra,
      }),
  };
}

const ADD = "mcp add --scope user tau -- /opt/tau/bin/tau mcp";

Deno.test("setup writes the skill with its frontmatter and registers tau mcp once", async () => {
  const s = await sandbox();
  const first = await s.setup();
  assertEquals(first.skill?.status, "written");
  assertEquals(first.mcp?.status, "added");
  const text = await Deno.readTextFile(s.skill);
  assertEquals(
    text,
    `---\nname: tau\ndescription: ${JSON.stringify(GUIDE_DESCRIPTION)}\n---\n\n# Guide v1\n`,
  );
  assertEquals(await s.calls(), ["mcp get tau", ADD]);

  // Run again: nothing changes on disk, and the server is not added twice.
  const before = await s.files();
  const second = await s.setup();
  assertEquals(second.skill?.status, "unchanged");
  assertEquals(second.mcp?.status, "present");
  const after = await s.files();
  delete before["/bin/calls.log"];
  delete after["/bin/calls.log"];
  assertEquals(after, before);
  assertEquals(await s.calls(), ["mcp get tau", ADD, "mcp get tau"]);
  await Deno.remove(s.dir, { recursive: true });
});

Deno.test("a new guide replaces the file setup wrote, never one the user changed", async () => {
  const s = await sandbox();
  await s.setup();
  const v2 = () => Promise.resolve("# Guide v2\n");
  assertEquals((await s.setup({ guide: v2 })).skill?.status, "updated");
  assertEquals(await Deno.readTextFile(s.skill), skillText("# Guide v2\n"));

  await Deno.writeTextFile(s.skill, "my own notes\n");
  s.notes.length = 0;
  const kept = await s.setup({ guide: () => Promise.resolve("# Guide v3\n") });
  assertEquals(kept.skill?.status, "kept");
  assertEquals(kept.skill?.new_version, `${s.skill}.new`);
  assertEquals(await Deno.readTextFile(s.skill), "my own notes\n");
  assertEquals(await Deno.readTextFile(`${s.skill}.new`), skillText("# Guide v3\n"));
  assertMatch(s.notes[0]!, /^kept .*SKILL\.md: it was changed .* the new version is in .*\.new$/);
  // Still the user's on the next run, even once the guide matches what was kept aside.
  assertEquals((await s.setup({ guide: v2 })).skill?.status, "kept");
  assertEquals(await Deno.readTextFile(s.skill), "my own notes\n");
  await Deno.remove(s.dir, { recursive: true });
});

Deno.test("a SKILL.md that setup never wrote is kept", async () => {
  const s = await sandbox();
  await Deno.mkdir(`${s.configDir}/skills/tau`, { recursive: true });
  await Deno.writeTextFile(s.skill, "written by hand\n");
  assertEquals((await s.setup()).skill?.status, "kept");
  assertEquals(await Deno.readTextFile(s.skill), "written by hand\n");
  await Deno.remove(s.dir, { recursive: true });
});

Deno.test("--no-agent writes nothing and asks claude nothing", async () => {
  const s = await sandbox();
  const report = await s.setup({ skip: true });
  assertEquals(report, { skipped: true, skill: null, mcp: null });
  assertEquals(Object.keys(await s.files()), ["/bin/claude"]);
  await Deno.remove(s.dir, { recursive: true });
});

Deno.test("without claude, or when claude fails, the skill is still installed", async () => {
  const s = await sandbox();
  const missing = await s.setup({ claude: `${s.dir}/no_such_claude` });
  assertEquals(missing.mcp?.status, "no_claude");
  assertEquals(missing.skill?.status, "written");
  assertMatch(s.notes.at(-1)!, /claude mcp add --scope user tau -- \/opt\/tau\/bin\/tau mcp/);

  const failing = `${s.bin}/failing_claude`;
  await Deno.writeTextFile(failing, "#!/bin/sh\necho 'no config' >&2\nexit 1\n", { mode: 0o755 });
  const failed = await s.setup({ claude: failing });
  assertEquals(failed.mcp, { status: "failed", error: "claude mcp add failed: no config" });
  assertMatch(s.notes.at(-1)!, /^warning: could not register/);

  // An unwritable skills folder is a warning too, and the MCP step still runs.
  await Deno.remove(`${s.configDir}/skills`, { recursive: true });
  await Deno.writeTextFile(`${s.configDir}/skills`, "a file where a folder should be");
  const blocked = await s.setup();
  assertEquals(blocked.skill?.status, "failed");
  assertEquals(blocked.mcp?.status, "added");
  await Deno.remove(s.dir, { recursive: true });
});

Deno.test("the script install.sh runs: the real guide, HOME's .claude, claude from PATH", async () => {
  const s = await sandbox();
  const info = await new Deno.Command(Deno.execPath(), { args: ["info", "--json"] }).output();
  const denoDir = JSON.parse(new TextDecoder().decode(info.stdout)).denoDir as string;
  const run = (...args: string[]) =>
    new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", SCRIPT, "--tau", "/opt/tau/bin/tau", ...args],
      // HOME moves, the module cache must not; an empty CLAUDE_CONFIG_DIR counts as unset.
      env: {
        HOME: s.dir,
        CLAUDE_CONFIG_DIR: "",
        PATH: `${s.bin}:${Deno.env.get("PATH") ?? ""}`,
        DENO_DIR: denoDir,
      },
      stdout: "piped",
      stderr: "piped",
    }).output();

  const skipped = await run("--no-agent");
  assertEquals(skipped.code, 0);
  assertEquals(JSON.parse(new TextDecoder().decode(skipped.stdout)).skipped, true);
  assertEquals(Object.keys(await s.files()), ["/bin/claude"]);

  const out = await run();
  assertEquals(out.code, 0, new TextDecoder().decode(out.stderr));
  const report = JSON.parse(new TextDecoder().decode(out.stdout));
  assertEquals(report.skill.status, "written");
  assertEquals(report.mcp.status, "added");
  const skill = await Deno.readTextFile(`${s.dir}/.claude/skills/tau/SKILL.md`);
  assertEquals(skill, skillText(await agentGuide(COMMANDS)));
  assertEquals(await s.calls(), ["mcp get tau", ADD]);
  await Deno.remove(s.dir, { recursive: true });
});
