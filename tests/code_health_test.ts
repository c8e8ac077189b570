/**
 * Code health the review asked for, kept true: no import cycles among the project's modules
 * (every module of src/, sdk/ and tests/ in one graph from `deno info --json`, static, dynamic
 * and type-only imports alike; no strongly connected component of more than one module), and no
 * non-test source file over 500 lines.
 */
import { fileURLToPath } from "node:url";
import { assertEquals } from "./helpers/assert.ts";

const ROOT = new URL("../", import.meta.url);

interface InfoModule {
  specifier: string;
  dependencies?: { code?: { specifier: string }; type?: { specifier: string } }[];
}

/** Every .ts file under `dir`, as a file URL. */
async function modules(dir: URL): Promise<string[]> {
  const out: string[] = [];
  for await (const entry of Deno.readDir(dir)) {
    const url = new URL(entry.name + (entry.isDirectory ? "/" : ""), dir);
    if (entry.isDirectory && entry.name !== "node_modules" && !entry.name.startsWith(".")) {
      out.push(...await modules(url));
    } else if (entry.isFile && entry.name.endsWith(".ts")) out.push(url.href);
  }
  return out;
}

/** The project's import graph: module → the project modules it imports. */
async function importGraph(): Promise<Map<string, string[]>> {
  const files =
    (await Promise.all(["src/", "sdk/", "tests/"].map((d) => modules(new URL(d, ROOT)))))
      .flat();
  const entry = await Deno.makeTempFile({ suffix: ".ts" });
  try {
    await Deno.writeTextFile(entry, files.map((f) => `import "${f}";`).join("\n"));
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["info", "--json", "--config", fileURLToPath(new URL("deno.json", ROOT)), entry],
      stdout: "piped",
      stderr: "piped",
    }).output();
    if (!out.success) throw new Error(new TextDecoder().decode(out.stderr));
    const info = JSON.parse(new TextDecoder().decode(out.stdout)) as { modules: InfoModule[] };
    const ours = (s: string) => s.startsWith(ROOT.href);
    return new Map(
      info.modules.filter((m) => ours(m.specifier)).map((m) => [
        m.specifier,
        (m.dependencies ?? []).flatMap((d) => [d.code?.specifier, d.type?.specifier])
          .filter((s): s is string => s !== undefined && ours(s)),
      ]),
    );
  } finally {
    await Deno.remove(entry);
  }
}

/** The strongly connected components of more than one module (Tarjan's algorithm). */
export function cycles(graph: Map<string, string[]>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string) => {
    index.set(v, index.size);
    low.set(v, index.get(v)!);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1) found.push(component.sort());
    }
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return found;
}

Deno.test("cycles() finds a cycle, and only a cycle", () => {
  const g = new Map([["a", ["b"]], ["b", ["c"]], ["c", ["a"]], ["d", ["a"]]]);
  assertEquals(cycles(g), [["a", "b", "c"]]);
  assertEquals(cycles(new Map([["a", ["b"]], ["b", []]])), []);
});

Deno.test("no import cycles among src/, sdk/ and tests/", async () => {
  const graph = await importGraph();
  const relative = (s: string) => s.slice(ROOT.href.length);
  assertEquals(cycles(graph).map((c) => c.map(relative)), []);
});

/** The most lines a non-test source file may have: small enough to read in one sitting. */
const MAX_LINES = 500;

Deno.test(`no source file in src/ or sdk/ over ${MAX_LINES} lines`, async () => {
  const files = (await Promise.all(["src/", "sdk/"].map((d) => modules(new URL(d, ROOT)))))
    .flat().filter((f) => !f.endsWith("_test.ts"));
  const long: string[] = [];
  for (const file of files) {
    const lines = (await Deno.readTextFile(new URL(file))).split("\n").length - 1;
    if (lines > MAX_LINES) long.push(`${file.slice(ROOT.href.length)}: ${lines}`);
  }
  assertEquals(long, []);
});
