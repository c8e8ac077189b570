/**
 * `tau help` and `tau help COMMAND` (also `tau COMMAND --help`): what each flag means, the JSON
 * a command prints and one example, beside the usage line each CommandSpec carries. A test
 * holds these flags to the commands' own options, so neither can change alone.
 */
import { TauError } from "../core/errors.ts";
import type { CommandSpec } from "./spec.ts";
import { nearest } from "./flags.ts";

export interface CommandDoc {
  /** Each flag as written (`--params JSON`) → what it does. */
  flags?: Record<string, string>;
  /** The JSON document printed on success. */
  output: string;
  /** When this command exits 1 although it printed its document (default: never). */
  exit?: string;
  example: string;
}

const RUN_SUMMARY = '{ "run_id", "pipeline", "version", "status", "trigger", "scheduled_at", ' +
  '"logical_run", "attempt", "worker_id", "created_at", "started_at", "finished_at", ' +
  '"duration_ms", "error": { "kind", "message" } | null }';
const RUN_RECORD = '{ "run_id", "pipeline", "version", "status", "trigger", "params", "attempt", ' +
  '"max_attempts", "created_at", "started_at", "finished_at", "duration_ms", "result", ' +
  '"error": { "kind", "message", "step", "location", "hint", … } | null, "permissions", ' +
  '"sandbox", "access", "attempts": […], "steps": […], "logs": […], "logs_truncated" }';
const RUN_BRIEF = '{ "run_id", "pipeline", "version", "status", "attempt", "duration_ms", ' +
  '"error": { "kind", "message", "location", "hint" } | null, "steps": ["name: status in N ms, ' +
  '…"], "result" }';
const BACKFILL_RECORD = '{ "backfill_id", "pipeline", "from", "to", "status": "running" | ' +
  '"completed" | "failed" | "cancelled", "concurrency", "rerun", "downstream", "total", ' +
  '"counts": { "pending", "active", "succeeded", "failed", "skipped", "cancelled" }, ' +
  '"created_at", "finished_at" }';
const BRIEF = "print each run in brief (status, error kind/message/location, one line per step, " +
  "result) instead of in full";

/** The rule every command follows; `exit` above names the commands that add to it. */
export const EXIT_CODES = {
  "0": "the command did what it was asked; its JSON document (tau guide: its markdown) is " +
    "on stdout",
  "1": 'any error ({"error": {"code", "message", "hint"}}), a waited tau run whose run did not ' +
    "end in success, or a tau connections --test that could not connect (those two still print " +
    "their document: the run record, the test result)",
};

