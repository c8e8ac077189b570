/**
 * The docs are held to the code and to each other:
 *
 * - docs/cli.md's tables of error codes and run error kinds are the code's own lists: each sits
 *   between markers and must equal what these functions render. `UPDATE_DOCS=1 deno test -A
 *   tests/docs_test.ts` rewrites (and formats) the blocks after a code or kind is added.
 * - README.md stays a front door, under 300 lines; the reference lives in docs/.
 * - Every relative link of README.md and docs/*.md points at a file that exists and, with an
 *   `#anchor` into a markdown file, at one of its headings.
 * - The README links every page of docs/, and docs/development.md's layout every folder of src/.
 *
 * tests/cli_reference_test.ts keeps docs/cli.md in step with the command table.
 */
import { assert, assertEquals } from "./helpers/assert.ts";
import { ERROR_STATUS } from "../src/core/errors.ts";
import { ERROR_CODES } from "../src/core/error_codes.ts";
import { RUN_ERROR_KINDS } from "../src/core/run_error_kinds.ts";

const ROOT = new URL("../", import.meta.url);
const CLI_REFERENCE = new URL("docs/cli.md", ROOT);
const README_MAX_LINES = 300;

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
  let text = await Deno.readTextFile(CLI_REFERENCE);
  for (const [name, render] of Object.entries(BLOCKS)) {
    const old = current(text, name);
    if (old === null) throw new Error(`docs/cli.md has no ${name} markers`);
    const { start, end } = markers(name);
    text = text.replace(start + old + end, start + render() + end);
  }
  await Deno.writeTextFile(CLI_REFERENCE, text);
  // deno fmt aligns the tables' columns as `deno task check` expects them.
  await new Deno.Command(Deno.execPath(), { args: ["fmt", CLI_REFERENCE.pathname] }).output();
}

Deno.test("every error code has a meaning and a status", () => {
  assertEquals(Object.keys(ERROR_CODES).sort(), Object.keys(ERROR_STATUS).sort());
});

for (const [name, render] of Object.entries(BLOCKS)) {
  Deno.test(`docs/cli.md's ${name} table is the code's list`, async () => {
    const reference = await Deno.readTextFile(CLI_REFERENCE);
    // Compared cell by cell: deno fmt aligns the table's columns.
    assertEquals(
      cells(current(reference, name) ?? ""),
      cells(render()),
      "run UPDATE_DOCS=1 deno test -A tests/docs_test.ts",
    );
  });
}

Deno.test("the README is a front door: under 300 lines, the reference lives in docs/", async () => {
  const lines = (await Deno.readTextFile(new URL("README.md", ROOT))).trimEnd().split("\n").length;
  assert(
    lines < README_MAX_LINES,
    `README.md has ${lines} lines; move reference material into docs/ and link it`,
  );
});

// ---- Relative links ----

/** Markdown with fenced blocks blanked and code spans made opaque, so only real links remain. */
function prose(markdown: string): string {
  return markdown
    .replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, "")
    .replace(/(`+)[\s\S]*?\1/g, "code");
}

/** The targets of the inline links `[text](target)` and images of a markdown text. */
function linkTargets(markdown: string): string[] {
  return [...prose(markdown).matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)].map((m) => m[1]!);
}

/** GitHub's anchors for the headings of a markdown text (`## The model: \`[ai]\`` → the-model-ai). */
function headingAnchors(markdown: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  const text = markdown.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, "");
  for (const [, heading] of text.matchAll(/^#{1,6}\s+(.+?)\s*#*\s*$/gm)) {
    const slug = heading!
      .replace(/\[([^\]]*)\]\([^)]*\)/g, "$1")
      .toLowerCase()
      .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, "")
      .replace(/ /g, "-");
    const n = seen.get(slug) ?? 0;
    seen.set(slug, n + 1);
    anchors.add(n === 0 ? slug : `${slug}-${n}`);
  }
  return anchors;
}

