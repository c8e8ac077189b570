/**
 * Deploy-time analysis of an untrusted pipeline file, in three steps: the module graph check,
 * a type-check, and reading its declared config by loading it in a child with no permissions.
 * Top-level code of the file never runs on the trusted side.
 */
import { join } from "node:path";
import { TauError } from "../core/errors.ts";
import type { TauPaths } from "../config/paths.ts";
import { pathToFileURL } from "node:url";
import { runDenoProcess, stripAnsi } from "../sandbox/deno_process.ts";
import { baseChildEnv, zeroPermissionArgs } from "../sandbox/permissions.ts";
import { LineParser } from "../protocol/line_parser.ts";
import { checkModuleGraph, firstLines, toolEnv } from "./graph_check.ts";
import { linkModuleCache } from "../sandbox/deno_dir.ts";
import { approvedPackages, sandboxLockFile } from "../sandbox/npm_cache.ts";

const DESCRIBE_SOURCE = `import { describe } from "tau/_harness.ts";
await describe(() => import("./pipeline.ts"));
`;

/** Analyzes staged code; returns the raw config object the pipeline declared. */
export async function analyzePipeline(
  paths: TauPaths,
  code: string,
  filename: string,
): Promise<unknown> {
  const dir = await Deno.makeTempDir({ dir: paths.staging, prefix: "deploy_" });
  try {
    const file = join(dir, "pipeline.ts");
    await Deno.writeTextFile(file, code);
    await Deno.writeTextFile(join(dir, "describe.ts"), DESCRIBE_SOURCE);
    // Order matters: the type-check is --cached-only (it can fetch nothing), so after it the
    // graph check resolves only cached modules; only then may the file's top level run.
    await typeCheck(paths, file, filename);
    await checkModuleGraph({
      file,
      importMap: paths.importMap,
      sdkDir: paths.sdkDir,
      denoDir: paths.denoDir,
      approvedNpm: await approvedPackages(),
    });
    return await describe(paths, dir);
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

async function typeCheck(paths: TauPaths, file: string, filename: string): Promise<void> {
  const result = await runDenoProcess({
    args: [
      "check",
      "--no-config",
      "--no-lock",
      "--no-remote",
      "--cached-only",
      "--quiet",
      `--import-map=${paths.typecheckMap}`,
      file,
    ],
    env: toolEnv(paths.denoDir),
    timeoutMs: 60_000,
  });
  if (result.code === 0) return;
  const output = stripAnsi(result.stderr);
  const url = pathToFileURL(file).href;
  const diagnostics = output.split(/\n\s*\n/).filter((block) => /^TS\d+/m.test(block));
  if (diagnostics.length === 0) {
    // Not a type error: an import that cannot be resolved from the cache (nothing is fetched).
    throw new TauError(
      "invalid_pipeline",
      `Cannot resolve the pipeline's imports: ${firstLines(output)}`,
      {
        hint: 'a pipeline may import only "tau", tau/…, node: built-ins and the approved drivers',
      },
    );
  }
  // Only the author's own errors block a deploy; the SDK's internals are Tau's to keep clean.
  const own = diagnostics.filter((block) => block.includes(url));
  if (own.length === 0) return;
  throw new TauError(
    "invalid_pipeline",
    `The pipeline does not type-check:\n${own.join("\n\n").split(url).join(filename)}`,
    { hint: "fix the type errors at the lines shown", details: { errors: own.length } },
  );
}

/** Loads the module in a child with no permissions at all and reads its config. */
async function describe(paths: TauPaths, dir: string): Promise<unknown> {
  const nonce = crypto.randomUUID();
  const denoDir = join(dir, "deno");
  await linkModuleCache(paths.denoDir, denoDir);
  const result = await runDenoProcess({
    args: zeroPermissionArgs(
      paths.importMap,
      sandboxLockFile(paths.denoDir),
      join(dir, "describe.ts"),
    ),
    env: baseChildEnv(dir, denoDir),
    cwd: dir,
    stdin: JSON.stringify({ nonce }) + "\n",
    timeoutMs: 10_000,
    maxOutputBytes: 2 * 1024 * 1024,
  });
  if (result.timedOut) {
    throw new TauError("invalid_pipeline", "Loading the pipeline file took longer than 10 s", {
      hint: "move work out of top-level code into the pipeline function",
    });
  }
  const parser = new LineParser(nonce);
  for (const line of [...parser.push(result.stdout), ...parser.end()]) {
    if (line.kind !== "event") continue;
    if (line.event.type === "describe") return line.event.config;
    if (line.event.type === "error") {
      const { name, message } = line.event.error;
      if (name === "NotAPipeline") {
        throw new TauError("invalid_pipeline", "The file's default export is not a pipeline", {
          hint:
            'write `export default pipeline({ name: "…" }, async (ctx) => { … })` with pipeline from "tau"',
        });
      }
      throw new TauError(
        "invalid_pipeline",
        `Loading the pipeline file failed: ${name}: ${message}`,
        {
          hint:
            "top-level code runs with no permissions at deploy; keep I/O inside the pipeline function",
        },
      );
    }
  }
  throw new TauError(
    "invalid_pipeline",
    `Loading the pipeline file failed (exit code ${result.code})`,
    {
      hint: firstLines(result.stderr) || "the file must export a pipeline as its default export",
    },
  );
}
