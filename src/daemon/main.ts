/**
 * `taud`: the daemon entry point.
 *
 *   taud [--port N] [--host H]      start in the background (idempotent), print JSON
 *   taud --foreground [...]          run attached (logs on stderr)
 *   taud stop                        stop the background daemon
 */
import { parseArgs } from "node:util";
import { resolveHome, tauPaths } from "../config/paths.ts";
import { TauError, toErrorBody } from "../core/errors.ts";
import { serveDaemon } from "./server.ts";
import { startBackground, stopDaemon } from "./control.ts";

async function main(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      foreground: { type: "boolean", default: false },
      port: { type: "string" },
      host: { type: "string" },
      "log-file": { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  const home = resolveHome();
  const port = values.port === undefined ? undefined : parsePort(values.port);
  const host = values.host;
  if (values.help) {
    print({
      usage: "taud [--port N] [--host H] | taud --foreground [--port N] [--host H] | taud stop",
      defaults: { port: 8400, host: "127.0.0.1", home },
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
    await serveDaemon({
      home,
      ...(host ? { host } : {}),
      ...(port !== undefined ? { port } : {}),
      ...(values["log-file"] ? { logFile: values["log-file"] } : {}),
    });
    return 0;
  }
  print(await startBackground(tauPaths(home), args.filter((a) => !a.startsWith("--log-file"))));
  return 0;
}

function parsePort(text: string): number {
  const port = Number(text);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new TauError("invalid_params", `Invalid --port ${text}`, {
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
    const body = err instanceof TauError || !(err instanceof Error) ? toErrorBody(err) : {
      code: "invalid_params",
      message: err.message,
      hint: "run taud --help",
    };
    console.log(JSON.stringify({ error: body }, null, 2));
    Deno.exit(1);
  }
}
