/**
 * `tau`: the CLI. Parses flags, asks the daemon, prints exactly one JSON document on stdout
 * (except `tau guide`, whose command returns RawText: markdown, printed as it is).
 * Exit code 0 on success; 1 on any error (`{"error": {"code", "message", "hint"}}`) and when a
 * command's document reports a failure (a waited run that did not succeed: see help.ts).
 */
import { TauError, toErrorBody } from "../core/errors.ts";
import { connect, RemoteError } from "./client.ts";
import { COMMANDS } from "./commands.ts";
import { parseFlags } from "./flags.ts";
import { RawText } from "./raw_text.ts";

// Help texts are loaded only when asked for: every other call starts faster without them.
// Modules only some commands need are imported by a URL built at run time, never a literal
// `import("./x.ts")`: Deno loads the whole graph of a literal one before main runs (every module
// it reaches, their npm packages resolved), whatever the command.
const helpTexts = (): Promise<typeof import("./help.ts")> =>
  import(new URL("./help.ts", import.meta.url).href);

export async function main(argv: string[]): Promise<{ output: unknown; code: number }> {
  const [name, ...rest] = argv;
  if (!name || name === "--help" || name === "-h") {
    return { output: (await helpTexts()).overview(COMMANDS), code: 0 };
  }
  if (name === "help") return { output: await help(rest), code: 0 };
  const spec = COMMANDS[name];
  if (!spec) throw (await helpTexts()).unknownTopic(name, COMMANDS);
  if (wantsHelp(rest)) return { output: (await helpTexts()).commandHelp(name, spec), code: 0 };
  const { positionals, values } = parseFlags(name, spec, rest);
  const output = await spec.run({
    client: () => connect(),
    args: positionals,
    flags: values,
    commands: COMMANDS,
  });
  return { output, code: spec.succeeded && !spec.succeeded(output, values) ? 1 : 0 };
}

/** `--help` or `-h` anywhere before a `--`. */
function wantsHelp(args: string[]): boolean {
  const end = args.indexOf("--");
  return (end < 0 ? args : args.slice(0, end)).some((a) => a === "--help" || a === "-h");
}

/** `tau help`, `tau help COMMAND`, `tau help pipeline|connectors|materializations`. */
async function help(args: string[]): Promise<unknown> {
  const { commandHelp, overview, unknownTopic } = await helpTexts();
  const topics = args.filter((a) => a !== "--help" && a !== "-h");
  if (topics.length === 0) return overview(COMMANDS);
  if (topics.length > 1) {
    throw new TauError("invalid_params", `Expected one command or topic, got ${topics.join(" ")}`, {
      hint: "e.g. tau help run, or tau help pipeline",
    });
  }
  const topic = topics[0]!;
  const { SDK_TOPICS, sdkHelp }: typeof import("./help_sdk.ts") = await import(
    new URL("./help_sdk.ts", import.meta.url).href
  );
  if (topic in SDK_TOPICS) return await sdkHelp(topic);
  const spec = COMMANDS[topic];
  if (!spec) throw unknownTopic(topic, COMMANDS);
  return commandHelp(topic, spec);
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
  if (result.output instanceof RawText) {
    console.log(result.output.text.replace(/\n$/, ""));
    Deno.exit(result.code);
  }
  // `tau logs --follow` prints JSON lines; its summary (or error) is one more line.
  const lines = Deno.args.includes("--follow");
  console.log(JSON.stringify(result.output, null, lines ? undefined : 2));
  Deno.exit(result.code);
}
