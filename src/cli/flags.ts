/**
 * Flag parsing for one command, as node:util's parseArgs parses (strict, positionals allowed),
 * with errors that name the flag, the nearest flag the command knows, and the command's usage.
 * node:util itself is not loaded: the first node: module costs every start ~20 ms.
 */
import { TauError } from "../core/errors.ts";

type Options = Record<string, { type: "string" | "boolean"; multiple?: boolean }>;

export interface FlagSpec {
  usage: string;
  options?: Options;
}

type Token =
  | { kind: "option"; name: string; rawName: string; value?: string; inlineValue?: boolean }
  | { kind: "positional"; value: string }
  | { kind: "option-terminator" };

/**
 * The tokens of node:util's parseArgs for options without `short` aliases (a lone `-x` is the
 * option named `x`): `--name`, `--name=value`, `-x`, `-xyz` (a group), `-xVALUE` (`x` takes a
 * string), `--` (the rest are positionals) and positionals. A string option's value is the next
 * argument, whatever it is, unless given inline.
 */
function tokenize(args: string[], options: Options): Token[] {
  const type = (name: string) => Object.hasOwn(options, name) ? options[name]!.type : undefined;
  const tokens: Token[] = [];
  const rest = [...args];
  while (rest.length > 0) {
    const arg = rest.shift()!;
    if (arg === "--") {
      tokens.push({ kind: "option-terminator" });
      for (const value of rest) tokens.push({ kind: "positional", value });
      break;
    }
    const long = arg.length > 2 && arg.startsWith("--");
    if (!long && arg.length >= 2 && arg[0] === "-" && arg[1] !== "-") {
      const name = arg[1]!;
      if (arg.length > 2 && type(name) === "string") {
        tokens.push({
          kind: "option",
          name,
          rawName: `-${name}`,
          value: arg.slice(2),
          inlineValue: true,
        });
      } else if (arg.length > 2) {
        // A group: -abc is -a -b -c, and -abVALUE is -a -bVALUE when b takes a string.
        const expanded: string[] = [];
        for (let i = 1; i < arg.length; i++) {
          if (type(arg[i]!) !== "string" || i === arg.length - 1) expanded.push(`-${arg[i]}`);
          else {
            expanded.push(`-${arg.slice(i)}`);
            break;
          }
        }
        rest.unshift(...expanded);
      } else tokens.push(option(name, arg, type(name), rest));
      continue;
    }
    if (long && arg.includes("=", 3)) {
      const equals = arg.indexOf("=");
      const name = arg.slice(2, equals);
      tokens.push({
        kind: "option",
        name,
        rawName: `--${name}`,
        value: arg.slice(equals + 1),
        inlineValue: true,
      });
      continue;
    }
    if (long) tokens.push(option(arg.slice(2), arg, type(arg.slice(2)), rest));
    else tokens.push({ kind: "positional", value: arg });
  }
  return tokens;
}

/** `--name` or `-x` on its own: a string option takes the next argument as its value. */
function option(name: string, rawName: string, type: string | undefined, rest: string[]): Token {
  return type === "string" && rest.length > 0
    ? { kind: "option", name, rawName, value: rest.shift()!, inlineValue: false }
    : { kind: "option", name, rawName, value: undefined, inlineValue: undefined };
}

export function parseFlags(command: string, spec: FlagSpec, args: string[]) {
  const options = spec.options ?? {};
  const known = Object.keys(options).map((name) => `--${name}`);
  const hint = `usage: ${spec.usage} (tau help ${command} describes every flag)`;
  const fail = (message: string, details: Record<string, unknown>) =>
    new TauError("invalid_params", message, { hint, details: { ...details, flags: known } });

  const tokens = tokenize(args, options);
  // Null-prototyped, as parseArgs makes it: a flag named like an Object method is no flag.
  const values: Record<string, unknown> = Object.create(null);
  const positionals: string[] = [];
  for (const token of tokens) {
    if (token.kind === "option-terminator") continue;
    if (token.kind === "positional") {
      positionals.push(token.value);
      continue;
    }
    const flag = token.rawName;
    const option = Object.hasOwn(options, token.name) ? options[token.name] : undefined;
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
      const name = valueName(spec.usage, token.name);
      throw fail(
        token.value === undefined
          ? `${flag} needs a value: ${flag} ${name}`
          : `${flag} needs a value, and got the flag ${token.value}`,
        { flag },
      );
    }
    const value = token.value ?? true;
    if (!option.multiple) values[token.name] = value;
    else values[token.name] = [...(values[token.name] as unknown[] ?? []), value];
  }
  return { positionals, values };
}

/** The placeholder the usage line gives a flag's value (`--params JSON` → `JSON`). */
function valueName(usage: string, name: string): string {
  return usage.match(new RegExp(`--${name}[ =]([^\\s\\]]+)`))?.[1] ?? "VALUE";
}

/**
 * The candidate closest to `word` when it is close enough to be a typo (a prefix of one or the
 * other, or at most a third of its letters off), else null.
 */
export function nearest(word: string, candidates: string[]): string | null {
  const bare = (s: string) => s.replace(/^-+/, "");
  const w = bare(word);
  let best: string | null = null;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    const c = bare(candidate);
    const d = c.startsWith(w) || w.startsWith(c) ? 0.5 : distance(w, c);
    if (d < bestDistance) [best, bestDistance] = [candidate, d];
  }
  return w.length > 0 && bestDistance <= Math.max(1, Math.floor(w.length / 3)) ? best : null;
}

/** Levenshtein distance. */
function distance(a: string, b: string): number {
  let row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const next = [i];
    for (let j = 1; j <= b.length; j++) {
      next[j] = Math.min(
        row[j]! + 1,
        next[j - 1]! + 1,
        row[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    }
    row = next;
  }
  return row[b.length]!;
}
