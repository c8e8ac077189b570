/**
 * The MCP tools: one per CLI command an agent operates Tau with, named after it, returning what
 * the command prints. Most call the CLI command itself through the same client; the ones that
 * would read or write the caller's files (deploy, check, create) or print as they go (logs)
 * take text and call the API, and lists are paged to stay within the result bound.
 */
import { z } from "zod";
import { TauError } from "../core/errors.ts";
import type { Client } from "../cli/client.ts";
import type { CommandSpec } from "../cli/spec.ts";
import type { ApiKeyScope } from "../store/mod.ts";
import { fitPrefix, PAGING_RESERVE } from "./bounds.ts";

/** What a tool is called with: the client (with the caller's key) and the CLI's commands. */
export interface ToolContext {
  client: Client;
  commands: Record<string, CommandSpec>;
}

export interface ToolSpec {
  /** @default {the CLI command's description} */
  description?: string;
  /** The least scope the tool is of use to. */
  scope: ApiKeyScope;
  input: z.ZodRawShape;
  /** Inputs that need more than `scope`: left out of the schema a lesser key sees. */
  elevated?: Record<string, ApiKeyScope>;
  /** The top-level fields of the result (more may come). */
  output: z.ZodRawShape;
  /** Changes nothing although it needs more than `read` (`check`). */
  readOnly?: boolean;
  destructive?: boolean;
  idempotent?: boolean;
  // deno-lint-ignore no-explicit-any
  call(ctx: ToolContext, input: any): Promise<Record<string, unknown>>;
}

/** Runs the CLI command `name` with these positionals and flags, through the tool's client. */
async function cli(
  { client, commands }: ToolContext,
  name: string,
  args: (string | undefined)[],
  flags: Record<string, unknown> = {},
): Promise<Record<string, unknown>> {
  const defined = Object.fromEntries(Object.entries(flags).filter(([, v]) => v !== undefined));
  return await commands[name]!.run({
    client: () => Promise.resolve(client),
    args: args.filter((a): a is string => a !== undefined),
    flags: defined,
    commands,
  }) as Record<string, unknown>;
}

const enc = encodeURIComponent;
const name = z.string().min(1).describe("the pipeline's name");
const runId = z.string().min(1).describe("a run id (run_…)");
const list = z.array(z.unknown());
const PAGE_MAX = 1000;
const limit = (fallback: number) =>
  z.number().int().min(1).max(PAGE_MAX).optional().describe(`page size (default ${fallback})`);
const after = z.number().int().min(0).optional();

/** The JSON body of POST /pipelines and /pipelines/check from a file's text. */
function fileBody(input: {
  code: string;
  filename?: string;
  name?: string;
  schedule?: string;
  force?: boolean;
}) {
  return {
    code: input.code,
    filename: input.filename ?? `${input.name ?? "pipeline"}.ts`,
    ...(input.name !== undefined ? { name: input.name } : {}),
    ...(input.schedule !== undefined ? { schedule: input.schedule } : {}),
    ...(input.force ? { force: true } : {}),
  };
}

const fileInput = {
  code: z.string().min(1).max(1024 * 1024).describe("the whole pipeline file (TypeScript)"),
  filename: z.string().min(1).optional().describe(
    "its file name, for error locations " +
      "(default <name>.ts)",
  ),
  name: z.string().min(1).optional().describe("deploy under this name instead of the config's"),
  schedule: z.string().optional().describe("a cron schedule instead of the file's"),
  force: z.boolean().optional().describe("replace a different file deployed under this name"),
};

/**
 * One page of `items` starting at `from`, cut to the result bound; `more` says whether items
 * exist past what was fetched.
 */
function page<T>(
  items: T[],
  more: boolean,
  from: number,
  wrap: (page: T[]) => Record<string, unknown>,
  next: (after: number) => string,
) {
  const kept = fitPrefix(items, wrap, PAGING_RESERVE);
  const truncated = more || kept.length < items.length;
  const nextAfter = truncated ? from + kept.length : null;
  return {
    ...wrap(kept),
    truncated,
    next_after: nextAfter,
    ...(nextAfter !== null ? { next: next(nextAfter) } : {}),
  };
}

/**
 * A page of a newest-first list a CLI command prints (`runs`, `errors`: the list is under the
 * command's own name), fetched `after + limit + 1` deep and sliced.
 */
