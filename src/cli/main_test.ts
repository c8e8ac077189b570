/**
 * The CLI without a daemon: flag errors that name the right flag, help that matches the
 * commands' own options, the SDK reference read from its doc comments, and exit-code rules.
 */
import { assert, assertEquals, assertMatch } from "../../tests/helpers/assert.ts";
import { TauError } from "../core/errors.ts";
import { pipelineConfigSchema } from "../metadata/schema.ts";
import { createContext } from "../../sdk/context.ts";
import { COMMANDS } from "./commands.ts";
import { nearest } from "./flags.ts";
import { COMMAND_DOCS, flagName } from "./help.ts";
import { main } from "./main.ts";

/** The TauError `tau ...args` fails with, before any daemon is asked. */
async function refusal(...args: string[]): Promise<TauError> {
  try {
    await main(args);
  } catch (err) {
    assert.ok(err instanceof TauError, String(err));
    return err;
  }
  throw new Error(`tau ${args.join(" ")} did not fail`);
}

// deno-lint-ignore no-explicit-any
async function output(...args: string[]): Promise<any> {
  const { output, code } = await main(args);
  assertEquals(code, 0);
  return output;
}

Deno.test("a misspelled flag names the flag it meant and the command's usage", async () => {
  const err = await refusal("run", "hello", "--param", "{}");
  assertEquals(err.code, "invalid_params");
  assertEquals(err.message, "Unknown flag --param; did you mean --params?");
  assert.ok(err.hint?.includes(COMMANDS.run!.usage), err.hint);
  assert.ok(err.hint?.includes("tau help run"), err.hint);
  assertEquals((err.details as { did_you_mean: string }).did_you_mean, "--params");

  assertEquals(
    (await refusal("run", "x", "--nowait")).message,
    "Unknown flag --nowait; did you mean --no-wait?",
  );
  assertEquals(
    (await refusal("inspect", "x", "--last")).message,
    "Unknown flag --last; did you mean --last-run?",
  );
  assertMatch(
    (await refusal("run", "x", "--zzz")).message,
    /^Unknown flag --zzz: tau run takes --params, --downstream, --no-wait$/,
  );
  assertEquals(
    (await refusal("list", "--all")).message,
    "Unknown flag --all: tau list takes no flags",
  );
});

Deno.test("a flag without its value, or a value on a switch, says so", async () => {
  assertEquals(
    (await refusal("run", "x", "--params")).message,
    "--params needs a value: --params JSON",
  );
  assertEquals(
    (await refusal("run", "x", "--params", "--no-wait")).message,
    "--params needs a value, and got the flag --no-wait",
  );
  assertEquals((await refusal("deploy", "f.ts", "--force=yes")).message, "--force takes no value");
});

Deno.test("numbers out of range say what was given and give an example that works", async () => {
  const last = await refusal("runs", "hello", "--last", "abc");
  assertEquals(last.message, '--last must be a whole number of at least 1, got "abc"');
  assertEquals(last.hint, "e.g. --last 5");
  const limit = await refusal("errors", "--limit", "0");
  assertEquals(limit.message, '--limit must be a whole number of at least 1, got "0"');
  assertEquals((await refusal("runs", "hello", "--last", "2.5")).code, "invalid_params");
});

Deno.test("inspect refuses two selectors instead of picking one silently", async () => {
  const err = await refusal("inspect", "hello", "--last-run", "--run", "run_1");
  assertEquals(err.message, "--last-run and --run ID select different runs");
  assertMatch(err.hint ?? "", /tau inspect hello --run run_1/);
});

Deno.test("unknown commands and topics suggest the nearest one", async () => {
  assertMatch((await refusal("rn", "x")).message, /did you mean run\?/);
  assertMatch((await refusal("help", "pipelin")).message, /did you mean pipeline\?/);
  assertEquals(nearest("--zzz", ["--params"]), null);
});

