/** Each CLI command: its flags, and what it asks the daemon. Every one returns one JSON value. */
import { TauError } from "../core/errors.ts";
import { VERSION } from "../version.ts";
import type { Client } from "./client.ts";
import type { CommandSpec } from "./spec.ts";
import { AUTHORING_COMMANDS, localPaths, pipelineFileBody } from "./authoring.ts";
import { AI_COMMANDS } from "./ai.ts";
import { HEAL_COMMAND, HEALS_COMMAND } from "./heal.ts";
import { GUIDE_COMMAND } from "./guide.ts";
import { DASHBOARD_COMMAND } from "./dashboard_command.ts";
import { VERSION_COMMANDS } from "./versions.ts";
import { BACKFILL_COMMANDS } from "./backfills.ts";
import { TRIGGER_COMMAND } from "./triggers.ts";
import { LINEAGE_COMMAND } from "./lineage.ts";
import { WEBHOOKS_COMMAND } from "./webhooks.ts";

const WAIT_SLICE_MS = 25_000;

function one(args: string[], what: string, usage: string): string {
  if (args.length !== 1 || !args[0]) {
    throw new TauError("invalid_params", `Expected exactly one ${what}`, {
      hint: `usage: ${usage}`,
    });
  }
  return args[0];
}

function enc(name: string): string {
  return encodeURIComponent(name);
}

function positiveInt(value: unknown, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!/^\d+$/.test(String(value)) || !Number.isSafeInteger(n) || n < 1) {
    throw new TauError(
      "invalid_params",
      `${flag} must be a whole number of at least 1, got ${JSON.stringify(value)}`,
      { hint: `e.g. ${flag} 5`, details: { flag, value } },
    );
  }
  return n;
}

/** The run ended in success, and with --downstream so did every run it triggered (`runs`). */
function runsSucceeded(output: unknown): boolean {
  const { status, runs } = output as { status?: unknown; runs?: { status?: unknown }[] };
  return status === "success" && (runs ?? []).every((r) => r.status === "success");
}

/** Polls a run until it ends; each request waits server-side, so this costs no busy loop. */
async function waitForRun(client: Client, runId: string, initial: { status?: string }) {
  let run = initial as { status?: string };
  while (run.status === "queued" || run.status === "running") {
    run = await client.request("GET", `/runs/${enc(runId)}?wait_ms=${WAIT_SLICE_MS}`) as {
      status?: string;
    };
  }
  return run;
}

/** Waits until the cascade from a --downstream run is over; returns every run it took part in. */
async function waitForDownstream(client: Client, runId: string): Promise<unknown[]> {
  for (;;) {
    const page = await client.request(
      "GET",
      `/runs/${enc(runId)}/downstream?wait_ms=${WAIT_SLICE_MS}`,
    ) as { complete: boolean; runs: unknown[] };
    if (page.complete) return page.runs;
  }
}

interface LogPage {
  run_id: string;
  pipeline?: string;
  status: string;
  logs: { seq: number }[];
  error?: unknown;
}

const FOLLOW_POLL_MS = 250;

/**
 * Prints each log line as one compact JSON object per line while the run is queued or running
 * (the store receives them as they happen, so any API process can serve them), then returns
 * the run's final status.
 */
async function followLogs(c: Client, runId: string, first: LogPage) {
  let page = first;
  let after = -1;
  let lines = 0;
  for (;;) {
    for (const line of page.logs) {
      console.log(JSON.stringify(line));
      after = line.seq;
      lines++;
    }
    const finished = page.status !== "queued" && page.status !== "running";
    if (finished && page.logs.length === 0) break; // the end, and every line after it, read
    if (!finished) await new Promise((r) => setTimeout(r, FOLLOW_POLL_MS));
    page = await c.request("GET", `/runs/${enc(runId)}/logs?after=${after}`) as LogPage;
  }
  return {
    run_id: runId,
    pipeline: first.pipeline,
    status: page.status,
    lines,
    ...(page.error ? { error: page.error } : {}),
  };
}

