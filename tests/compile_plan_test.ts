/** The compiled CLI embeds every module src/cli loads by a URL built at run time. */
import { assertEquals } from "./helpers/assert.ts";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { CLI_LATE_MODULES } from "../build/compile_plan.ts";

const ROOT = fileURLToPath(new URL("../", import.meta.url));

Deno.test("build: every module the CLI imports by a run-time URL is embedded by name", async () => {
  const found = new Set<string>();
  for await (const entry of Deno.readDir(join(ROOT, "src/cli"))) {
    if (!entry.name.endsWith(".ts") || entry.name.endsWith("_test.ts")) continue;
    const file = join(ROOT, "src/cli", entry.name);
    const text = await Deno.readTextFile(file);
    for (const m of text.matchAll(/new URL\("([^"]+\.ts)", import\.meta\.url\)\.href/g)) {
      found.add(relative(ROOT, join(file, "..", m[1]!)));
    }
  }
  assertEquals([...found].sort(), [...CLI_LATE_MODULES].sort());
});