async function cliPage(
  ctx: ToolContext,
  command: "runs" | "errors",
  args: string[],
  flags: (count: number) => Record<string, unknown>,
  input: { after?: number; limit?: number },
  fallback: number,
) {
  const from = input.after ?? 0;
  const size = input.limit ?? fallback;
  const depth = Math.min(from + size + 1, PAGE_MAX);
  const { [command]: list, ...rest } = await cli(ctx, command, args, flags(depth));
  const items = list as unknown[];
  const slice = items.slice(from, from + size);
  const more = items.length > from + size || (depth === PAGE_MAX && items.length === depth);
  return page(
    slice,
    more,
    from,
    (p) => ({ ...rest, [command]: p, count: p.length }),
    (n) => `call ${command} with after: ${n} for the next page`,
  );
}

const paging = {
  truncated: z.boolean(),
  next_after: z.number().nullable(),
  next: z.string().optional(),
};

export const TOOLS: Record<string, ToolSpec> = {
  status: {
    scope: "read",
    input: {},
    output: { status: z.string(), version: z.string(), store: z.string(), roles: list },
    call: (c) => cli(c, "status", []),
  },
  list: {
    scope: "read",
    input: {},
    output: { pipelines: list, count: z.number() },
    call: (c) => cli(c, "list", []),
  },
  show: {
    scope: "read",
    input: { name },
    output: { name: z.string(), current_version: z.number(), permissions: z.unknown() },
    call: (c, i) => cli(c, "show", [i.name]),
  },
  code: {
    scope: "read",
    input: { name, version: z.number().int().min(1).optional() },
    output: { pipeline: z.string(), version: z.number(), code: z.string() },
    call: (c, i) => cli(c, "code", [i.name], { version: i.version }),
  },
  check: {
    description: "Run every deploy check on a pipeline file's text without deploying it " +
      "(module graph, type-check, metadata); the error deploy would give, or what it would do",
    scope: "admin",
    input: fileInput,
    output: { ok: z.boolean(), pipeline: z.string(), deploy: z.string() },
    readOnly: true,
    call: async (c, i) => await c.client.request("POST", "/pipelines/check", fileBody(i)) as never,
  },
  deploy: {
    description: "Validate a pipeline file's text and deploy it as a new version",
    scope: "admin",
    input: fileInput,
    output: { deployed: z.string(), version: z.number(), unchanged: z.boolean() },
    idempotent: true,
    call: async (c, i) => await c.client.request("POST", "/pipelines", fileBody(i)) as never,
  },
  undeploy: {
    scope: "admin",
    input: { name, force: z.boolean().optional() },
    output: { undeployed: z.string() },
    destructive: true,
    idempotent: true,
    call: (c, i) => cli(c, "undeploy", [i.name], { force: i.force }),
  },
  run: {
    description: "Run a pipeline (with downstream, then everything that depends on it); by " +
      "default waits for the run to end and returns its record",
    scope: "operate",
    input: {
      name,
      params: z.record(z.string(), z.unknown()).optional().describe("the run's params"),
      wait: z.boolean().optional().describe("wait for the run to end (default true)"),
      downstream: z.boolean().optional(),
    },
    output: { run_id: z.string(), status: z.string() },
    call: (c, i) =>
      cli(c, "run", [i.name], {
        params: i.params === undefined ? undefined : JSON.stringify(i.params),
        downstream: i.downstream,
        "no-wait": i.wait === false ? true : undefined,
      }),
  },
  runs: {
    description: "Runs of a pipeline, newest first, a page at a time (after: how many to skip)",
    scope: "read",
    input: { name, after, limit: limit(10), brief: z.boolean().optional() },
    output: { pipeline: z.string(), runs: list, count: z.number(), ...paging },
    call: (c, i) =>
      cliPage(c, "runs", [i.name], (n) => ({ last: String(n), brief: i.brief }), i, 10),
  },
  inspect: {
    scope: "read",
    input: { name, run_id: runId.optional(), brief: z.boolean().optional() },
    output: { selected: z.string(), run_id: z.string(), status: z.string() },
    call: (c, i) => cli(c, "inspect", [i.name], { run: i.run_id, brief: i.brief }),
  },
  logs: {
    description: "Log lines of a run (the last run by default), oldest first, a page at a time " +
      "(after: the seq of the last line already read)",
    scope: "read",
    input: {
      name,
      run_id: runId.optional(),
      after: z.number().int().min(-1).optional().describe("the seq of the last line read"),
      limit: limit(500),
    },
    output: { run_id: z.string(), status: z.string(), logs: list, ...paging },
    call: async (c, i) => {
      const id = i.run_id ??
        (await c.client.request("GET", `/pipelines/${enc(i.name)}/runs/last`) as { run_id: string })
          .run_id;
      const size = i.limit ?? 500;
      const query = `limit=${size + 1}${i.after !== undefined ? `&after=${i.after}` : ""}`;
      const { logs, ...rest } = await c.client.request("GET", `/runs/${enc(id)}/logs?${query}`) as {
        pipeline: string;
        logs: { seq: number }[];
      };
      if (rest.pipeline !== i.name) {
        throw new TauError("not_found", `Run ${id} does not belong to ${i.name}`, {
          hint: `list its runs with the runs tool (name: "${i.name}")`,
        });
      }
      const lines = logs.slice(0, size);
      const kept = fitPrefix(lines, (p) => ({ ...rest, logs: p }), PAGING_RESERVE);
      const truncated = logs.length > size || kept.length < lines.length;
      const last = kept.at(-1)?.seq ?? i.after ?? null;
      return {
        ...rest,
        logs: kept,
        truncated,
        next_after: truncated ? last : null,
        ...(truncated
          ? { next: `call logs with run_id: "${id}", after: ${last} for the next page` }
          : {}),
      };
    },
  },
  errors: {
    description: "Recent failed and timed-out runs across pipelines, newest first, a page at a " +
      "time; resolved: a later run of the pipeline succeeded",
    scope: "read",
    input: {
      after,
      limit: limit(20),
      unresolved: z.boolean().optional(),
      brief: z.boolean().optional(),
    },
    output: { errors: list, count: z.number(), ...paging },
    call: (c, i) =>
      cliPage(
        c,
        "errors",
        [],
        (n) => ({ limit: String(n), unresolved: i.unresolved, brief: i.brief }),
        i,
        20,
      ),
  },
  cancel: {
    scope: "operate",
    input: { run_id: runId },
    output: { run_id: z.string(), status: z.string() },
    idempotent: true,
    call: (c, i) => cli(c, "cancel", [i.run_id]),
  },
  schedule: {
    description: "Enable or disable a pipeline's schedule (operate), or set or change it: " +
      "cron with timezone, or every N seconds (admin); returns the next fire time",
    scope: "operate",
    input: {
      name,
      enabled: z.boolean().optional().describe("turn the schedule on or off"),
      cron: z.string().optional(),
      timezone: z.string().optional(),
      every: z.number().int().min(1).optional().describe("seconds between runs"),
    },
    elevated: { cron: "admin", timezone: "admin", every: "admin" },
    output: { pipeline: z.string(), enabled: z.boolean() },
    idempotent: true,
    call: (c, i) =>
      cli(c, "schedule", [i.name, i.cron], {
        every: i.every === undefined ? undefined : String(i.every),
        timezone: i.timezone,
        enable: i.enabled === true ? true : undefined,
        disable: i.enabled === false ? true : undefined,
      }),
  },
  dag: {
    scope: "read",
    input: {},
    output: { nodes: list, edges: list, levels: list, mermaid: z.string() },
    call: (c) => cli(c, "dag", []),
  },
  depends: {
    description: "A pipeline's upstream and downstream; with on (admin), replace its upstreams",
    scope: "read",
    input: { name, on: z.array(z.string().min(1)).optional() },
    elevated: { on: "admin" },
    output: { pipeline: z.string(), upstream: list, downstream: list },
    idempotent: true,
    call: (c, i) => cli(c, "depends", [i.name], { on: i.on }),
  },
  connections: {
    description: "Named connections from tau.toml (type, hosts a run is granted); with test " +
      "(operate), connect to one for real",
    scope: "read",
    input: { test: z.string().min(1).optional().describe("the connection to test") },
    elevated: { test: "operate" },
    output: {},
    call: (c, i) => cli(c, "connections", [], { test: i.test }),
  },
  versions: {
    scope: "read",
    input: { name },
    output: { pipeline: z.string(), current_version: z.number(), versions: list },
    call: (c, i) => cli(c, "versions", [i.name]),
  },
  diff: {
    scope: "read",
    input: { name, from: z.number().int().min(1), to: z.number().int().min(1).optional() },
    output: { pipeline: z.string(), diff: z.string(), permissions: z.unknown() },
    call: (c, i) =>
      cli(c, "diff", [i.name, String(i.from), i.to === undefined ? undefined : String(i.to)]),
  },
  rollback: {
    scope: "operate",
    input: { name, to: z.number().int().min(1).optional() },
    output: { pipeline: z.string(), version: z.number(), rolled_back_to: z.number() },
    destructive: true,
    call: (c, i) =>
      cli(c, "rollback", [i.name], { to: i.to === undefined ? undefined : String(i.to) }),
  },
  heal: {
    description: "The diagnosis of a pipeline's failed run (the newest by default); with auto " +
      "(operate), the configured model's fix, checked and replayed in the sandbox, promoted " +
      "only when the replay succeeds",
    scope: "read",
    input: {
      name,
      run_id: runId.optional(),
      auto: z.boolean().optional(),
      allow_permission_changes: z.boolean().optional(),
      dry_run: z.boolean().optional(),
    },
    elevated: { auto: "operate", allow_permission_changes: "operate", dry_run: "operate" },
    output: { pipeline: z.string(), run_id: z.string(), diagnosis: z.unknown() },
    call: (c, i) =>
      cli(c, "heal", [i.name], {
        run: i.run_id,
        auto: i.auto,
        "allow-permission-changes": i.allow_permission_changes,
        "dry-run": i.dry_run,
      }),
  },
  heals: {
    scope: "read",
    input: { name, limit: limit(20) },
    output: { pipeline: z.string(), heals: list },
    call: (c, i) =>
      cli(c, "heals", [i.name], { limit: i.limit === undefined ? undefined : String(i.limit) }),
  },
  backfill: {
    scope: "operate",
    input: {
      name,
      from: z.string().min(1).describe("first instant (included): 2026-01-01 or ISO with offset"),
      to: z.string().min(1).describe("end of the range (excluded), as from"),
      concurrency: z.number().int().min(1).max(100).optional(),
      rerun: z.boolean().optional(),
      downstream: z.boolean().optional(),
      dry_run: z.boolean().optional(),
    },
    output: { pipeline: z.string(), total: z.number() },
    call: (c, i) =>
      cli(c, "backfill", [i.name], {
        from: i.from,
        to: i.to,
        concurrency: i.concurrency === undefined ? undefined : String(i.concurrency),
        rerun: i.rerun,
        downstream: i.downstream,
        "dry-run": i.dry_run,
      }),
  },
  backfills: {
    description: "Backfills with their progress (of one pipeline, or in one status); show: one " +
      "with its active and failed instants; cancel (operate): stop one",
    scope: "read",
    input: {
      name: name.optional(),
      status: z.enum(["running", "completed", "failed", "cancelled"]).optional(),
      limit: z.number().int().min(1).max(100).optional(),
      show: z.string().min(1).optional().describe("a backfill id (bf_…) to show"),
      cancel: z.string().min(1).optional().describe("a backfill id (bf_…) to cancel"),
    },
    elevated: { cancel: "operate" },
    output: {},
    call: (c, i) =>
      i.cancel || i.show
        ? cli(c, "backfills", [i.cancel ? "cancel" : "show", i.cancel ?? i.show])
        : cli(c, "backfills", [i.name], {
          status: i.status,
          limit: i.limit === undefined ? undefined : String(i.limit),
        }),
  },
  lineage: {
    scope: "read",
    input: {
      table: z.string().min(1).optional().describe(
        "a table: TABLE, SCHEMA.TABLE or CONNECTION.SCHEMA.TABLE (give this or pipeline)",
      ),
      pipeline: z.string().min(1).optional().describe("a pipeline's name (give this or table)"),
    },
    output: { based_on: z.string(), truncated: z.boolean(), mermaid: z.string() },
    call: (c, i) => cli(c, "lineage", [i.table], { pipeline: i.pipeline }),
  },
  create: {
    description: "Ask the configured model for a new pipeline file from an intent; the file " +
      "passes every deploy check; with deploy (admin), deploy it",
    scope: "operate",
    input: {
      intent: z.string().min(1),
      name: z.string().min(1).optional(),
      connections: z.array(z.string().min(1)).optional(),
      schedule: z.string().optional(),
      deploy: z.boolean().optional(),
    },
    elevated: { deploy: "admin" },
    output: { name: z.string().nullable(), code: z.string().nullable(), attempts: list },
    call: async (c, i) => await c.client.request("POST", "/create", i) as never,
  },
  workers: {
    scope: "read",
    input: {},
    output: { workers: list, count: z.number() },
    call: (c) => cli(c, "workers", []),
  },
};
