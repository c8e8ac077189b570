/**
 * `taud`: the daemon entry point.
 *
 *   taud [--port N] [--host H]      start in the background (idempotent), print JSON
 *   taud --foreground [...]          run attached (logs on stderr)
 *   taud stop                        stop the background daemon
 *   --role all|api|worker|scheduler   what this process does (comma-separated; default all)
 *   --tags gpu,eu                     worker tags: pipelines with that `pool` run here
 */
import { parseArgs } from "node:util";
import { resolveHome, tauPaths } from "../config/paths.ts";
import { TauError, toErrorBody } from "../core/errors.ts";
import { type Role, ROLES, serveDaemon } from "./server.ts";
import { logStartFailure, startBackground, stopDaemon } from "./control.ts";

function parseFlags(args: string[]) {
  try {
    return parseArgs({
      args,
      allowPositionals: true,
      options: {
        foreground: { type: "boolean", default: false },
        port: { type: "string" },
        "dashboard-port": { type: "string" },
        host: { type: "string" },
        "log-file": { type: "string" },
        role: { type: "string" },
        tags: { type: "string" },
        help: { type: "boolean", short: "h" },
      },
    });
  } catch (err) {
    throw new TauError("invalid_params", (err as Error).message, { hint: "run taud --help" });
  }
}

async function main(args: string[]): Promise<number> {
  const { values, positionals } = parseFlags(args);
  const home = resolveHome();
  const port = values.port === undefined ? undefined : parsePort(values.port);
  const dashboardPort = values["dashboard-port"] === undefined
    ? undefined
    : parsePort(values["dashboard-port"], "--dashboard-port");
  const host = values.host;
  const roles = parseRoles(values.role ?? "all");
  const tags = (values.tags ?? "").split(",").map((t) => t.trim()).filter(Boolean);
  if (values.help) {
    print({
      usage:
        "taud [--port N] [--dashboard-port N] [--host H] [--role all|api|worker|scheduler] [--tags T1,T2] | taud --foreground [...] | taud stop",
      defaults: {
        port: 8400,
        dashboard_port: "port + 1",
        host: "127.0.0.1",
        home,
        role: "all",
        tags: [],
      },
    });
    return 0;
  }
  const command = positionals[0] ?? "start";
  if (command === "stop") {
    print(await stopDaemon(tauPaths(home)));
    return 0;
  }
  if (command !== "start") {
    throw new TauError("invalid_params", `Unknown taud command ${command}`, {
      hint: "use taud, taud --foreground or taud stop",
    });
  }
  if (values.foreground) {
    const logFile = values["log-file"];
    try {
      await serveDaemon({
        home,
        ...(host ? { host } : {}),
        ...(port !== undefined ? { port } : {}),
        ...(dashboardPort !== undefined ? { dashboardPort } : {}),
        ...(logFile ? { logFile } : {}),
        roles,
        tags,
      });
    } catch (err) {
      // Started in the background: the parent reads why from the log and prints it.
      if (logFile) logStartFailure(logFile, toErrorBody(err));
      throw err;
    }
    return 0;
  }
  print(await startBackground(tauPaths(home), args.filter((a) => !a.startsWith("--log-file"))));
  return 0;
}

function parseRoles(text: string): Role[] {
  const names = text.split(",").map((r) => r.trim()).filter(Boolean);
  if (names.includes("all")) return [...ROLES];
  const unknown = names.filter((r) => !ROLES.includes(r as Role));
  if (unknown.length > 0 || names.length === 0) {
    throw new TauError("invalid_params", `Invalid --role ${text}`, {
      hint: "use all, or any of api, worker, scheduler separated by commas",
    });
  }
  return [...new Set(names)] as Role[];
}

function parsePort(text: string, flag = "--port"): number {
  const port = Number(text);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new TauError("invalid_params", `Invalid ${flag} ${text}`, {
      hint: "use an integer from 0 to 65535",
    });
  }
  return port;
}

function print(value: unknown): void {
  console.log(JSON.stringify(value, null, 2));
}

if (import.meta.main) {
  try {
    Deno.exit(await main(Deno.args));
  } catch (err) {
    console.log(JSON.stringify({ error: toErrorBody(err) }, null, 2));
    Deno.exit(1);
  }
}
