/**
 * `tau heal NAME [--run ID]`: the deterministic diagnosis of a failed run; with `--auto`, the
 * daemon asks the configured model for a fix, verifies and replays it, and promotes it when the
 * replay succeeds. `tau heals NAME`: the heals recorded.
 */
import { TauError } from "../core/errors.ts";
import type { Client } from "./client.ts";
import type { CommandSpec } from "./spec.ts";

const USAGE = "tau heal <name> [--run ID] [--auto [--allow-permission-changes] [--dry-run]]";

/** The diagnosis of the run (default: the pipeline's newest failed run), or a model's fix. */
function diagnosis(c: Client, name: string, flags: Record<string, unknown>) {
  const path = `/pipelines/${encodeURIComponent(name)}`;
  if (flags.auto) {
    return c.request("POST", `${path}/heal`, {
      ...(flags.run !== undefined ? { run_id: String(flags.run) } : {}),
      ...(flags["allow-permission-changes"] ? { allow_permission_changes: true } : {}),
      ...(flags["dry-run"] ? { dry_run: true } : {}),
    });
  }
  if (flags["allow-permission-changes"] || flags["dry-run"]) {
    throw new TauError("invalid_params", "--allow-permission-changes and --dry-run need --auto", {
      hint: `usage: ${USAGE}`,
    });
  }
  const run = flags.run === undefined ? "" : `?run=${encodeURIComponent(String(flags.run))}`;
  return c.request("GET", `${path}/diagnosis${run}`);
}

function oneName(args: string[], usage: string): string {
  const [name, ...rest] = args;
  if (!name || rest.length > 0) {
    throw new TauError("invalid_params", "Expected exactly one pipeline name", {
      hint: `usage: ${usage}`,
    });
  }
  return name;
}

export const HEAL_COMMAND: CommandSpec = {
  usage: USAGE,
  description: "Diagnose a failed run (the newest by default): class, step, line, evidence " +
    "quoted from the store, what changed since the last success, suggested actions; with " +
    "--auto, have the configured model ([ai]) fix it, verified by a replay before it goes live",
  options: {
    run: { type: "string" },
    auto: { type: "boolean" },
    "allow-permission-changes": { type: "boolean" },
    "dry-run": { type: "boolean" },
  },
  // An auto heal that found no fix (the attempts say why) is a failure.
  succeeded: (output) => {
    const o = output as { promoted?: boolean; dry_run?: boolean; version?: number | null };
    return o.promoted === undefined || o.promoted || (!!o.dry_run && o.version != null);
  },
  async run({ client, args, flags }) {
    return await diagnosis(await client(), oneName(args, USAGE), flags);
  },
};

export const HEALS_COMMAND: CommandSpec = {
  usage: "tau heals <name> [--limit N]",
  description: "The pipeline's heals (tau heal --auto), newest first",
  options: { limit: { type: "string" } },
  async run({ client, args, flags }) {
    const name = oneName(args, "tau heals <name> [--limit N]");
    const limit = flags.limit === undefined
      ? ""
      : `?limit=${encodeURIComponent(String(flags.limit))}`;
    return await (await client()).request(
      "GET",
      `/pipelines/${encodeURIComponent(name)}/heals${limit}`,
    );
  },
};
