/**
 * Flag parsing for one command. node:util's parser does the work; its errors are replaced by
 * ones that name the flag, the nearest flag the command knows, and the command's usage.
 */
import { parseArgs } from "node:util";
import { TauError } from "../core/errors.ts";

export interface FlagSpec {
  usage: string;
  options?: Record<string, { type: "string" | "boolean"; multiple?: boolean }>;
}

export function parseFlags(command: string, spec: FlagSpec, args: string[]) {
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
      const name = valueName(spec.usage, token.name);
      throw fail(
        token.value === undefined
          ? `${flag} needs a value: ${flag} ${name}`
          : `${flag} needs a value, and got the flag ${token.value}`,
        { flag },
      );
    }
  }
  // The checks above leave the strict parser nothing to refuse; it still builds the values.
  const parsed = parseArgs({ args, options, allowPositionals: true, strict: true });
  return { positionals: parsed.positionals, values: parsed.values as Record<string, unknown> };
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
