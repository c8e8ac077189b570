/**
 * Deploy-time analysis of an untrusted pipeline file, in three steps: a type-check, the module
 * graph check, and reading its declared config by loading it in a child with no permissions.
 * Top-level code of the file never runs on the trusted side. Every error names a place in the
 * author's file (`location`, and `details.diagnostics` for syntax and type errors), never the
 * staging copy Tau checked.
 */
import { join } from "node:path";
import { TauError } from "../core/errors.ts";
import type { TauPaths } from "../config/paths.ts";
import { pathToFileURL } from "node:url";
import { runDenoProcess } from "../sandbox/deno_process.ts";
import { baseChildEnv, zeroPermissionArgs } from "../sandbox/permissions.ts";
import { LineParser } from "../protocol/line_parser.ts";
import { checkModuleGraph, firstLines, toolEnv } from "./graph_check.ts";
import { linkModuleCache } from "../sandbox/deno_dir.ts";
import { approvedPackages, sandboxLockFile } from "../sandbox/npm_cache.ts";
import { authorDiagnostics, type AuthorFile, importError, stackLocation } from "./author_file.ts";
import { parseDenoOutput } from "./diagnostics.ts";
import { passedBefore, rememberPassed, typecheckMarker } from "./typecheck_cache.ts";
import { CheckBatcher, type CheckOutput } from "./typecheck_batch.ts";

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
    const author: AuthorFile = { url: pathToFileURL(file).href, filename, code };
    // Order matters: the type-check resolves no npm package and fetches nothing, so after it
    // the graph check resolves only cached modules; only then may the file's top level run.
    await typeCheck(paths, file, author);
    await checkModuleGraph({
      file,
      importMap: paths.importMap,
      sdkDir: paths.sdkDir,
      denoDir: paths.denoDir,
      approvedNpm: await approvedPackages(),
      author,
    });
    return await describe(paths, dir, author);
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

async function typeCheck(paths: TauPaths, file: string, author: AuthorFile): Promise<void> {
  const marker = await typecheckMarker({ ...paths, code: author.code });
  if (await passedBefore(marker)) return;
  await compilerCheck(paths, file, author);
  await rememberPassed(marker);
}

/** Per type-check setup (one per daemon in practice): deploys arriving together share a run. */
const batchers = new Map<string, CheckBatcher>();

function checker(paths: TauPaths): CheckBatcher {
  const key = `${paths.denoDir}\0${paths.typecheckMap}`;
  let batcher = batchers.get(key);
  if (!batcher) {
    batcher = new CheckBatcher((files) => deployCheck(paths, files));
    batchers.set(key, batcher);
  }
  return batcher;
}

/** One `deno check` run of the deploy-time type-check over `files`. */
export function deployCheck(paths: TauPaths, files: string[]): Promise<CheckOutput> {
  return runDenoProcess({
    args: [
      "check",
      "--no-config",
      "--no-lock",
      "--no-remote",
      // The type-check map points the drivers at stand-ins (sdk/_typecheck): an `npm:`
      // import is the author's, and must fail here rather than send Deno to the registry.
      "--no-npm",
      "--cached-only",
      "--quiet",
      `--import-map=${paths.typecheckMap}`,
      // Always the first root, so the compiler's incremental build info is found again.
      join(paths.sdkDir, "_typecheck", "incremental_root.ts"),
      ...files,
    ],
    env: toolEnv(paths.denoDir),
    timeoutMs: 60_000,
  });
}

/** `deno check` of the staged file; throws the author's own errors, located in their file. */
async function compilerCheck(paths: TauPaths, file: string, author: AuthorFile): Promise<void> {
  const result = await checker(paths).check(file, author.code);
  if (result === "passed" || result.code === 0) return;
  const { diagnostics, other } = parseDenoOutput(result.stderr);
  // Only the author's own errors block a deploy; the SDK's internals are Tau's to keep clean.
  const own = authorDiagnostics(diagnostics, author);
  if (own.length === 0) {
    if (diagnostics.length > 0 && other.length === 0) return;
    throw new TauError(
      "invalid_pipeline",
      `Type-checking the pipeline failed: ${firstLines(other.join("\n") || result.stderr)}`,
      {
        hint: "the message names no place in the pipeline file; fix what it describes",
        location: null,
      },
    );
  }
  // An import that cannot be resolved explains the errors after it: it is reported alone.
  const refused = importError(own, author);
  if (refused) throw refused;
  const first = own[0]!;
  const syntax = first.code === "SyntaxError";
  throw new TauError(
    "invalid_pipeline",
    syntax
      ? `The pipeline has a syntax error at ${first.file}:${first.line}:${first.column}: ${first.message}`
      : `The pipeline does not type-check: ${own.length} error${own.length > 1 ? "s" : ""}, ` +
        `the first at ${first.file}:${first.line}:${first.column}: ${first.message}`,
    {
      hint: syntax
        ? `fix the syntax at ${first.file}:${first.line}:${first.column}`
        : `fix the type errors listed in details.diagnostics, starting at ${first.file}:${first.line}`,
      location: { file: first.file, line: first.line, column: first.column },
      details: { diagnostics: own },
    },
  );
}

/** Loads the module in a child with no permissions at all and reads its config. */
async function describe(paths: TauPaths, dir: string, author: AuthorFile): Promise<unknown> {
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
      location: null,
    });
  }
  const parser = new LineParser(nonce);
  for (const line of [...parser.push(result.stdout), ...parser.end()]) {
    if (line.kind !== "event") continue;
    if (line.event.type === "describe") return line.event.config;
    if (line.event.type === "error") {
      const { code, name, message, stack } = line.event.error;
      if (code === "invalid_pipeline") {
        throw new TauError("invalid_pipeline", "The file's default export is not a pipeline", {
          hint:
            'write `export default pipeline({ name: "…" }, async (ctx) => { … })` with pipeline from "tau"',
          location: null,
        });
      }
      const location = stackLocation(stack, author);
      throw new TauError(
        "invalid_pipeline",
        `Loading the pipeline file failed: ${name}: ${
          message.split(author.url).join(author.filename)
        }`,
        {
          hint: (location ? `the top-level code at line ${location.line} failed: ` : "") +
            "top-level code runs with no permissions at deploy; keep I/O inside the pipeline function",
          location,
        },
      );
    }
  }
  throw new TauError(
    "invalid_pipeline",
    `Loading the pipeline file failed (exit code ${result.code}): ${
      firstLines(result.stderr).split(author.url).join(author.filename)
    }`,
    { hint: "the file must export a pipeline as its default export", location: null },
  );
}
