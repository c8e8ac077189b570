/** `tau versions`, `tau diff` and `tau rollback`: a pipeline's versions, compared and undone. */
import { TauError } from "../core/errors.ts";
import type { CommandSpec } from "./spec.ts";

const enc = encodeURIComponent;

/** The positional arguments, between `min` and `max` of them, or the usage as a hint. */
function positional(args: string[], min: number, max: number, usage: string): string[] {
  if (args.length < min || args.length > max || args.some((a) => !a)) {
    throw new TauError("invalid_params", `Expected ${usage.replace(/^tau \S+ /, "")}`, {
      hint: `usage: ${usage}`,
    });
  }
  return args;
}

function versionNumber(value: unknown, what: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(String(value)) || !Number.isSafeInteger(n) || n < 1) {
    throw new TauError(
      "invalid_params",
      `${what} must be a version number, got ${JSON.stringify(value)}`,
      { hint: "versions are whole numbers from 1; list them with tau versions NAME" },
    );
  }
  return n;
}

export const VERSION_COMMANDS: Record<string, CommandSpec> = {
  versions: {
    usage: "tau versions <name>",
    description: "Every version of a pipeline, newest first: source (deploy, heal, rollback, " +
      "create), parent, whether it is current, and what it grants",
    async run({ client, args }) {
      const [name] = positional(args, 1, 1, this.usage);
      return (await client()).request("GET", `/pipelines/${enc(name!)}/versions`);
    },
  },
  diff: {
    usage: "tau diff <name> <A> [B]",
    description: "Unified diff of version A's code against B's (default: the current version), " +
      "with the hosts, secrets, connections and limits added and removed",
    async run({ client, args }) {
      const [name, from, to] = positional(args, 2, 3, this.usage);
      const query = `from=${versionNumber(from, "A")}` +
        (to === undefined ? "" : `&to=${versionNumber(to, "B")}`);
      return (await client()).request("GET", `/pipelines/${enc(name!)}/diff?${query}`);
    },
  },
  rollback: {
    usage: "tau rollback <name> [--to V]",
    description: "Make an earlier version's code current again, as a new version with source " +
      "rollback (default: the version current before this one); the next run uses it",
    options: { to: { type: "string" } },
    async run({ client, args, flags }) {
      const [name] = positional(args, 1, 1, this.usage);
      const body = flags.to === undefined ? {} : { to: versionNumber(flags.to, "--to") };
      return (await client()).request("POST", `/pipelines/${enc(name!)}/rollback`, body);
    },
  },
};