export const COMMAND_DOCS: Record<string, CommandDoc> = {
  deploy: {
    flags: {
      "--name NAME": "deploy under this name instead of the one in the file's config",
      "--schedule CRON": "set this cron schedule instead of the file's",
      "--force": "replace a different file already deployed under the same name",
    },
    output: '{ "deployed", "version", "hash", "unchanged", "schedule", "every_s", "timezone", ' +
      '"enabled", "next_run_at", "metadata": {…}, "permissions": {…} }',
    example: "tau deploy examples/hello_pipeline.ts",
  },
  check: {
    flags: {
      "--name NAME": "check it as deployed under this name",
      "--schedule CRON": "check this cron schedule instead of the file's",
      "--force": "check it as if replacing a different file deployed under the same name",
    },
    output: '{ "ok": true, "pipeline", "deploy": "new_pipeline" | "new_version" | "unchanged", ' +
      '"version", "hash", "checks": [...], "metadata": {…}, "permissions": {…} }; a failed ' +
      "check is the error tau deploy would give",
    example: "tau check examples/hello_pipeline.ts",
  },
  init: {
    output: '{ "dir", "written": [paths], "skipped": [{ "path", "reason" }], "imports": {…}, ' +
      '"next" }',
    example: "tau init my_pipelines",
  },
  create: {
    flags: {
      "--name N": "the pipeline's name (default: the model chooses one that is not deployed)",
      "--connections a,b": "the connections it may use and declare (default: it may pick " +
        "from all the daemon has); names and types are all the model sees",
      "--schedule CRON": "the cron schedule it must declare",
      "--out FILE": "where to write it (default ./<name>.ts); an existing file is never " +
        "overwritten",
      "--deploy": "deploy it as a new pipeline (version source create); needs an admin key",
      "--run": "with --deploy: run it once and wait for the result",
    },
    output: '{ "name", "file", "code", "deployed", "version", "attempts": [{ "n", "outcome": ' +
      '"invalid" | "type_error" | "permission_change" | "success", "error", "usage" }], ' +
      '"usage": { "input_tokens", "output_tokens" }, "run"?: { "run_id", "status", ' +
      '"duration_ms", "error" } }',
    exit: "1 when no attempt passed the checks (code and file are null; attempts say why) or " +
      "the --run did not succeed",
    example: 'tau create "copy yesterday\'s orders from shop into warehouse" --connections ' +
      "shop,warehouse --deploy",
  },
  undeploy: {
    flags: { "--force": "also drop the dependencies of pipelines that depend on it" },
    output: '{ "undeployed", "versions" }',
    example: "tau undeploy hello_world",
  },
  schedule: {
    flags: {
      "--every SECONDS": "run every N seconds instead of on a cron",
      "--timezone TZ": "IANA time zone the cron is read in (default UTC)",
      "--disable": "keep the schedule but stop firing it",
      "--enable": "fire a disabled schedule again",
    },
    output: '{ "pipeline", "schedule", "every_s", "timezone", "enabled", "next_run_at" }',
    example: 'tau schedule hello_world "0 6 * * *" --timezone Europe/Paris',
  },
  dag: {
    output: '{ "nodes": [{ "name", "upstream", "downstream" }], "edges": [{ "from", "to" }], ' +
      '"levels": [["a"], ["b", "c"]], "mermaid" }',
    example: "tau dag",
  },
  depends: {
    flags: { "--on UPSTREAM": "replace its upstreams with these (repeat the flag for each)" },
    output: '{ "pipeline", "upstream", "downstream", "all_upstream", "all_downstream" }',
    example: "tau depends report --on extract --on clean",
  },
  list: {
    output: '{ "pipelines": [{ "name", "description", "version", "schedule", "every_s", ' +
      `"timezone", "enabled", "next_run_at", "tags", "updated_at", "last_run": ${RUN_SUMMARY} ` +
      '| null }], "count" }',
    example: "tau list",
  },
  show: {
    output: '{ "name", "description", "current_version", "hash", "filename", "source_path", ' +
      '"schedule", "every_s", "timezone", "enabled", "next_run_at", "metadata", "permissions": ' +
      '{ "net", "deny_net", "env", "read", "write", "run", "limits", "flags", … }, "last_run", ' +
      '"warnings": [{ "code", "permission", "target", "runs", "message" }] }',
    example: "tau show hello_world",
  },
  versions: {
    output: '{ "pipeline", "current_version", "versions": [{ "version", "hash", "created_at", ' +
      '"source": "deploy" | "heal" | "rollback" | "create", "parent", "heal_id"?, "promoted", ' +
      '"permissions_summary": { "hosts", "secrets", "connections", "limits" }, "current" }] } ' +
      "(newest first; promoted false: a heal's candidate that never went live)",
    example: "tau versions hello_world",
  },
  diff: {
    output: '{ "pipeline", "from", "to", "diff": "<unified diff of the code>", "permissions": ' +
      '{ "added": { "hosts", "secrets", "connections", "limits" }, "removed": {…} } } ' +
      "(a changed limit is in added with its new value and in removed with its old one)",
    example: "tau diff hello_world 1 2",
  },
  rollback: {
    flags: {
      "--to V": "roll back to version V (one that was current once, never a candidate that " +
        "was not promoted)",
    },
    output: '{ "pipeline", "version", "source": "rollback", "rolled_back_to", ' +
      '"previous_version", "hash" }',
    example: "tau rollback hello_world --to 1",
  },
  lineage: {
    flags: {
      "--pipeline NAME": "the tables that pipeline read and wrote, and the pipelines upstream " +
        "and downstream of it, instead of a table's",
    },
    output: 'for a table (TABLE, SCHEMA.TABLE or CONNECTION.SCHEMA.TABLE): { "table": ' +
      '"connection.schema.table", "based_on", "upstream": { "tables", "pipelines" }, ' +
      '"downstream": { "tables", "pipelines" }, "runs": { "<pipeline>": "<run_id>" }, ' +
      '"truncated", "mermaid" }; with --pipeline: { "pipeline", "based_on", "run_id", "reads", ' +
      '"writes", "upstream_pipelines", "downstream_pipelines", "truncated", "mermaid" } ' +
      "(from the latest successful run of each pipeline; recorded for DuckDB/MotherDuck " +
      "connections)",
    example: "tau lineage raw_orders",
  },
  code: {
    flags: { "--version N": "that version instead of the current one" },
    output: '{ "pipeline", "version", "filename", "hash", "created_at", "code" }',
    example: "tau code hello_world --version 1",
  },
  run: {
    flags: {
      "--params JSON": "a JSON object the pipeline reads as ctx.params",
      "--downstream": "then run everything downstream of it, as one logical run",
      "--no-wait": "print the queued record at once instead of waiting for the result",
    },
    output: `the run record, as tau inspect: ${RUN_RECORD}; with --downstream, also "runs": ` +
      "[every run of the logical run]",
    exit: "1 when the waited run (with --downstream, any run it triggered) ends in anything but " +
      "success: failed, timed_out, cancelled, skipped; with --no-wait, 0 once the run is queued",
    example: `tau run hello_world --params '{"greeting": "hi"}'`,
  },
  runs: {
    flags: {
      "--last N": "how many runs, newest first (default 10, at most 1000)",
      "--brief": BRIEF,
    },
    output: `{ "pipeline", "runs": [${RUN_SUMMARY}], "count" }; with --brief, runs: [${RUN_BRIEF}]`,
    example: "tau runs hello_world --last 5",
  },
  inspect: {
    flags: {
      "--last-run": "the pipeline's latest run (the default when no selector is given)",
      "--run ID": "that run, which must belong to the pipeline",
      "--brief": BRIEF,
    },
    output: `{ "selected": "last_run" | "run_id", ...${RUN_RECORD} } — selected says which ` +
      `run was picked; with --brief, { "selected", ...${RUN_BRIEF} }`,
    example: "tau inspect hello_world --last-run",
  },
  logs: {
    flags: {
      "--run ID": "that run's lines instead of the last run's",
      "--follow": "print each line as one JSON object per line until the run ends, then a " +
        "summary line",
    },
    output: '{ "run_id", "pipeline", "status", "logs": [{ "seq", "ts", "attempt", "level", ' +
      '"step", "message" }] }; with --follow, JSON lines then { "run_id", "pipeline", ' +
      '"status", "lines", "error" (when the run failed) }',
    example: "tau logs hello_world --follow",
  },
  heal: {
    flags: {
      "--run ID": "diagnose that run (default: the pipeline's newest failed or timed-out run)",
      "--auto": "ask the configured model ([ai]) for a fixed file; each candidate passes the " +
        "deploy checks and is replayed in the sandbox with the failing run's params (a replay " +
        "touches real targets exactly as the next run would); the first that succeeds is " +
        "promoted (version source heal); needs an operate key",
      "--allow-permission-changes": "with --auto, let a candidate that widens the permissions " +
        "(a new host, secret or connection, a higher limit) be replayed and promoted",
      "--dry-run": "with --auto, check and replay candidates but promote none",
    },
    output: '{ "pipeline", "run_id", "version", "diagnosis": { "class", "summary", "step", ' +
      '"location": { "file", "line", "column" } | null, "excerpt", "evidence": [{ "source": ' +
      '"error" | "log" | "step" | "run" | "version", "ref", "text" }], ' +
      '"changed_since_success": { "version", "code", "params", "permissions", "duration_ms", ' +
      '"steps" } | null, "suggestions": [{ "action", … }] } }; with --auto: { "heal_id", ' +
      '"pipeline", "run_id", "promoted", "version", "dry_run", "attempts": [{ "n", "outcome": ' +
      '"invalid" | "type_error" | "replay_failed" | "permission_change" | "success", "error", ' +
      '"run_id", "candidate_version" }], "permission_changes", "diagnosis", "usage": ' +
      '{ "input_tokens", "output_tokens" }, "duration_ms" }',
    example: "tau heal orders_daily",
  },
  backfill: {
    flags: {
      "--from T1": "the first instant considered (included): a date (midnight UTC) or an ISO " +
        "8601 timestamp with its offset",
      "--to T2": "the end of the range (excluded), as --from; at most 10,000 instants",
      "--concurrency N": "at most N of its runs queued or running at once (default 1, at " +
        "most 100); the pipeline's concurrency and [scheduler] max_concurrent apply too",
      "--rerun": "run instants that already have a successful run again",
      "--downstream": "each run triggers the pipelines downstream of it (one logical run per " +
        "instant)",
      "--dry-run": "list the instants it would run and skip; create nothing (a read key will do)",
    },
    output: BACKFILL_RECORD + ' (status 201); --dry-run: { "dry_run": true, "pipeline", ' +
      '"from", "to", "concurrency", "rerun", "downstream", "total", "instants": [ISO…] (to ' +
      'run), "skipped": [ISO…] (already succeeded) }',
    example: "tau backfill orders_hourly --from 2026-01-01 --to 2026-01-03 --concurrency 4",
  },
  backfills: {
    flags: {
      "--status S": "list only running, completed, failed or cancelled ones",
      "--limit N": "how many, newest first (default 20, at most 100)",
    },
    output: '{ "backfills": [' + BACKFILL_RECORD + '], "count" }; show: the record with ' +
      '"next_instant", "active": [{ "scheduled_at", "run_id", "run_status" }], "failed": ' +
      '[{ "scheduled_at", "run_id", "run_status", "error_kind" }] (at most 100), ' +
      '"failed_truncated"; cancel: the record (status cancelled) with "cancelled_runs": [run ids]',
    example: "tau backfills show bf_mwqyz95g1a2b3c4d5e",
  },
  heals: {
    flags: { "--limit N": "how many, newest first (default 20, at most 1000)" },
    output: '{ "pipeline", "heals": [{ "id", "pipeline", "run_id", "status": "running" | ' +
      '"promoted" | "failed" | "dry_run" | "refused", "created_at", "finished_at", "record" }] } ' +
      "— record: the tau heal --auto output",
    example: "tau heals orders_daily",
  },
  errors: {
    flags: {
      "--limit N": "how many, newest first (default 20, at most 1000)",
      "--unresolved": "only errors of pipelines that have not succeeded since",
      "--brief": BRIEF,
    },
    output: '{ "errors": [{ "run_id", "pipeline", "version", "status", "finished_at", ' +
      '"resolved", "error" }], "count" } — resolved: a later run of the pipeline succeeded',
    example: "tau errors --limit 5",
  },
  cancel: {
    output: '{ "run_id", "pipeline", "status": "cancelled" }',
    example: "tau cancel run_mwqyz95g841d303ccbb4",
  },
  connections: {
    flags: { "--test NAME": "connect to that connection for real, from the daemon" },
    output: '{ "connections": [{ "name", "type", "hosts", "trusted_side" }], "count" }; with ' +
      '--test, { "name", "type", "hosts", "ok", "latency_ms", "error" }',
    exit: "1 when --test could not connect (ok is false; error holds the driver's message)",
    example: "tau connections --test warehouse",
  },
  workers: {
    output: '{ "workers": [{ "id", "host", "pid", "roles", "tags", "capacity", "load", ' +
      '"status", "started_at", "heartbeat_at", "heartbeat_age_ms" }], "count" }',
    example: "tau workers",
  },
  keys: {
    flags: {
      "--scope read|operate|admin": "with create: what the key may do (read: GET only; " +
        "operate: read + runs, cancels, schedules on/off, connection tests; admin: everything)",
      "--name NAME": "with create: a label for the key",
    },
    output: 'create: { "id", "name", "scope", "created_at", "last_used_at", "revoked_at", ' +
      '"key" } (the only time the key is printed); list: { "keys": [...], "count" }; revoke: ' +
      '{ "revoked", "name", "scope", "revoked_at" }',
    example: "tau keys create --scope operate --name ci",
  },
  trigger: {
    flags: {
      "--create": "make the pipeline's trigger secret (admin); fails when it has one",
      "--rotate": "replace it (admin); the old secret stops verifying at once",
      "--delete": "remove it (admin); deliveries are then refused with not_found",
    },
    output: 'status: { "pipeline", "exists", "created_at", "endpoint", "url" } (never the ' +
      'secret); --create and --rotate: the same with "secret" (the only time it is printed); ' +
      '--delete: { "pipeline", "deleted": true }. Senders POST a JSON object to url, signed ' +
      '"Tau-Signature: t=<unix>,v1=<hex HMAC-SHA256 of <t>.<body>>", optional "Tau-Event-Id"; ' +
      "see docs/triggers.md",
    example: "tau trigger orders --create",
  },
  webhooks: {
    flags: {
      "--url URL": "with add: where to POST (http or https; refused when it resolves to a " +
        "loopback, private or link-local address, unless --allow-private)",
      "--events E1,E2": "with add: run.failed, run.succeeded, run.recovered, run.skipped, " +
        "heal.promoted, heal.failed, schedule.missed (comma-separated or repeated)",
      "--pipeline P": "with add: only events of these pipelines (repeatable)",
      "--tag T": "with add: only events of pipelines with one of these tags (repeatable)",
      "--secret-env VAR": "with add: the daemon's environment variable holding the signing " +
        "secret (the secret itself is never sent to or stored by Tau)",
      "--format json|slack": "with add: the body: Tau's JSON (default) or a Slack message",
      "--allow-private": "with add: allow loopback, private and link-local addresses",
      "--status pending|delivered|dead": "with deliveries: only deliveries in this state",
      "--limit N": "with deliveries: how many, newest first (default 50, at most 1000)",
    },
    output: 'add: { "webhook": { "name", "url", "events", "pipelines", "tags", "secret_env", ' +
      '"format", "allow_private", "created_at", "origin": "store" } }; list: { "webhooks": ' +
      '[{ ...webhook, "origin": "config" | "store" }], "count" }; remove: { "removed" }; ' +
      'test: { "delivered", "delivery", "attempt": { "n", "started_at", "duration_ms", ' +
      '"status_code", "error" } }; deliveries: { "deliveries": [{ "id", "event_key", ' +
      '"webhook", "event", "subject", "payload", "status", "attempts", "next_at", ' +
      '"created_at", "delivered_at", "last_error", "attempt_log": [{ "n", "started_at", ' +
      '"duration_ms", "status_code", "error" }] }], "count" }',
    exit: "1 on any error, and for test when the attempt failed (delivered is false)",
    example: "tau webhooks add oncall --url https://hooks.example.com/tau --events run.failed " +
      "--secret-env TAU_WEBHOOK_SECRET",
  },
  status: {
    output:
      '{ "url", "status": "ok", "version", "pid", "host", "port", "dashboard", "home", "uptime_s", ' +
      '"store", "roles", "pipelines", "runs": { "<status>": n }, "active_runs", "sandbox", ' +
      '"build": { "version", "compiled", "deno": { "path", "version", "source" }, ' +
      '"runtime_dir" } }',
    example: "tau status",
  },
  dashboard: {
    output:
      '{ "url": "http://127.0.0.1:8401/", "opened": false } (opened: a browser was started, ' +
      "only when run in a terminal)",
    exit: "0 with the URL; 1 with not_found when the daemon serves no dashboard",
    example: "tau dashboard",
  },
  mcp: {
    output: "nothing of its own: stdin and stdout carry MCP (JSON-RPC) until the host closes " +
      "stdin; before serving, an unreachable daemon or a refused key is the usual error " +
      "document. Register it with an agent host, e.g. claude mcp add --scope user tau -- tau mcp",
    example: "tau mcp",
  },
  version: {
    output: '{ "tau", "deno", "v8", "typescript" }',
    example: "tau version",
  },
  guide: {
    flags: { "--json": 'print { "guide": "<markdown>" } instead of the markdown itself' },
    output: "the guide as markdown, not JSON: the one command whose output is not a JSON " +
      'document (errors still are); with --json, { "guide" }',
    example: "tau guide",
  },
};

