/**
 * Sets agents up to use Tau; install.sh runs it after installing the `tau` wrapper:
 *
 *   deno run -A src/guide/setup_agent.ts --tau /usr/local/bin/tau [--no-agent]
 *
 * 1. The guide becomes a Claude Code skill, `$CLAUDE_CONFIG_DIR/skills/tau/SKILL.md` (default
 *    `~/.claude/skills/tau/SKILL.md`). Beside it, `.tau-installed.sha256` records what was last
 *    written, so a file the user changed since is never overwritten: the new version goes to
 *    `SKILL.md.new` instead.
 * 2. When `claude` is on PATH and has no MCP server named `tau`, registers
 *    `claude mcp add --scope user tau -- <tau> mcp`.
 *
 * Idempotent. Prints what it did as one JSON document on stdout and notes on stderr; a step
 * that fails is a warning, never a failed install.
 */
import { homedir } from "node:os";
import { dirname, join } from "node:path";
import { parseArgs } from "node:util";
import { agentGuide, GUIDE_DESCRIPTION } from "./guide.ts";
import { COMMANDS } from "../cli/commands.ts";
import { errorText } from "../core/errors.ts";

export interface SetupOptions {
  /** Claude Code's settings folder (`CLAUDE_CONFIG_DIR`, else `~/.claude`). */
  configDir: string;
  /** The `tau` command the MCP server runs. */
  tau: string;
  /** The guide's markdown. @default {agentGuide} */
  guide?: () => Promise<string>;
  /** The Claude Code CLI. @default {"claude", found on PATH} */
  claude?: string;
  /** Do nothing (install.sh --no-agent). @default {false} */
  skip?: boolean;
  /** Where notes and warnings go. @default {console.error} */
  note?: (message: string) => void;
}

export interface SkillReport {
  /** written: new; updated: replaced what install.sh wrote before; kept: the user changed it. */
  status: "written" | "updated" | "unchanged" | "kept" | "failed";
  path: string;
  /** Where the new version went when the user's file was kept. */
  new_version?: string;
  error?: string;
}

export interface McpReport {
  status: "added" | "present" | "no_claude" | "failed";
  error?: string;
}

export interface SetupReport {
  skipped: boolean;
  skill: SkillReport | null;
  mcp: McpReport | null;
}

/** What `claude mcp add` may take; past it the registration counts as failed. */
const CLAUDE_TIMEOUT_MS = 60_000;

/** SKILL.md: the frontmatter Claude Code reads, then the guide. */
export function skillText(guide: string): string {
  // A JSON string is a valid YAML double-quoted scalar, whatever punctuation it holds.
  return `---\nname: tau\ndescription: ${JSON.stringify(GUIDE_DESCRIPTION)}\n---\n\n${guide}`;
}

async function sha256(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

async function readOrNull(path: string): Promise<string | null> {
  try {
    return await Deno.readTextFile(path);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return null;
    throw err;
  }
}

async function writeIfChanged(path: string, text: string): Promise<void> {
  if (await readOrNull(path) !== text) await Deno.writeTextFile(path, text);
}

/** Writes `text` to `path` unless the file there is one the user changed. */
export async function installSkill(path: string, text: string): Promise<SkillReport> {
  const record = join(dirname(path), ".tau-installed.sha256");
  const fresh = await sha256(text);
  const current = await readOrNull(path);
  const recorded = (await readOrNull(record))?.trim() || null;
  const write = async (status: "written" | "updated") => {
    await Deno.mkdir(dirname(path), { recursive: true });
    await Deno.writeTextFile(path, text);
    await Deno.writeTextFile(record, `${fresh}\n`);
    return { status, path };
  };
  if (current === null) return await write("written");
  const now = await sha256(current);
  if (now === fresh) {
    if (recorded !== fresh) await Deno.writeTextFile(record, `${fresh}\n`);
    return { status: "unchanged", path };
  }
  if (recorded === now) return await write("updated");
  // Changed since install.sh wrote it, or never written by it: the user's, so it stays.
  await writeIfChanged(`${path}.new`, text);
  return { status: "kept", path, new_version: `${path}.new` };
}

async function claudeRun(claude: string, args: string[]) {
  return await new Deno.Command(claude, {
    args,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(CLAUDE_TIMEOUT_MS),
  }).output();
}

/** Registers `tau mcp` with Claude Code unless it has a server named tau already. */
export async function registerMcp(claude: string, tau: string): Promise<McpReport> {
  try {
    if ((await claudeRun(claude, ["mcp", "get", "tau"])).success) return { status: "present" };
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return { status: "no_claude" };
    throw err;
  }
  const add = await claudeRun(claude, ["mcp", "add", "--scope", "user", "tau", "--", tau, "mcp"]);
  if (add.success) return { status: "added" };
  const said = new TextDecoder().decode(add.stderr).trim() || `exit code ${add.code}`;
  return { status: "failed", error: `claude mcp add failed: ${said}` };
}

/** Installs the skill and registers the MCP server; each step's failure is reported, not thrown. */
export async function setupAgent(options: SetupOptions): Promise<SetupReport> {
  const note = options.note ?? ((text: string) => console.error(text));
  if (options.skip) {
    note("agent setup skipped (--no-agent): no Claude Code skill, no MCP server");
    return { skipped: true, skill: null, mcp: null };
  }
  const path = join(options.configDir, "skills", "tau", "SKILL.md");
  let skill: SkillReport;
  try {
    skill = await installSkill(
      path,
      skillText(await (options.guide ?? (() => agentGuide(COMMANDS)))()),
    );
  } catch (err) {
    skill = { status: "failed", path, error: errorText(err) };
  }
  note(
    {
      written: `installed the tau skill for Claude Code: ${path}`,
      updated: `updated the tau skill for Claude Code: ${path}`,
      unchanged: `the tau skill for Claude Code is up to date: ${path}`,
      kept: `kept ${path}: it was changed since install.sh wrote it; the new version is in ` +
        `${skill.new_version}`,
      failed: `warning: could not install the tau skill at ${path}: ${skill.error}`,
    }[skill.status],
  );
  let mcp: McpReport;
  try {
    mcp = await registerMcp(options.claude ?? "claude", options.tau);
  } catch (err) {
    mcp = { status: "failed", error: errorText(err) };
  }
  const add = `claude mcp add --scope user tau -- ${options.tau} mcp`;
  note(
    {
      added: `registered Tau's MCP server with Claude Code: ${add}`,
      present: "Claude Code already has an MCP server named tau; left as it is",
      no_claude: `claude is not on PATH; to use Tau's MCP server later: ${add}`,
      failed: `warning: could not register Tau's MCP server (${mcp.error}); by hand: ${add}`,
    }[mcp.status],
  );
  return { skipped: false, skill, mcp };
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: { tau: { type: "string" }, "no-agent": { type: "boolean" } },
  });
  const configDir = Deno.env.get("CLAUDE_CONFIG_DIR") ||
    join(Deno.env.get("HOME") || homedir(), ".claude");
  const report = await setupAgent({
    configDir,
    tau: values.tau ?? "tau",
    skip: values["no-agent"] ?? false,
  });
  console.log(JSON.stringify(report, null, 2));
}
