/**
 * `tau`: the CLI. Parses flags, asks the daemon, prints exactly one JSON document on stdout;
 * exit code 0 on success, 1 on any error (`{"error": {"code", "message", "hint"}}`).
 */
import { parseArgs } from "node:util";
import { TauError, toErrorBody } from "../core/errors.ts";
import { connect, RemoteError } from "./client.ts";
import { COMMANDS } from "./commands.ts";

export async function main(argv: string[]): Promise<{ output: unknown; code: number }> {
  const [name, ...rest] = argv;
  if (!name || name === "help" || name === "--help" || name === "-h") {
    return { output: help(), code: 0 };
  }
  const spec = COMMANDS[name];
  if (!spec) {
    throw new TauError("invalid_params", `Unknown command ${name}`, {
      hint: "run tau help for the list of commands",
    });
  }
  let parsed;
  try {
    parsed = parseArgs({
      args: rest,
      allowPositionals: true,
      strict: true,
      options: spec.options ?? {},
    });
  } catch (err) {
    throw new TauError("invalid_params", (err as Error).message, { hint: `usage: ${spec.usage}` });
  }
  const output = await spec.run({
    client: () => connect(),
    args: parsed.positionals,
    flags: parsed.values as Record<string, unknown>,
  });
  return { output, code: 0 };
}

function help() {
  return {
    usage: "tau <command> [args] — every command prints one JSON document",
    commands: Object.entries(COMMANDS).map(([name, spec]) => ({
      name,
      usage: spec.usage,
      description: spec.description,
    })),
    environment: {
      TAU_HOST: "daemon URL (default: the local daemon of TAU_HOME, else http://localhost:8400)",
      TAU_API_KEY: "API key (default for a local daemon: $TAU_HOME/api_key)",
      TAU_HOME: "state folder (default ~/.tau)",
    },
  };
}

if (import.meta.main) {
  let result: { output: unknown; code: number };
  try {
    result = await main(Deno.args);
  } catch (err) {
    if (err instanceof RemoteError) {
      const body = err.body as { error?: unknown };
      result = {
        output: body.error ? body : { error: { code: "internal", message: `HTTP ${err.status}` } },
        code: 1,
      };
    } else {
      result = { output: { error: toErrorBody(err) }, code: 1 };
    }
  }
  // `tau logs --follow` prints JSON lines; its summary (or error) is one more line.
  const lines = Deno.args.includes("--follow");
  console.log(JSON.stringify(result.output, null, lines ? undefined : 2));
  Deno.exit(result.code);
}
