/**
 * Markdown for the guide: inline code that survives backticks, table cells that survive pipes,
 * and the SDK's doc entries (from help_sdk.ts) as headings, signatures and member lists.
 */
import type { Entry } from "../cli/help_sdk.ts";

/** `text` as inline code, fenced with more backticks than it holds. */
export function code(text: string): string {
  const longest = Math.max(0, ...(text.match(/`+/g) ?? []).map((run) => run.length));
  const fence = "`".repeat(longest + 1);
  const pad = text.startsWith("`") || text.endsWith("`") ? " " : "";
  return `${fence}${pad}${text}${pad}${fence}`;
}

/** A table cell: one line, pipes escaped. */
export function cell(text: string): string {
  return text.replace(/\s*\n\s*/g, " ").replace(/\|/g, "\\|");
}

/** A table with a header row. */
export function table(header: string[], rows: string[][]): string {
  const line = (cells: string[]) => `| ${cells.map(cell).join(" | ")} |`;
  return [line(header), line(header.map(() => "---")), ...rows.map(line)].join("\n");
}

/**
 * Doc comment text as markdown: `ts ignore` fences become `ts`, `{@link x}` becomes `x` as
 * code, an inline `@default {x}` (one deno doc leaves in the text) a sentence.
 */
export function prose(doc: string): string {
  return doc.replace(/^```ts ignore$/gm, "```ts")
    .replace(/\{@link\s+([^}\s]+)\s*\}/g, (_, name: string) => code(name))
    .replace(/\s*@default \{([^}]*)\}/g, " Default: $1.")
    .trim();
}

/** Continuation lines of a list item, indented under it. */
function indent(text: string, by: string): string {
  return text.split("\n").map((line, i) => i === 0 || line === "" ? line : by + line).join("\n");
}

function defaultNote(entry: Entry): string {
  return entry.default === undefined ? "" : ` Default: ${entry.default}.`;
}

/** One member as a list item (nested members below it), e.g. `- \`ping(): Promise<void>\`: …`. */
export function memberItem(entry: Entry, depth = 0, signature = entry.signature): string {
  const by = "  ".repeat(depth + 1);
  const doc = prose(entry.doc);
  const text = `${code(signature)}${doc ? `: ${doc}` : ""}${defaultNote(entry)}`;
  const item = `${"  ".repeat(depth)}- ${indent(text, by)}`;
  const nested = (entry.members ?? []).map((m) => memberItem(m, depth + 1));
  return [item, ...nested].join("\n");
}

/** A top-level SDK symbol: heading, signature, doc, members, examples. */
export function entrySection(entry: Entry, level = "####"): string {
  const parts = [`${level} ${code(entry.name)}`, code(entry.signature)];
  const doc = prose(entry.doc);
  if (doc) parts.push(doc + defaultNote(entry));
  if (entry.members?.length) parts.push(entry.members.map((m) => memberItem(m)).join("\n"));
  for (const example of entry.examples ?? []) parts.push(prose(example));
  return parts.join("\n\n");
}