/**
 * The broken relative links of `files` (path relative to the repository → text): a target that
 * `read` cannot find (it returns null for a missing path, "" for a folder), or an `#anchor`
 * that is no heading of the markdown file it points into.
 */
function brokenLinks(
  files: Record<string, string>,
  read: (path: string) => string | null,
): string[] {
  const broken: string[] = [];
  for (const [file, text] of Object.entries(files)) {
    for (const target of linkTargets(text)) {
      if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // https:, mailto:
      const [path = "", anchor] = target.split("#", 2);
      const resolved = path === "" ? file : new URL(path, `file:///${file}`).pathname.slice(1);
      const content = path === "" ? text : read(resolved.replace(/\/$/, ""));
      if (content === null) {
        broken.push(`${file}: ${target} (no file ${resolved})`);
      } else if (anchor && resolved.endsWith(".md") && !headingAnchors(content).has(anchor)) {
        broken.push(`${file}: ${target} (no heading #${anchor} in ${resolved})`);
      }
    }
  }
  return broken;
}

/** Reads a repository path: its text, "" for a folder, null when it does not exist. */
function readRepo(path: string): string | null {
  try {
    const url = new URL(path, ROOT);
    return Deno.statSync(url).isDirectory ? "" : Deno.readTextFileSync(url);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return null;
    throw err;
  }
}

async function docs(): Promise<Record<string, string>> {
  const files: Record<string, string> = { "README.md": readRepo("README.md") ?? "" };
  for await (const entry of Deno.readDir(new URL("docs/", ROOT))) {
    if (entry.isFile && entry.name.endsWith(".md")) {
      files[`docs/${entry.name}`] = readRepo(`docs/${entry.name}`) ?? "";
    }
  }
  return files;
}

Deno.test("every relative link of README.md and docs/ points at a file and heading that exist", async () => {
  const files = await docs();
  assert(Object.keys(files).length > 1, "docs/ holds no markdown files");
  assertEquals(brokenLinks(files, readRepo), []);
});

Deno.test("the README links every page of docs/", async () => {
  const files = await docs();
  const linked = new Set(linkTargets(files["README.md"]!).map((t) => t.split("#")[0]));
  const pages = Object.keys(files).filter((f) => f.startsWith("docs/"));
  assertEquals(pages.filter((page) => !linked.has(page)), []);
});

Deno.test("docs/development.md's layout names every folder of src/", async () => {
  const layout = readRepo("docs/development.md") ?? "";
  const missing: string[] = [];
  for await (const entry of Deno.readDir(new URL("src/", ROOT))) {
    if (entry.isDirectory && !layout.includes(`[\`src/${entry.name}/\`](../src/${entry.name}/)`)) {
      missing.push(`src/${entry.name}/`);
    }
  }
  assertEquals(missing, [], "add a row for each to the layout table of docs/development.md");
});

Deno.test("the link check finds a missing file, a missing heading and ignores code", () => {
  const files = {
    "README.md": [
      "# Tau",
      "[ok](docs/a.md#the-model-ai) [gone](docs/b.md) [bad anchor](docs/a.md#nope)",
      "[self](#tau) [web](https://example.com) `[not a link](nowhere.md)`",
      "```md",
      "[in a block](nowhere.md)",
      "```",
    ].join("\n"),
    "docs/a.md": "# A\n\n## The model: `[ai]`\n\n[up](../README.md#tau) [folder](../examples/)",
  };
  const read = (path: string) =>
    path === "examples" ? "" : (files as Record<string, string>)[path] ?? null;
  assertEquals(brokenLinks(files, read), [
    "README.md: docs/b.md (no file docs/b.md)",
    "README.md: docs/a.md#nope (no heading #nope in docs/a.md)",
  ]);
});

Deno.test("heading anchors follow GitHub's rules", () => {
  assertEquals(
    [...headingAnchors(
      "# CLI reference\n## AI: create and heal\n## Runs\n## Runs\n```\n# no\n```",
    )],
    ["cli-reference", "ai-create-and-heal", "runs", "runs-1"],
  );
});
