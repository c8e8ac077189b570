/** `tau trigger NAME`: a pipeline's trigger secret, for senders that sign instead of holding a key. */
import { TauError } from "../core/errors.ts";
import type { CommandSpec } from "./spec.ts";

const ACTIONS = ["create", "rotate", "delete"] as const;

export const TRIGGER_COMMAND: CommandSpec = {
  usage: "tau trigger <name> [--create | --rotate | --delete]",
  description: "A pipeline's external trigger secret (admin to change): whether it has one, or " +
    "create, rotate or delete it; the secret is printed once, by --create and --rotate",
  options: {
    create: { type: "boolean" },
    rotate: { type: "boolean" },
    delete: { type: "boolean" },
  },
  async run({ client, args, flags }) {
    const usage = { hint: `usage: ${this.usage}` };
    if (args.length !== 1 || !args[0]) {
      throw new TauError("invalid_params", "Expected exactly one pipeline name", usage);
    }
    const chosen = ACTIONS.filter((a) => flags[a] === true);
    if (chosen.length > 1) {
      throw new TauError(
        "invalid_params",
        `--${chosen.join(" and --")} cannot be combined`,
        { hint: "give at most one of --create, --rotate, --delete" },
      );
    }
    const c = await client();
    const path = `/pipelines/${encodeURIComponent(args[0])}/trigger-secret`;
    const answer = chosen[0] === "create"
      ? await c.request("POST", path)
      : chosen[0] === "rotate"
      ? await c.request("POST", `${path}/rotate`)
      : chosen[0] === "delete"
      ? await c.request("DELETE", path)
      : await c.request("GET", path);
    const { endpoint } = answer as { endpoint?: string };
    // Where senders post, as this CLI reaches the daemon (behind a proxy, use its public URL).
    return endpoint ? { ...answer as object, url: `${c.baseUrl}${endpoint}` } : answer;
  },
};
