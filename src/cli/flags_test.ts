/**
 * parseFlags parses as node:util's parseArgs (which it does not load): the same positionals and
 * values, and the same error for the same first bad flag, on generated argument lists for every
 * command's flags and for single-letter flags (`-x`, groups, `-xVALUE`).
 */
import { parseArgs } from "node:util";
import { assertEquals } from "../../tests/helpers/assert.ts";
import { TauError } from "../core/errors.ts";
import { COMMANDS } from "./commands.ts";
import { type FlagSpec, nearest, parseFlags } from "./flags.ts";

/** parseFlags as it was with node:util's parser doing the work (the reference). */
function withNodeParser(command: string, spec: FlagSpec, args: string[]) {
  const options = spec.options ?? {};
  const known = Object.keys(options).map((name) => `--${name}`);
  const hint = `usage: ${spec.usage} (tau help ${command} describes every flag)`;
  const fail = (message: string, details: Record<string, unknown>) =>
    new TauError("invalid_params", message, { hint, details: { ...details, flags: known } });
  const { tokens } = parseArgs({
    args,
    options,
    allowPositionals: true,
    strict: false,
    tokens: true,
  });
  for (const token of tokens) {
    if (token.kind === "option-terminator") break;
    if (token.kind !== "option") continue;
    const flag = token.rawName;
    const option = options[token.name];
    if (!option) {
      const guess = nearest(flag, known);
      throw fail(
        guess
          ? `Unknown flag ${flag}; did you mean ${guess}?`
          : known.length > 0
          ? `Unknown flag ${flag}: tau ${command} takes ${known.join(", ")}`
          : `Unknown flag ${flag}: tau ${command} takes no flags`,
        { flag, did_you_mean: guess },
      );
    }
    if (option.type === "boolean" && token.inlineValue) {
      throw fail(`${flag} takes no value`, { flag });
    }
    if (
      option.type === "string" &&
      (token.value === undefined || (!token.inlineValue && token.value.startsWith("-")))
    ) {
      const name = token.name;
      throw fail(
        token.value === undefined
          ? `${flag} needs a value: ${flag} ${name}`
          : `${flag} needs a value, and got the flag ${token.value}`,
        { flag },
      );
    }
  }
  const parsed = parseArgs({ args, options, allowPositionals: true, strict: true });
  return { positionals: parsed.positionals, values: parsed.values as Record<string, unknown> };
}

/** What a parse came to: its result (prototype included), or its error. */
function outcome(parse: () => { positionals: string[]; values: Record<string, unknown> }) {
  try {
    const { positionals, values } = parse();
    return { positionals, values: { ...values }, proto: Object.getPrototypeOf(values) };
  } catch (err) {
    if (!(err instanceof TauError)) return { thrown: String(err) };
    // The value placeholder comes from the usage line in parseFlags; only its presence matters.
    return { code: err.code, message: err.message.replace(/ \S+$/, ""), details: err.details };
  }
}

/** A small deterministic PRNG (mulberry32). */
function random(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const PIECES = [
  "x",
  "hello_world",
  "5",
  "",
  "-",
  "--",
  "---",
  "--=",
  "--=a=b",
  "-=",
  "-5",
  "a=b",
  "-x",
  "-abc",
  "-nVALUE",
  "-fn",
  "-fnx",
  "-n",
  "-f",
  "-m",
  "--lsit",
  "--nmae",
];

/** Single-letter flags, which no command has: they exercise -x, groups and -xVALUE. */
const LETTERS: FlagSpec = {
  usage: "tau letters [-n VALUE] [-f] [-m VALUE]...",
  options: {
    n: { type: "string" },
    f: { type: "boolean" },
    m: { type: "string", multiple: true },
    name: { type: "string" },
  },
};

Deno.test("parseFlags parses as node:util's parseArgs, for every command's flags", () => {
  const specs: [string, FlagSpec][] = [...Object.entries(COMMANDS), ["letters", LETTERS]];
  const next = random(42);
  let compared = 0;
  for (const [command, spec] of specs) {
    const flags = Object.entries(spec.options ?? {}).flatMap(([name, o]) =>
      o.type === "string"
        ? [`--${name}`, `--${name}=v`, `--${name}=`, `--${name}=-v`]
        : [`--${name}`, `--${name}=1`, `--${name}=`]
    );
    const pieces = [...PIECES, ...flags, ...flags];
    for (let i = 0; i < 400; i++) {
      const args = Array.from(
        { length: Math.floor(next() * 6) },
        () => pieces[Math.floor(next() * pieces.length)]!,
      );
      const ours = outcome(() => parseFlags(command, spec, args));
      const node = outcome(() => withNodeParser(command, spec, args));
      assertEquals(ours, node, `tau ${command} ${JSON.stringify(args)}`);
      compared++;
    }
  }
  assertEquals(compared, specs.length * 400);
});

Deno.test("a flag named like an Object method is an unknown flag, not an internal error", () => {
  for (const flag of ["--constructor", "--toString=1", "--hasOwnProperty", "--__proto__"]) {
    const err = outcome(() => parseFlags("list", COMMANDS.list!, [flag]));
    assertEquals(err.code, "invalid_params", flag);
    assertEquals(err.message, `Unknown flag ${flag.replace(/=.*/, "")}: tau list takes no`);
  }
});
