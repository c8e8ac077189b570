/**
 * Where a key sits in a TOML text, so config errors can name the line. A line scan, not a parser:
 * it reads `[table]` / `[[table]]` headers and `key = …` lines (dotted keys included) and returns
 * the first line whose full key starts with the one asked for, or null.
 */

/** The 1-based line of `key` (e.g. `["connections", "w", "type"]`) in `text`, or null. */
export function keyLine(text: string, key: readonly string[]): number | null {
  if (key.length === 0) return null;
  let table: string[] = [];
  const lines = text.split("\n");
  for (const [index, line] of lines.entries()) {
    const header = /^\s*\[\[?\s*([^\]]+?)\s*\]\]?\s*(#.*)?$/.exec(line);
    const assignment = /^\s*([A-Za-z0-9_."' -]+?)\s*=/.exec(line);
    let full: string[];
    if (header) full = table = segments(header[1] as string);
    else if (assignment) full = [...table, ...segments(assignment[1] as string)];
    else continue;
    if (key.every((segment, i) => full[i] === segment)) return index + 1;
  }
  return null;
}

/** `a."b.c".d` → `["a", "b.c", "d"]`. */
function segments(dotted: string): string[] {
  const out: string[] = [];
  for (const match of dotted.matchAll(/\s*(?:"([^"]*)"|'([^']*)'|([^.\s]+))\s*(?:\.|$)/g)) {
    out.push(match[1] ?? match[2] ?? match[3] ?? "");
  }
  return out;
}
