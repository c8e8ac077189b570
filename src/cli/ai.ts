/** `tau create`: the daemon asks the configured model for a pipeline; the CLI writes the file. */
import { TauError } from "../core/errors.ts";
import { exists } from "../core/fs.ts";
import type { Client } from "./client.ts";
import type { CommandSpec } from "./spec.ts";

const WAIT_SLICE_MS = 25_000;

interface Created {
  name: string | null;
  code: string | null;
  deployed: boolean;
  version: number | null;
  attempts: unknown[];
  usage: unknown;
}

interface RunView {
  run_id: string;
  status?: string;
  duration_ms?: number | null;
  error?: unknown;
}

async function runToEnd(c: Client, name: string) {
  let run = await c.request("POST", `/pipelines/${encodeURIComponent(name)}/runs`, {
    params: {},
    wait_ms: WAIT_SLICE_MS,
  }) as RunView;
  while (run.status === "queued" || run.status === "running") {
    run = await c.request("GET", `/runs/${run.run_id}?wait_ms=${WAIT_SLICE_MS}`) as RunView;
  }
  return {
    run_id: run.run_id,
    status: run.status,
    duration_ms: run.duration_ms ?? null,
    error: run.error ?? null,
  };
}

/**
 * node:path, loaded by `tau create` alone: the first node: module costs a start ~20 ms (see
 * config/paths.ts).
 */
type NodePath = typeof import("node:path");

function shown({ relative }: NodePath, path: string): string {
  const near = relative(Deno.cwd(), path);
  return near.startsWith("../../") ? path : near.startsWith(".") ? near : `./${near}`;
}

async function refuseExisting(
  nodePath: NodePath,
  path: string,
  created?: Created,
): Promise<void> {
  if (!(await exists(path))) return;
  throw new TauError(
    "conflict",
    `${shown(nodePath, path)} exists; tau create never overwrites a file` +
      (created
        ? ` (nothing was written${
          created.deployed ? `; deployed as version ${created.version}` : ""
        })`
        : ""),
    {
      hint: created
        ? "the file is in details.code; save it elsewhere, and next time pass --out FILE"
        : "pass --out with a new path, or remove the file first",
      details: created ? { ...created, file: null } : { file: shown(nodePath, path) },
    },
  );
}

export const AI_COMMANDS: Record<string, CommandSpec> = {
  create: {
    usage: 'tau create "INTENT" [--name N] [--connections a,b] [--schedule CRON] [--out FILE] ' +
      "[--deploy] [--run]",
    description: "Ask the configured model ([ai]) for a new pipeline file that passes every " +
      "deploy check; write it, and with --deploy deploy it",
    options: {
      name: { type: "string" },
      connections: { type: "string" },
      schedule: { type: "string" },
      out: { type: "string" },
      deploy: { type: "boolean" },
      run: { type: "boolean" },
    },
    // No candidate passed (the attempts say why), or the --run did not succeed.
    succeeded: (output) => {
      const o = output as Created & { run?: { status?: string } };
      return o.code !== null && (o.run === undefined || o.run.status === "success");
    },
    async run({ client, args, flags }) {
      const intent = args.join(" ").trim();
      if (args.length !== 1 || !intent) {
        throw new TauError("invalid_params", "Expected the intent as one quoted argument", {
          hint: `usage: ${this.usage}`,
        });
      }
      if (flags.run && !flags.deploy) {
        throw new TauError("invalid_params", "--run needs --deploy", {
          hint: `add --deploy, or run the file after deploying it yourself`,
        });
      }
      const nodePath = await import("node:path");
      const { basename, resolve } = nodePath;
      const name = flags.name as string | undefined;
      const known = flags.out !== undefined
        ? resolve(String(flags.out))
        : name !== undefined
        ? resolve(`${name}.ts`)
        : null;
      if (known) await refuseExisting(nodePath, known);
      const connections = flags.connections === undefined
        ? undefined
        : String(flags.connections).split(",").map((s) => s.trim()).filter(Boolean);
      const c = await client();
      const created = await c.request("POST", "/create", {
        intent,
        ...(name !== undefined ? { name } : {}),
        ...(connections ? { connections } : {}),
        ...(flags.schedule !== undefined ? { schedule: flags.schedule } : {}),
        ...(flags.deploy ? { deploy: true } : {}),
        ...(known ? { filename: basename(known), source_path: known } : {}),
      }) as Created;
      if (created.code === null || created.name === null) return { ...created, file: null };
      const file = known ?? resolve(`${created.name}.ts`);
      await refuseExisting(nodePath, file, created);
      await Deno.writeTextFile(file, created.code, { createNew: true });
      const output = {
        name: created.name,
        file: shown(nodePath, file),
        code: created.code,
        deployed: created.deployed,
        version: created.version,
        attempts: created.attempts,
        usage: created.usage,
      };
      if (!flags.run) return output;
      return { ...output, run: await runToEnd(c, created.name) };
    },
  },
};
