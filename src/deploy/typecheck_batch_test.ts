import { join } from "node:path";
import { assert, assertEquals } from "../../tests/helpers/assert.ts";
import { CheckBatcher, type CheckOutput, type CheckResult } from "./typecheck_batch.ts";
import { runDenoProcess } from "../sandbox/deno_process.ts";

/** The real `deno check`, counting which files each run was given. */
function realCompiler(runs: string[][]) {
  return async (files: string[]): Promise<CheckOutput> => {
    runs.push(files.map((file) => file.split("/").at(-1)!));
    return await runDenoProcess({
      args: ["check", "--no-config", "--no-lock", "--quiet", ...files],
      env: { NO_COLOR: "1" },
      timeoutMs: 60_000,
    });
  };
}

async function withFiles(
  files: Record<string, string>,
  fn: (path: (name: string) => string) => Promise<void>,
) {
  const dir = await Deno.makeTempDir({ prefix: "tau_batch_" });
  try {
    for (const [name, code] of Object.entries(files)) {
      await Deno.writeTextFile(join(dir, name), code);
    }
    await fn((name) => join(dir, name));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

const GOOD = "export const n: number = 1;\n";
const TYPE_ERROR = 'export const n: number = "one";\n';

function outcome(result: CheckResult): string {
  return result === "passed" ? "passed" : result.code === 0 ? "passed alone" : "failed alone";
}

Deno.test("check batch: files waiting together share a run; a failing one is checked alone", async () => {
  await withFiles({ "a.ts": GOOD, "b.ts": TYPE_ERROR, "c.ts": GOOD }, async (path) => {
    const runs: string[][] = [];
    const batcher = new CheckBatcher(realCompiler(runs));
    const [a, b, c] = await Promise.all(
      ["a.ts", "b.ts", "c.ts"].map((name) => batcher.check(path(name), "")),
    );
    // The first starts at once, alone; the two that arrived meanwhile share the next run.
    assertEquals(runs, [["a.ts"], ["b.ts", "c.ts"], ["b.ts"]]);
    assertEquals([outcome(a!), outcome(b!), outcome(c!)], [
      "passed alone",
      "failed alone",
      "passed",
    ]);
    // The author sees the lone check's output: their own error, nothing of another file.
    const lone = b as CheckOutput;
    assert.ok(lone.stderr.includes("b.ts"), lone.stderr);
    assert.ok(!lone.stderr.includes("c.ts"), lone.stderr);
  });
});

Deno.test("check batch: a run stopped by an error it cannot place is not trusted for anyone", async () => {
  const files = { "first.ts": GOOD, "broken.ts": "export const = ;\n", "fine.ts": GOOD };
  await withFiles(files, async (path) => {
    const runs: string[][] = [];
    const batcher = new CheckBatcher(realCompiler(runs));
    const results = await Promise.all(
      Object.keys(files).map((name) => batcher.check(path(name), "")),
    );
    assertEquals(runs, [["first.ts"], ["broken.ts", "fine.ts"], ["broken.ts"], ["fine.ts"]]);
    assertEquals(results.map(outcome), ["passed alone", "failed alone", "passed alone"]);
  });
});

Deno.test("check batch: a file that can change other files' types is always checked alone", async () => {
  const global = "declare global { var shared: number }\nexport {};\n";
  await withFiles({ "x.ts": GOOD, "g.ts": global, "y.ts": GOOD }, async (path) => {
    const runs: string[][] = [];
    const batcher = new CheckBatcher(realCompiler(runs));
    const results = await Promise.all([
      batcher.check(path("x.ts"), GOOD),
      batcher.check(path("g.ts"), global),
      batcher.check(path("y.ts"), GOOD),
    ]);
    assert.ok(runs.some((run) => run.length === 1 && run[0] === "g.ts"), JSON.stringify(runs));
    assert.ok(!runs.some((run) => run.length > 1 && run.includes("g.ts")), JSON.stringify(runs));
    assertEquals(results.map(outcome).sort(), ["passed alone", "passed alone", "passed alone"]);
  });
});
