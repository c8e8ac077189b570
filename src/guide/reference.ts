/**
 * The guide's reference sections, rendered from the code's own lists: the command table with
 * its help (usage, flags, output, exit rule, example), the exit codes, and every error code and
 * run error kind with its meaning and what to do about it.
 */
import type { CommandSpec } from "../cli/spec.ts";
import { commandHelp, EXIT_CODES, overview } from "../cli/help.ts";
import { ERROR_CODES } from "../core/error_codes.ts";
import { ERROR_STATUS } from "../core/errors.ts";
import { RUN_ERROR_KINDS } from "../core/run_error_kinds.ts";
import { CODE_ADVICE, KIND_ADVICE } from "./advice.ts";
import { code, table } from "./markdown.ts";

/** The heading each command gets; tests look for exactly this line. */
export function commandHeading(name: string): string {
  return `### ${code(`tau ${name}`)}`;
}

function commandSection(name: string, spec: CommandSpec): string {
  const help = commandHelp(name, spec);
  const parts = [commandHeading(name), code(help.usage), help.description];
  if (help.flags.length > 0) {
    parts.push(help.flags.map((f) => `- ${code(f.flag)}: ${f.description}`).join("\n"));
  }
  parts.push(`Prints: ${code(help.output)}`);
  if (help.exit_code !== "0 on success, 1 on any error") parts.push(`Exit: ${help.exit_code}`);
  if (help.example) parts.push("```sh\n" + help.example + "\n```");
  return parts.join("\n\n");
}

/** Every command of the table, in its order, after the help topics and the environment. */
export function commandsSection(commands: Record<string, CommandSpec>): string {
  const about = overview(commands);
  const list = (record: Record<string, string>) =>
    Object.entries(record).map(([key, text]) => `- ${code(key)}: ${text}`).join("\n");
  return [
    "## Commands",
    `${code(about.usage)}. Also:`,
    list(about.more),
    "Environment:",
    list(about.environment),
    ...Object.entries(commands).map(([name, spec]) => commandSection(name, spec)),
  ].join("\n\n");
}

export function exitCodesSection(): string {
  return [
    "## Exit codes",
    Object.entries(EXIT_CODES).map(([exit, text]) => `- ${code(exit)}: ${text}`).join("\n"),
  ].join("\n\n");
}

export function errorsSection(): string {
  return [
    "## Errors and what to do",
    'A command that fails prints `{"error": {"code", "message", "hint"}}` and exits 1. ' +
    "Its `code`:",
    table(
      ["code", "HTTP status", "meaning", "what to do"],
      Object.entries(ERROR_CODES).map(([name, meaning]) => [
        code(name),
        String(ERROR_STATUS[name as keyof typeof ERROR_STATUS]),
        meaning,
        CODE_ADVICE[name as keyof typeof CODE_ADVICE],
      ]),
    ),
    "A run that fails keeps its error in its record (`tau inspect NAME --last-run`): `error.kind`, " +
    "`message`, `step`, `location` (file, line, column) and a `hint` written for that run. " +
    "Its `kind`:",
    table(
      ["kind", "meaning", "what to do"],
      Object.entries(RUN_ERROR_KINDS).map(([kind, meaning]) => [
        code(kind),
        meaning,
        KIND_ADVICE[kind as keyof typeof KIND_ADVICE],
      ]),
    ),
  ].join("\n\n");
}