export const COMMANDS: Record<string, CommandSpec> = {
  deploy: {
    usage: "tau deploy <file> [--name NAME] [--schedule CRON] [--force]",
    description: "Validate a pipeline file and deploy it as a new version",
    options: { name: { type: "string" }, schedule: { type: "string" }, force: { type: "boolean" } },
    async run({ client, args, flags }) {
      const body = await pipelineFileBody(one(args, "pipeline file", this.usage), flags);
      return await (await client()).request("POST", "/pipelines", body).catch(localPaths);
    },
  },
  ...AUTHORING_COMMANDS,
  ...AI_COMMANDS,
  undeploy: {
    usage: "tau undeploy <name> [--force]",
    description: "Remove a pipeline with its versions and run history",
    options: { force: { type: "boolean" } },
    async run({ client, args, flags }) {
      const name = enc(one(args, "pipeline name", this.usage));
      return (await client()).request(
        "DELETE",
        `/pipelines/${name}${flags.force ? "?force=true" : ""}`,
      );
    },
  },
  schedule: {
    usage: 'tau schedule <name> ["CRON" [--timezone TZ] | --every SECONDS | --disable | --enable]',
    description: "Set, change, disable or enable a pipeline's schedule; prints the next fire time",
    options: {
      every: { type: "string" },
      timezone: { type: "string" },
      disable: { type: "boolean" },
      enable: { type: "boolean" },
    },
    async run({ client, args, flags }) {
      const [name, cron, ...rest] = args;
      if (!name || rest.length > 0) {
        throw new TauError("invalid_params", "Expected a pipeline name and at most one cron", {
          hint: `usage: ${this.usage}`,
        });
      }
      const every = positiveInt(flags.every, "--every");
      if ((cron !== undefined) === (every !== undefined) && !flags.disable && !flags.enable) {
        throw new TauError(
          "invalid_params",
          "Give a cron expression, --every, --disable or --enable",
          {
            hint: `usage: ${this.usage}`,
          },
        );
      }
      if (flags.disable && flags.enable) {
        throw new TauError("invalid_params", "--disable and --enable contradict each other");
      }
      return (await client()).request("PUT", `/pipelines/${enc(name)}/schedule`, {
        ...(cron !== undefined ? { cron } : {}),
        ...(every !== undefined ? { every } : {}),
        ...(flags.timezone !== undefined ? { timezone: flags.timezone } : {}),
        ...(flags.disable ? { enabled: false } : flags.enable ? { enabled: true } : {}),
      });
    },
  },
  dag: {
    usage: "tau dag",
    description: "The pipeline graph: nodes, edges, topological levels and a Mermaid diagram",
    async run({ client }) {
      return (await client()).request("GET", "/dag");
    },
  },
  depends: {
    usage: "tau depends <name> [--on UPSTREAM]...",
    description: "A pipeline's upstream and downstream; with --on, replace its upstreams",
    options: { on: { type: "string", multiple: true } },
    async run({ client, args, flags }) {
      const name = enc(one(args, "pipeline name", this.usage));
      const on = flags.on as string[] | undefined;
      const c = await client();
      return on === undefined
        ? c.request("GET", `/pipelines/${name}/depends`)
        : c.request("PUT", `/pipelines/${name}/depends`, { on });
    },
  },
  list: {
    usage: "tau list",
    description: "List deployed pipelines with their last run",
    async run({ client }) {
      return (await client()).request("GET", "/pipelines");
    },
  },
  show: {
    usage: "tau show <name>",
    description: "Metadata, current version and the exact permission set a run gets",
    async run({ client, args }) {
      return (await client()).request(
        "GET",
        `/pipelines/${enc(one(args, "pipeline name", this.usage))}`,
      );
    },
  },
  ...VERSION_COMMANDS,
  code: {
    usage: "tau code <name> [--version N]",
    description: "The deployed source of a pipeline",
    options: { version: { type: "string" } },
    async run({ client, args, flags }) {
      const name = one(args, "pipeline name", this.usage);
      const version = positiveInt(flags.version, "--version");
      return (await client()).request(
        "GET",
        `/pipelines/${enc(name)}/code${version ? `?version=${version}` : ""}`,
      );
    },
  },
  run: {
    usage: "tau run <name> [--params JSON] [--downstream] [--no-wait]",
    description:
      "Run a pipeline (with --downstream, then everything that depends on it); waits for its result unless --no-wait",
    options: {
      params: { type: "string" },
      downstream: { type: "boolean" },
      "no-wait": { type: "boolean" },
    },
    // A waited run that did not succeed exits 1; --no-wait succeeds once the run is queued.
    succeeded: (output, flags) => flags["no-wait"] === true || runsSucceeded(output),
    async run({ client, args, flags }) {
      const name = one(args, "pipeline name", this.usage);
      let params: unknown = {};
      if (flags.params !== undefined) {
        try {
          params = JSON.parse(String(flags.params));
        } catch (err) {
          throw new TauError(
            "invalid_params",
            `--params is not valid JSON: ${(err as Error).message}`,
            {
              hint: `pass an object, e.g. --params '{"date": "2026-01-01"}'`,
            },
          );
        }
        if (typeof params !== "object" || params === null || Array.isArray(params)) {
          throw new TauError("invalid_params", "--params must be a JSON object", {
            hint: `e.g. --params '{"date": "2026-01-01"}'`,
          });
        }
      }
      const c = await client();
      const wait = !flags["no-wait"];
      const run = await c.request("POST", `/pipelines/${enc(name)}/runs`, {
        params,
        ...(flags.downstream ? { downstream: true } : {}),
        ...(wait ? { wait_ms: WAIT_SLICE_MS } : {}),
      }) as { run_id: string; status?: string };
      if (!wait) return run;
      const root = await waitForRun(c, run.run_id, run);
      return flags.downstream ? { ...root, runs: await waitForDownstream(c, run.run_id) } : root;
    },
  },
  runs: {
    usage: "tau runs <name> [--last N] [--brief]",
    description: "Recent runs of a pipeline, newest first; --brief: status, error, one line " +
      "per step, result",
    options: { last: { type: "string" }, brief: { type: "boolean" } },
    async run({ client, args, flags }) {
      const name = one(args, "pipeline name", this.usage);
      const last = positiveInt(flags.last, "--last") ?? 10;
      return (await client()).request(
        "GET",
        `/pipelines/${enc(name)}/runs?last=${last}${flags.brief ? "&brief=true" : ""}`,
      );
    },
  },
  inspect: {
    usage: "tau inspect <name> [--last-run | --run ID] [--brief]",
    description: "The full record of a run (the last run by default; `selected` says which): " +
      "status, steps, result, error, permissions, logs; --brief: status, error, one line per " +
      "step, result",
    options: {
      "last-run": { type: "boolean" },
      run: { type: "string" },
      brief: { type: "boolean" },
    },
    async run({ client, args, flags }) {
      const name = one(args, "pipeline name", this.usage);
      if (flags.run !== undefined && flags["last-run"]) {
        throw new TauError("invalid_params", "--last-run and --run ID select different runs", {
          hint: `give one: tau inspect ${name} --run ${flags.run}, or tau inspect ${name}`,
        });
      }
      const c = await client();
      if (flags.run !== undefined) {
        const brief = flags.brief ? "?brief=true" : "";
        const run = await c.request("GET", `/runs/${enc(String(flags.run))}${brief}`) as {
          pipeline?: string;
        };
        if (run.pipeline !== name) {
          throw new TauError("not_found", `Run ${flags.run} does not belong to ${name}`, {
            hint: `list its runs with tau runs ${name}`,
          });
        }
        return { selected: "run_id", ...run };
      }
      const last = await c.request(
        "GET",
        `/pipelines/${enc(name)}/runs/last${flags.brief ? "?brief=true" : ""}`,
      ) as object;
      return { selected: "last_run", ...last };
    },
  },
  logs: {
    usage: "tau logs <name> [--run ID] [--follow]",
    description: "Log lines of a run (the last run by default); --follow streams them as JSON " +
      "lines until the run ends",
    options: { run: { type: "string" }, follow: { type: "boolean" } },
    async run({ client, args, flags }) {
      const name = one(args, "pipeline name", this.usage);
      const c = await client();
      const runId = flags.run !== undefined
        ? String(flags.run)
        : (await c.request("GET", `/pipelines/${enc(name)}/runs/last`) as { run_id: string })
          .run_id;
      const logs = await c.request("GET", `/runs/${enc(runId)}/logs`) as LogPage;
      if (logs.pipeline !== name) {
        throw new TauError("not_found", `Run ${runId} does not belong to ${name}`, {
          hint: `list its runs with tau runs ${name}`,
        });
      }
      return flags.follow ? await followLogs(c, runId, logs) : logs;
    },
  },
  ...BACKFILL_COMMANDS,
  heal: HEAL_COMMAND,
  heals: HEALS_COMMAND,
  lineage: LINEAGE_COMMAND,
  webhooks: WEBHOOKS_COMMAND,
  errors: {
    usage: "tau errors [--limit N] [--unresolved] [--brief]",
    description: "Recent failed and timed-out runs across pipelines; `resolved` when a later " +
      "run of the pipeline succeeded (--unresolved lists only the others)",
    options: {
      limit: { type: "string" },
      unresolved: { type: "boolean" },
      brief: { type: "boolean" },
    },
    async run({ client, flags }) {
      const limit = positiveInt(flags.limit, "--limit") ?? 20;
      const query = `limit=${limit}${flags.unresolved ? "&unresolved=true" : ""}${
        flags.brief ? "&brief=true" : ""
      }`;
      return (await client()).request("GET", `/errors?${query}`);
    },
  },
  cancel: {
    usage: "tau cancel <run_id>",
    description: "Kill a queued or running run",
    async run({ client, args }) {
      return (await client()).request(
        "POST",
        `/runs/${enc(one(args, "run id", this.usage))}/cancel`,
      );
    },
  },
  connections: {
    usage: "tau connections [--test NAME]",
    description:
      "Named connections from tau.toml (type, hosts a run is granted); --test connects for real",
    options: { test: { type: "string" } },
    succeeded: (output, flags) =>
      flags.test === undefined || (output as { ok?: unknown }).ok === true,
    async run({ client, args, flags }) {
      if (args.length > 0) {
        throw new TauError("invalid_params", "Unexpected argument", {
          hint: `usage: ${this.usage}`,
        });
      }
      const c = await client();
      if (flags.test !== undefined) {
        return c.request("POST", `/connections/${enc(String(flags.test))}/test`);
      }
      return c.request("GET", "/connections");
    },
  },
  workers: {
    usage: "tau workers",
    description:
      "The taud processes that execute runs: host, roles, tags, capacity, load, last heartbeat",
    async run({ client, args }) {
      if (args.length > 0) {
        throw new TauError("invalid_params", "Unexpected argument", { hint: "usage: tau workers" });
      }
      return (await client()).request("GET", "/workers");
    },
  },
  trigger: TRIGGER_COMMAND,
  keys: {
    usage: "tau keys create --scope read|operate|admin [--name NAME] | tau keys list | " +
      "tau keys revoke <id>",
    description:
      "API keys (admin only): create one (the key is printed once), list them, revoke one",
    options: { scope: { type: "string" }, name: { type: "string" } },
    async run({ client, args, flags }) {
      const [action, ...rest] = args;
      const usage = () => ({ hint: `usage: ${this.usage}` });
      if (action !== "create" && (flags.scope !== undefined || flags.name !== undefined)) {
        throw new TauError("invalid_params", "--scope and --name go with tau keys create", usage());
      }
      if (action === "create" && rest.length === 0) {
        if (flags.scope === undefined) {
          throw new TauError("invalid_params", "tau keys create needs --scope", {
            hint: "--scope read (GET only), operate (read + runs, cancels, schedules on/off, " +
              "connection tests) or admin (everything)",
          });
        }
        return (await client()).request("POST", "/keys", {
          scope: flags.scope,
          ...(flags.name !== undefined ? { name: flags.name } : {}),
        });
      }
      if (action === "list" && rest.length === 0) return (await client()).request("GET", "/keys");
      if (action === "revoke") {
        return (await client()).request("DELETE", `/keys/${enc(one(rest, "key id", this.usage))}`);
      }
      throw new TauError(
        "invalid_params",
        action === undefined ? "Expected create, list or revoke" : `Unexpected ${args.join(" ")}`,
        usage(),
      );
    },
  },
  status: {
    usage: "tau status",
    description:
      "Daemon health, counts, the tau.toml in effect with its connections, and which sandbox layers are active",
    async run({ client }) {
      const c = await client();
      return { url: c.baseUrl, ...(await c.request("GET", "/status") as object) };
    },
  },
  dashboard: DASHBOARD_COMMAND,
  mcp: {
    usage: "tau mcp",
    description: "Serve Tau's tools, resources and prompts to an agent host over MCP on stdio " +
      "(for the daemon's key: the local one, or TAU_HOST + TAU_API_KEY)",
    async run({ args, commands }) {
      if (args.length > 0) {
        throw new TauError("invalid_params", "Unexpected argument", { hint: "usage: tau mcp" });
      }
      // Loaded here, by a URL built at run time (see main.ts): no other command needs the MCP SDK.
      const { serveStdio }: typeof import("../mcp/stdio.ts") = await import(
        new URL("../mcp/stdio.ts", import.meta.url).href
      );
      await serveStdio(commands);
      // stdout carried the protocol: nothing more may be printed on it.
      Deno.exit(0);
    },
  },
  version: {
    usage: "tau version",
    description: "Versions of the CLI and of Deno",
    run() {
      return Promise.resolve({
        tau: VERSION,
        deno: Deno.version.deno,
        v8: Deno.version.v8,
        typescript: Deno.version.typescript,
      });
    },
  },
  guide: GUIDE_COMMAND,
};
