/**
 * `tau heal NAME [--run ID]`: the deterministic diagnosis of a failed run. The flags choose the
 * daemon route, so further modes (a model's fix) add a flag and a route of their own.
 */
import { TauError } from "../core/errors.ts";
import type { Client } from "./client.ts";
import type { CommandSpec } from "./commands.ts";

const USAGE = "tau heal <name> [--run ID]";

/** The diagnosis of the run (default: the pipeline's newest failed run). */
function diagnosis(c: Client, name: string, flags: Record<string, unknown>) {
  const run = flags.run === undefined ? "" : `?run=${encodeURIComponent(String(flags.run))}`;
  return c.request("GET", `/pipelines/${encodeURIComponent(name)}/diagnosis${run}`);
}

export const HEAL_COMMAND: CommandSpec = {
  usage: USAGE,
  description: "Diagnose a failed run (the newest by default): class, step, line, evidence " +
    "quoted from the store, what changed since the last success, suggested actions",
  options: { run: { type: "string" } },
  async run({ client, args, flags }) {
    const [name, ...rest] = args;
    if (!name || rest.length > 0) {
      throw new TauError("invalid_params", "Expected exactly one pipeline name", {
        hint: `usage: ${USAGE}`,
      });
    }
    return await diagnosis(await client(), name, flags);
  },
};
