/**
 * Type-checks every example and fixture pipeline before the suite, in a few shared compiler
 * runs, and records the passes in the machine's type-check cache (src/deploy/typecheck_cache.ts)
 * exactly as a deploy would. The suite's daemons then skip the compiler for those files: a lone
 * compiler start costs ~1 s of CPU however small the file, and first deploys of fixtures were
 * about a fifth of the suite's CPU on a cold cache (BENCHMARKS.md). Only passes are
 * recorded; a file that fails, or one a shared run cannot vouch for, is left for its deploy to
 * check, so every diagnostic a test asserts still comes from the compiler at that deploy.
 *
 * `deno task test` runs this first; it prints one line and never fails the suite (a check it
 * cannot run only leaves the cache cold).
 */
import { join } from "node:path";
import { tauPaths } from "../src/config/paths.ts";
import { prepareHome } from "../src/config/home.ts";
import { ensureSandboxCache } from "../src/sandbox/npm_cache.ts";
import { deployCheck } from "../src/deploy/analyze.ts";
import { checkedAlone, unsettled } from "../src/deploy/typecheck_batch.ts";
import { passedBefore, rememberPassed, typecheckMarker } from "../src/deploy/typecheck_cache.ts";
import type { TauPaths } from "../src/config/paths.ts";

const ROOT = new URL("..", import.meta.url).pathname;
const FOLDERS = ["examples", "tests/fixtures"];
/** Compiler runs at once: each is mostly one thread. */
const RUNS = 2;

interface Staged {
  file: string;
  marker: string;
}

async function pipelineFiles(dir: string): Promise<string[]> {
  const found: string[] = [];
  for await (const entry of Deno.readDir(dir)) {
    const path = join(dir, entry.name);
    if (entry.isDirectory) found.push(...await pipelineFiles(path));
    else if (entry.name.endsWith(".ts") && !entry.name.endsWith("_test.ts")) found.push(path);
  }
  return found;
}

/** Stages each not-yet-passed pipeline as a deploy does: alone, as `pipeline.ts`. */
async function stage(paths: TauPaths, sources: string[]): Promise<Staged[]> {
  const staged: Staged[] = [];
  for (const source of sources) {
    const code = await Deno.readTextFile(source);
    if (!/from\s+["']tau(?:\/[a-z]+)?["']/.test(code) || checkedAlone(code)) continue;
    const marker = await typecheckMarker({ ...paths, code });
    if (await passedBefore(marker)) continue;
    const dir = await Deno.makeTempDir({ dir: paths.staging, prefix: "deploy_" });
    const file = join(dir, "pipeline.ts");
    await Deno.writeTextFile(file, code);
    staged.push({ file, marker });
  }
  return staged;
}

/** Checks `files` in one run; records what it vouches for, retries what it cannot tell. */
async function warm(paths: TauPaths, files: Staged[]): Promise<number> {
  const output = await deployCheck(paths, files.map((f) => f.file));
  const unsure = output.code === 0 ? [] : unsettled(files.map((f) => f.file), output);
  const passed = files.filter((f) => !unsure.includes(f.file));
  await Promise.all(passed.map((f) => rememberPassed(f.marker)));
  if (unsure.length < files.length || files.length === 1) return passed.length;
  // The run stopped on something it could not place (a syntax error, an import that does not
  // resolve): drop the files its output names and check the rest again, or else halve it.
  const rest = files.filter((f) => !output.stderr.includes(f.file));
  if (rest.length > 0 && rest.length < files.length) return await warm(paths, rest);
  const half = Math.ceil(files.length / 2);
  return await warm(paths, files.slice(0, half)) + await warm(paths, files.slice(half));
}

const home = await Deno.makeTempDir({ prefix: "tau_warm_" });
try {
  const started = performance.now();
  const paths = { ...tauPaths(home), denoDir: await ensureSandboxCache() };
  await prepareHome(paths);
  const sources = (await Promise.all(FOLDERS.map((f) => pipelineFiles(join(ROOT, f))))).flat();
  const staged = await stage(paths, sources.sort());
  // Each run's start (~1.5 s) is most of its cost: one run per core, the files shared out.
  const size = Math.ceil(staged.length / RUNS);
  const batches: Staged[][] = [];
  for (let i = 0; i < staged.length; i += size) batches.push(staged.slice(i, i + size));
  const counts = await Promise.all(batches.map((batch) => warm(paths, batch)));
  const passed = counts.reduce((a, b) => a + b, 0);
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  console.log(
    `type-check cache: ${passed} of ${staged.length} pipelines checked and remembered ` +
      `(${sources.length - staged.length} skipped or already passed) in ${seconds} s`,
  );
} catch (err) {
  console.log(`type-check cache not warmed (${err instanceof Error ? err.message : err})`);
} finally {
  await Deno.remove(home, { recursive: true }).catch(() => {});
}
