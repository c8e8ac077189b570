/**
 * docs/cli.md documents the command table, no more and no less. Each command of `COMMANDS`
 * (src/cli/commands.ts) has at least one entry, a paragraph opening with its usage in bold code
 * (`**\`tau deploy <file> [--name NAME] …\`**`), and its entries together name every flag it
 * takes; every `tau <word>` the page mentions, in prose or examples, is a command the CLI has.
 * A new command, a new flag or a renamed one fails here until the reference says so.
 */
import { assert, assertEquals } from "./helpers/assert.ts";
import { COMMANDS } from "../src/cli/commands.ts";
import { main } from "../src/cli/main.ts";

const CLI_REFERENCE = new URL("../docs/cli.md", import.meta.url);

/** Commands `main` answers itself, outside the table (`tau help`, `tau help COMMAND`). */
const BUILT_IN = ["help"];

/** What the reference needs to know of a command: the flags it takes. */
type CommandTable = Record<string, { options?: Record<string, unknown> }>;

/** Each command's entries: the usages in `**\`tau NAME …\`**`, by command name. */
function entries(markdown: string): Map<string, string[]> {
  const found = new Map<string, string[]>();
  for (const [, name, usage] of markdown.matchAll(/\*\*`tau ([a-z][a-z-]*)((?: [^`]*)?)`\*\*/g)) {
    found.set(name!, [...found.get(name!) ?? [], usage!]);
  }
  return found;
}

/** Every word written as `tau <word>` (lower case: `tau COMMAND` is a placeholder). */
function mentions(markdown: string): Set<string> {
  return new Set([...markdown.matchAll(/(?<![\w/.-])tau ([a-z][a-z-]*)/g)].map((m) => m[1]!));
}

/** What keeps the reference and the command table apart; empty when they agree. */
function drift(markdown: string, commands: CommandTable, builtIn: string[]): string[] {
  const problems: string[] = [];
  const documented = entries(markdown);
  for (const [name, spec] of Object.entries(commands)) {
    const usages = documented.get(name);
    if (!usages) {
      problems.push(`tau ${name} has no entry (**\`tau ${name} …\`**)`);
      continue;
    }
    for (const flag of Object.keys(spec.options ?? {})) {
      if (!usages.some((usage) => new RegExp(`--${flag}(?![\\w-])`).test(usage))) {
        problems.push(`tau ${name}: --${flag} is in no entry's usage`);
      }
    }
  }
  const known = new Set([...Object.keys(commands), ...builtIn]);
  for (const word of mentions(markdown)) {
    if (!known.has(word)) problems.push(`tau ${word} is mentioned but is no command`);
  }
  return problems;
}

Deno.test("docs/cli.md documents every command and flag of the command table, and no other", async () => {
  const reference = await Deno.readTextFile(CLI_REFERENCE);
  assertEquals(drift(reference, COMMANDS, BUILT_IN), []);
});

Deno.test("the commands outside the table are ones the CLI answers", async () => {
  for (const name of BUILT_IN) {
    assert(!(name in COMMANDS), `${name} is in the command table now; drop it from BUILT_IN`);
    assertEquals((await main([name])).code, 0);
  }
});

Deno.test("the drift check fails on a missing command, a missing flag and an unknown command", () => {
  const table: CommandTable = {
    deploy: { options: { name: {}, force: {} } },
    list: {},
    run: { options: { params: {} } },
  };
  const reference = [
    "**`tau deploy <file> [--name NAME] [--force]`** — stores a version.",
    "**`tau list`** — every pipeline. See also `tau help` and `tau run NAME`.",
  ].join("\n\n");
  assertEquals(drift(reference, table, BUILT_IN), ["tau run has no entry (**`tau run …`**)"]);

  const withRun = reference + "\n\n**`tau run <name>`** — starts a run; `tau frobnicate` too.";
  assertEquals(drift(withRun, table, BUILT_IN), [
    "tau run: --params is in no entry's usage",
    "tau frobnicate is mentioned but is no command",
  ]);

  // A flag counts whole: --name does not stand in for --names, nor the path tau.toml for a command.
  const renamed = reference.replace("--name NAME", "--names NAMES") +
    "\n\n**`tau run <name> [--params JSON]`**, configured in $TAU_HOME/tau.toml.";
  assertEquals(drift(renamed, table, BUILT_IN), [
    "tau deploy: --name is in no entry's usage",
  ]);
});
