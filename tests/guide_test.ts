/**
 * The agent guide covers everything it is made from, and AGENTS.md is what it renders. Each
 * list is read here on its own (`tau help`, `deno doc --json sdk/mod.ts`, the error lists), and
 * each coverage check is shown to fail on a guide rendered without one of its items.
 * `UPDATE_DOCS=1 deno test -A tests/guide_test.ts` rewrites AGENTS.md after such a change.
 */
import { assert, assertEquals } from "./helpers/assert.ts";
import { COMMANDS } from "../src/cli/commands.ts";
import { main } from "../src/cli/main.ts";
import { RawText } from "../src/cli/raw_text.ts";
import { ERROR_CODES } from "../src/core/error_codes.ts";
import { RUN_ERROR_KINDS } from "../src/core/run_error_kinds.ts";
import {
  agentsMarkdown,
  CODE_ADVICE,
  commandHeading,
  ctxHeading,
  KIND_ADVICE,
  loadSdkDocs,
  renderGuide,
} from "../src/guide/mod.ts";

const AGENTS = new URL("../AGENTS.md", import.meta.url);
const SDK = new URL("../sdk/mod.ts", import.meta.url);
const CLI = new URL("../src/cli/main.ts", import.meta.url);
const CONFIG = new URL("../deno.json", import.meta.url);

/** Markdown as `deno fmt` writes it (AGENTS.md is kept formatted like every file). */
async function formatted(markdown: string): Promise<string> {
  const child = new Deno.Command(Deno.execPath(), {
    // The repository's settings (line width), wherever the test is started from.
    args: ["fmt", "--config", CONFIG.pathname, "--ext=md", "-"],
    stdin: "piped",
    stdout: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(markdown));
  await writer.close();
  const out = await child.output();
  assert.ok(out.success, "deno fmt failed on the rendered markdown");
  return new TextDecoder().decode(out.stdout);
}

if (Deno.env.get("UPDATE_DOCS")) {
  await Deno.writeTextFile(AGENTS, await formatted(await agentsMarkdown(COMMANDS)));
}

/** The commands `tau help` lists. */
async function helpCommands(): Promise<{ name: string; usage: string }[]> {
  const { output } = await main(["help"]);
  return (output as { commands: { name: string; usage: string }[] }).commands;
}

/** The members of the interface a pipeline function receives as `ctx`, from deno doc. */
async function ctxMembers(): Promise<string[]> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["doc", "--json", SDK.pathname],
    stdout: "piped",
  }).output();
  // deno-lint-ignore no-explicit-any
  const symbols: any[] = Object.values(JSON.parse(new TextDecoder().decode(out.stdout)).nodes)
    // deno-lint-ignore no-explicit-any
    .flatMap((node: any) => node.symbols ?? []);
  const declaration = (name: string) => symbols.find((s) => s.name === name)?.declarations[0]?.def;
  const fn = declaration("PipelineFn")?.tsType;
  const ctxType: string = fn?.value.params[0].tsType.value.typeName;
  const ctx = declaration(ctxType);
  assert.ok(ctx, `no interface ${ctxType} in deno doc of sdk/mod.ts`);
  // deno-lint-ignore no-explicit-any
  const names = [...ctx.properties, ...ctx.methods].map((m: any) => m.name as string);
  assert.ok(names.length >= 10, names.join(", "));
  return names;
}

function lines(text: string): Set<string> {
  return new Set(text.split("\n").map((line) => line.trimEnd()));
}

/** Commands without their heading or without their usage line in the guide. */
function missingCommands(guide: string, commands: { name: string; usage: string }[]): string[] {
  const all = lines(guide);
  return commands.filter((c) => !all.has(commandHeading(c.name)) || !guide.includes(c.usage))
    .map((c) => c.name);
}

function missingCtx(guide: string, members: string[]): string[] {
  const all = lines(guide);
  return members.filter((name) => !all.has(ctxHeading(name)));
}

/** Codes or kinds without a table row of their own. */
function missingRows(guide: string, names: string[]): string[] {
  return names.filter((name) => !guide.includes(`\n| \`${name}\` |`));
}

