/** `tau backfill` and `tau backfills`: runs for each scheduled instant of a past range. */
import { TauError } from "../core/errors.ts";
import type { CommandSpec } from "./spec.ts";

const enc = encodeURIComponent;

function wholeNumber(value: unknown, flag: string, max: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!/^\d+$/.test(String(value)) || n < 1 || n > max) {
    throw new TauError(
      "invalid_params",
      `${flag} must be a whole number from 1 to ${max}, got ${JSON.stringify(value)}`,
      { hint: `e.g. ${flag} 4`, details: { flag, value } },
    );
  }
  return n;
}

const BACKFILL_USAGE = "tau backfill <name> --from T1 --to T2 [--concurrency N] [--rerun] " +
  "[--downstream] [--dry-run]";
const BACKFILLS_USAGE = "tau backfills [<name>] [--status S] [--limit N] | " +
  "tau backfills show <id> | tau backfills cancel <id>";

export const BACKFILL_COMMANDS: Record<string, CommandSpec> = {
  backfill: {
    usage: BACKFILL_USAGE,
    description: "Run a pipeline once for each instant of its schedule from T1 (included) to " +
      "T2 (excluded), oldest first, at most N at a time; instants that already succeeded are " +
      "skipped unless --rerun. Survives restarts; --dry-run lists the instants only",
    options: {
      from: { type: "string" },
      to: { type: "string" },
      concurrency: { type: "string" },
      rerun: { type: "boolean" },
      downstream: { type: "boolean" },
      "dry-run": { type: "boolean" },
    },
    async run({ client, args, flags }) {
      const usage = { hint: `usage: ${BACKFILL_USAGE}` };
      if (args.length !== 1 || !args[0]) {
        throw new TauError("invalid_params", "Expected exactly one pipeline name", usage);
      }
      if (typeof flags.from !== "string" || typeof flags.to !== "string") {
        throw new TauError("invalid_params", "tau backfill needs --from and --to", {
          hint: "e.g. --from 2026-01-01 --to 2026-01-03 (dates are midnight UTC; --to is " +
            "excluded), or ISO 8601 timestamps with an offset",
        });
      }
      const concurrency = wholeNumber(flags.concurrency, "--concurrency", 100);
      return (await client()).request("POST", `/pipelines/${enc(args[0])}/backfills`, {
        from: flags.from,
        to: flags.to,
        ...(concurrency !== undefined ? { concurrency } : {}),
        ...(flags.rerun ? { rerun: true } : {}),
        ...(flags.downstream ? { downstream: true } : {}),
        ...(flags["dry-run"] ? { dry_run: true } : {}),
      });
    },
  },
  backfills: {
    usage: BACKFILLS_USAGE,
    description: "Backfills, newest first, with their progress (instants per state); show one " +
      "with its active and failed instants, or cancel one (its queued runs are cancelled, " +
      "running ones finish)",
    options: { status: { type: "string" }, limit: { type: "string" } },
    async run({ client, args, flags }) {
      const usage = { hint: `usage: ${BACKFILLS_USAGE}` };
      const [first, id, ...rest] = args;
      if (rest.length > 0) throw new TauError("invalid_params", "Too many arguments", usage);
      if (id !== undefined) {
        if (flags.status !== undefined || flags.limit !== undefined) {
          throw new TauError("invalid_params", "--status and --limit go with the list", usage);
        }
        if (first === "show") return (await client()).request("GET", `/backfills/${enc(id)}`);
        if (first === "cancel") {
          return (await client()).request("POST", `/backfills/${enc(id)}/cancel`);
        }
        throw new TauError("invalid_params", `Unknown action ${JSON.stringify(first)}`, usage);
      }
      const query = new URLSearchParams();
      if (first) query.set("pipeline", first);
      if (flags.status !== undefined) query.set("status", String(flags.status));
      const limit = wholeNumber(flags.limit, "--limit", 100);
      if (limit !== undefined) query.set("limit", String(limit));
      const qs = query.size > 0 ? `?${query}` : "";
      return (await client()).request("GET", `/backfills${qs}`);
    },
  },
};