Deno.test("tau help COMMAND and tau COMMAND --help print the same, fully documented", async () => {
  for (const [name, spec] of Object.entries(COMMANDS)) {
    const help = await output("help", name);
    assertEquals(await output(name, "--help"), help);
    assertEquals(help.usage, spec.usage);
    const options = Object.keys(spec.options ?? {});
    assertEquals(help.flags.map((f: { flag: string }) => flagName(f.flag)), options, name);
    for (const flag of help.flags) {
      assert.ok(flag.description !== "(not documented)", `${name} ${flag.flag} has no description`);
      const takesValue = spec.options![flagName(flag.flag)]!.type === "string";
      assertEquals(/^--\S+ \S/.test(flag.flag), takesValue, `${name} ${flag.flag}: value name`);
    }
    assert.ok(help.output !== "(not documented)", `${name} has no output shape`);
    assert.ok(String(help.example).startsWith(`tau ${name}`), `${name} example: ${help.example}`);
    // Its example parses: every flag in it is one the command knows.
    for (const flag of String(help.example).match(/ --[a-z-]+/g) ?? []) {
      assert.ok(options.includes(flag.trim().slice(2)), `${name} example uses ${flag}`);
    }
  }
  for (const [name, doc] of Object.entries(COMMAND_DOCS)) {
    assert.ok(COMMANDS[name], `help for a command that does not exist: ${name}`);
    for (const flag of Object.keys(doc.flags ?? {})) {
      assert.ok(COMMANDS[name]!.options?.[flagName(flag)], `${name}: ${flag} is not a flag`);
    }
  }
  const overview = await output("help");
  assertEquals(overview.commands.length, Object.keys(COMMANDS).length);
  assertEquals(await output("--help"), overview);
});

Deno.test("tau help pipeline is the SDK's own documentation", async () => {
  const help = await output("help", "pipeline");
  // ctx: every member the real context has, each with its doc comment and a signature.
  const ctx = createContext({
    runId: "r",
    pipelineName: "p",
    attempt: 1,
    params: {},
    lastSuccessfulRun: null,
    secrets: [],
  });
  const documented = help.ctx.map((m: { name: string }) => m.name);
  assertEquals([...documented].sort(), Object.keys(ctx).sort());
  const step = help.ctx.find((m: { name: string }) => m.name === "step");
  assertMatch(step.signature, /^step<T>\(name: string, fn: \(step: Step\) => T \| Promise<T>\)/);
  assertMatch(step.doc, /named step/);
  // config: the keys deploy accepts, nested limits included, with their defaults.
  const keys = help.config.map((m: { name: string }) => m.name);
  const accepted = Object.keys(pipelineConfigSchema.shape);
  assert.ok(accepted.length > 10);
  for (const key of accepted) assert.ok(keys.includes(key), `config ${key} missing`);
  assert.ok(keys.includes("limits.heapMb"), keys.join(", "));
  assertEquals(help.config.find((m: { name: string }) => m.name === "overlap").default, '"skip"');
  for (const entry of [...help.config, ...help.ctx]) {
    assert.ok(entry.doc.length > 0, `${entry.name} has no doc comment`);
  }
  assertMatch(help.about, /import \{ pipeline \} from "tau"/);
  // No type the renderer did not understand.
  const signatures = JSON.stringify(help, (key, value) => key === "doc" ? undefined : value);
  assert.ok(!signatures.includes("…"), "a signature fell back to …");
});

Deno.test("tau help connectors and materializations document their modules", async () => {
  const connectors = await output("help", "connectors");
  const connector = connectors.reference.find((e: { name: string }) => e.name === "Connector");
  const methods = connector.members.map((m: { name: string }) => m.name);
  for (const name of ["extract", "load", "execute"]) assert.ok(methods.includes(name), name);
  const materializations = await output("help", "materializations");
  assert.ok(materializations.reference.some((e: { name: string }) => e.name === "materialize"));
});

Deno.test("exit codes: a waited run that did not succeed fails; --no-wait and reads do not", () => {
  const run = COMMANDS.run!;
  assertEquals(run.succeeded!({ status: "success" }, {}), true);
  for (const status of ["failed", "timed_out", "cancelled", "skipped"]) {
    assertEquals(run.succeeded!({ status }, {}), false, status);
  }
  assertEquals(run.succeeded!({ status: "queued" }, { "no-wait": true }), true);
  // --downstream: the root and every run it triggered.
  const downstream = { status: "success", runs: [{ status: "success" }, { status: "skipped" }] };
  assertEquals(run.succeeded!(downstream, { downstream: true }), false);
  downstream.runs[1]!.status = "success";
  assertEquals(run.succeeded!(downstream, { downstream: true }), true);
  const connections = COMMANDS.connections!;
  assertEquals(connections.succeeded!({ ok: false }, { test: "db" }), false);
  assertEquals(connections.succeeded!({ connections: [] }, {}), true);
});
