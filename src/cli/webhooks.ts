/**
 * `tau webhooks add|list|remove|test|deliveries`: signed webhooks on run events
 * (docs/webhooks.md). Every subcommand prints one JSON document.
 */
import { TauError } from "../core/errors.ts";
import type { CommandSpec } from "./spec.ts";

const enc = encodeURIComponent;

const USAGE = "tau webhooks add NAME --url URL --events E1,E2 [--pipeline P] [--tag T] " +
  "[--secret-env VAR] [--format json|slack] [--allow-private] | tau webhooks list | " +
  "tau webhooks remove NAME | tau webhooks test NAME | " +
  "tau webhooks deliveries [NAME] [--status pending|delivered|dead] [--limit N]";

const ADD_FLAGS = [
  "url",
  "events",
  "pipeline",
  "tag",
  "secret-env",
  "format",
  "allow-private",
] as const;

function fail(message: string): never {
  throw new TauError("invalid_params", message, { hint: `usage: ${USAGE}` });
}

/** Comma-separated and repeated values as one list. */
function list(value: unknown): string[] {
  const values = Array.isArray(value) ? value : value === undefined ? [] : [value];
  return values.flatMap((v) => String(v).split(",")).map((v) => v.trim()).filter(Boolean);
}

/** Refuses flags that do not go with `action`. */
function onlyFlags(action: string, flags: Record<string, unknown>, allowed: readonly string[]) {
  const extra = Object.keys(flags).filter((f) => flags[f] !== undefined && !allowed.includes(f));
  if (extra.length > 0) fail(`--${extra[0]} does not go with tau webhooks ${action}`);
}

function addBody(name: string, flags: Record<string, unknown>) {
  if (flags.url === undefined) fail("tau webhooks add needs --url");
  if (flags.events === undefined) fail("tau webhooks add needs --events");
  return {
    name,
    url: String(flags.url),
    events: list(flags.events),
    pipelines: list(flags.pipeline),
    tags: list(flags.tag),
    ...(flags["secret-env"] !== undefined ? { secret_env: String(flags["secret-env"]) } : {}),
    ...(flags.format !== undefined ? { format: String(flags.format) } : {}),
    allow_private: flags["allow-private"] === true,
  };
}

export const WEBHOOKS_COMMAND: CommandSpec = {
  usage: USAGE,
  description: "Signed webhooks on run events: add one (stored), list tau.toml's and the " +
    "stored ones, remove, send a test now, and list deliveries with each attempt",
  options: {
    url: { type: "string" },
    events: { type: "string", multiple: true },
    pipeline: { type: "string", multiple: true },
    tag: { type: "string", multiple: true },
    "secret-env": { type: "string" },
    format: { type: "string" },
    "allow-private": { type: "boolean" },
    status: { type: "string" },
    limit: { type: "string" },
  },
  async run({ client, args, flags }) {
    const [action, ...rest] = args;
    const name = () => rest.length === 1 && rest[0] ? rest[0] : fail("Expected one webhook name");
    switch (action) {
      case "add":
        onlyFlags(action, flags, ADD_FLAGS);
        return (await client()).request("POST", "/webhooks", addBody(name(), flags));
      case "list":
        onlyFlags(action, flags, []);
        if (rest.length > 0) fail("tau webhooks list takes no argument");
        return (await client()).request("GET", "/webhooks");
      case "remove":
        onlyFlags(action, flags, []);
        return (await client()).request("DELETE", `/webhooks/${enc(name())}`);
      case "test":
        onlyFlags(action, flags, []);
        return (await client()).request("POST", `/webhooks/${enc(name())}/test`, {});
      case "deliveries": {
        onlyFlags(action, flags, ["status", "limit"]);
        if (rest.length > 1) fail("Expected at most one webhook name");
        const query = new URLSearchParams();
        if (rest[0]) query.set("webhook", rest[0]);
        if (flags.status !== undefined) query.set("status", String(flags.status));
        if (flags.limit !== undefined) query.set("limit", String(flags.limit));
        const qs = query.size > 0 ? `?${query}` : "";
        return (await client()).request("GET", `/webhooks/deliveries${qs}`);
      }
      default:
        fail(
          action === undefined
            ? "Expected add, list, remove, test or deliveries"
            : `Unknown action ${action}`,
        );
    }
  },
  succeeded(output) {
    // `test` reports a failed attempt in its document, and exits 1.
    const doc = output as { delivered?: unknown } | null;
    return doc?.delivered !== false;
  },
};
