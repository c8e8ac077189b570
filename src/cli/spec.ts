/** The shape of a CLI command, apart from the table of them (which imports every command). */
import type { Client } from "./client.ts";

export interface CommandContext {
  client: () => Promise<Client>;
  args: string[];
  flags: Record<string, unknown>;
  /** The whole command table, for commands about commands (`tau guide`, `tau mcp`). */
  commands: Record<string, CommandSpec>;
}

export interface CommandSpec {
  usage: string;
  description: string;
  options?: Record<string, { type: "string" | "boolean"; multiple?: boolean }>;
  run(ctx: CommandContext): Promise<unknown>;
  /**
   * Whether the printed document reports success; false makes the CLI exit 1 although it
   * printed the document (a waited run that failed). Absent: every document is a success.
   */
  succeeded?(output: unknown, flags: Record<string, unknown>): boolean;
}