/** The flag name a doc key stands for (`--params JSON` → `params`). */
export function flagName(written: string): string {
  return written.replace(/^--/, "").split(/[ =]/)[0]!;
}

/** `tau help COMMAND`: usage, flags, output shape, exit rule and an example. */
export function commandHelp(name: string, spec: CommandSpec) {
  const doc = COMMAND_DOCS[name];
  const written = Object.keys(doc?.flags ?? {});
  return {
    command: name,
    usage: spec.usage,
    description: spec.description,
    flags: Object.entries(spec.options ?? {}).map(([flag, option]) => {
      const key = written.find((w) => flagName(w) === flag);
      return {
        flag: key ?? `--${flag}`,
        type: option.multiple ? `${option.type}, repeatable` : option.type,
        description: key ? doc!.flags![key] : "(not documented)",
      };
    }),
    output: doc?.output ?? "(not documented)",
    exit_code: doc?.exit ?? "0 on success, 1 on any error",
    example: doc?.example ?? null,
  };
}

/** `tau help`: every command, the topics, the exit codes and the environment. */
export function overview(commands: Record<string, CommandSpec>) {
  return {
    usage: "tau <command> [args] — every command prints one JSON document (tau guide: markdown)",
    commands: Object.entries(commands).map(([name, spec]) => ({
      name,
      usage: spec.usage,
      description: spec.description,
    })),
    more: {
      "tau help COMMAND":
        "that command's flags, JSON output and an example (or tau COMMAND --help)",
      "tau help pipeline": "how to write a pipeline file: its config and the ctx API",
      "tau guide": "the guide for agents, as markdown: the loop, the SDK, every command and error",
    },
    exit_codes: EXIT_CODES,
    environment: {
      TAU_HOST: "daemon URL (default: the local daemon of TAU_HOME, found in its taud.json)",
      TAU_API_KEY: "API key (default for a local daemon: $TAU_HOME/api_key)",
      TAU_HOME: "state folder (default ~/.tau)",
    },
  };
}

/** The topic or command `tau help NAME` asks for does not exist. */
export function unknownTopic(name: string, commands: Record<string, CommandSpec>): TauError {
  const known = [...Object.keys(commands), "pipeline"];
  const guess = nearest(name, known);
  return new TauError(
    "invalid_params",
    `No command or help topic ${name}${guess ? `; did you mean ${guess}?` : ""}`,
    { hint: `tau help lists them: ${known.join(", ")}`, details: { did_you_mean: guess } },
  );
}
