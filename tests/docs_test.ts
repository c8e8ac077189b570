/**
 * The README's tables of error codes and run error kinds are the code's own lists: each sits
 * between markers and must equal what these functions render. `UPDATE_DOCS=1 deno test -A
 * tests/docs_test.ts` rewrites (and formats) the blocks after a code or kind is added.
 */
import { assertEquals } from "./helpers/assert.ts";
import { ERROR_STATUS } from "../src/core/errors.ts";
import { ERROR_CODES } from "../src/core/error_codes.ts";
import { RUN_ERROR_KINDS } from "../src/core/run_error_kinds.ts";

const README = new URL("../README.md", import.meta.url);

function table(header: [string, string], rows: [string, string][]): string {
  return [
    `| ${header[0]} | ${header[1]} |`,
    "| --- | --- |",
    ...rows.map(([name, text]) => `| \`${name}\` | ${text} |`),
  ].join("\n") + "\n";
}

const BLOCKS: Record<string, () => string> = {
  "error-codes": () =>
    table(
      ["code", "HTTP status: meaning"],
      Object.entries(ERROR_CODES).map((
        [code, text],
      ) => [code, `${ERROR_STATUS[code as keyof typeof ERROR_STATUS]}: ${text}`]),
    ),
  "error-kinds": () => table(["kind", "meaning"], Object.entries(RUN_ERROR_KINDS)),
};

function markers(name: string) {
  return { start: `<!-- ${name}:start -->\n`, end: `<!-- ${name}:end -->` };
}

function current(text: string, name: string): string | null {
  const { start, end } = markers(name);
  const from = text.indexOf(start);
  const to = text.indexOf(end);
  return from < 0 || to < from ? null : text.slice(from + start.length, to);
}

function cells(table: string): string[][] {
  return table.trim().split("\n").filter((line) => !/^\|[\s|-]+\|$/.test(line)).map((line) =>
    line.split(/(?<!\\)\|/).slice(1, -1).map((cell) => cell.trim())
  );
}

if (Deno.env.get("UPDATE_DOCS")) {
  let text = await Deno.readTextFile(README);
  for (const [name, render] of Object.entries(BLOCKS)) {
    const old = current(text, name);
    if (old === null) throw new Error(`README.md has no ${name} markers`);
    const { start, end } = markers(name);
    text = text.replace(start + old + end, start + render() + end);
  }
  await Deno.writeTextFile(README, text);
  // deno fmt aligns the tables' columns as `deno task check` expects them.
  await new Deno.Command(Deno.execPath(), { args: ["fmt", README.pathname] }).output();
}

Deno.test("every error code has a meaning and a status", () => {
  assertEquals(Object.keys(ERROR_CODES).sort(), Object.keys(ERROR_STATUS).sort());
});

for (const [name, render] of Object.entries(BLOCKS)) {
  Deno.test(`README's ${name} table is the code's list`, async () => {
    const readme = await Deno.readTextFile(README);
    // Compared cell by cell: deno fmt aligns the table's columns.
    assertEquals(
      cells(current(readme, name) ?? ""),
      cells(render()),
      "run UPDATE_DOCS=1 deno test -A tests/docs_test.ts",
    );
  });
}