const sdk = await loadSdkDocs();
const guide = renderGuide({ commands: COMMANDS, sdk });

Deno.test("AGENTS.md is what the guide module renders", async () => {
  const expected = await formatted(await agentsMarkdown(COMMANDS));
  const actual = await Deno.readTextFile(AGENTS).catch(() => "(AGENTS.md is missing)");
  assert.ok(
    actual === expected,
    "AGENTS.md is stale: run UPDATE_DOCS=1 deno test -A tests/guide_test.ts",
  );
});

Deno.test("the guide has a heading and the usage of every command tau help lists", async () => {
  const commands = await helpCommands();
  assertEquals(commands.map((c) => c.name), Object.keys(COMMANDS));
  assertEquals(missingCommands(guide, commands), []);
  // A command the table loses is caught.
  const { run: _, ...withoutRun } = COMMANDS;
  assertEquals(missingCommands(renderGuide({ commands: withoutRun, sdk }), commands), ["run"]);
});

Deno.test("the guide documents every member of the ctx interface", async () => {
  const members = await ctxMembers();
  for (const name of ["step", "secret", "connection", "signal"]) assert.ok(members.includes(name));
  assertEquals(missingCtx(guide, members), []);
  // A member the SDK's docs lose is caught.
  const pipeline = { ...sdk.pipeline, ctx: sdk.pipeline.ctx.filter((m) => m.name !== "step") };
  const without = renderGuide({ commands: COMMANDS, sdk: { ...sdk, pipeline } });
  assertEquals(missingCtx(without, members), ["step"]);
});

Deno.test("every error code and run error kind has a row with what to do", () => {
  const codes = Object.keys(ERROR_CODES);
  const kinds = Object.keys(RUN_ERROR_KINDS);
  assertEquals(missingRows(guide, codes), []);
  assertEquals(missingRows(guide, kinds), []);
  assertEquals(missingRows(guide, [...kinds, "no_such_kind"]), ["no_such_kind"]);
  // Advice for exactly the real lists, none of it empty, each shown in its row.
  assertEquals(Object.keys(CODE_ADVICE).sort(), [...codes].sort());
  assertEquals(Object.keys(KIND_ADVICE).sort(), [...kinds].sort());
  for (const [name, advice] of [...Object.entries(CODE_ADVICE), ...Object.entries(KIND_ADVICE)]) {
    assert.ok(advice.trim().length > 0, `${name} has no advice`);
    // `internal` is both a code and a kind: each of its rows holds its own advice.
    const rows = guide.split("\n").filter((line) => line.startsWith(`| \`${name}\` |`));
    const cell = advice.replace(/\|/g, "\\|");
    assert.ok(rows.some((row) => row.includes(cell)), `${name}'s row lacks its advice`);
  }
});

Deno.test("the guide has the hand-written sections and no absolute path of this machine", () => {
  for (
    const heading of [
      "## The loop",
      "## The pipeline file",
      "### The `ctx` API",
      "## Connections",
      "## Materializations",
      "## Scheduling",
      "## The sandbox: declare what a run needs",
      "## Commands",
      "## Exit codes",
      "## Errors and what to do",
    ]
  ) {
    assert.ok(lines(guide).has(heading), heading);
  }
  const root = new URL("..", import.meta.url).pathname;
  assert.ok(!guide.includes(root), `the guide names ${root}`);
});

Deno.test("tau guide prints the markdown as it is; --json wraps it; errors stay JSON", async () => {
  const raw = await main(["guide"]);
  assert.ok(raw.output instanceof RawText);
  assertEquals(raw.code, 0);
  assertEquals(raw.output.text, guide);
  assertEquals((await main(["guide", "--json"])).output, { guide });

  const run = async (...args: string[]) => {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", CLI.pathname, "guide", ...args],
      stdout: "piped",
      stderr: "piped",
    }).output();
    return { code: out.code, stdout: new TextDecoder().decode(out.stdout) };
  };
  const printed = await run();
  assertEquals(printed.code, 0);
  assertEquals(printed.stdout, guide);
  const refused = await run("extra");
  assertEquals(refused.code, 1);
  assertEquals(JSON.parse(refused.stdout).error.code, "invalid_params");
});
