/**
 * Layer 2 of the sandbox: Deno loads static imports (and literal dynamic ones, including
 * `with { type: "text" }`) without asking the permission system, so before a pipeline is
 * accepted its whole module graph is resolved and every module must be the pipeline file
 * itself, part of the SDK, a `node:` built-in, or an approved npm package.
 */
import { pathToFileURL } from "node:url";
import { TauError } from "../core/errors.ts";
import { runDenoProcess, stripAnsi } from "../sandbox/deno_process.ts";
import { npmPackageOf, sandboxLockFile } from "../sandbox/npm_cache.ts";

/**
 * Environment of deploy-time tools: the sandbox module cache. They never fetch a package:
 * the type-check runs first with --cached-only, so by the time `deno info` resolves the graph
 * every npm package in it is one already cached (an approved driver).
 */
export function toolEnv(denoDir: string): Record<string, string> {
  return { DENO_DIR: denoDir, DENO_NO_UPDATE_CHECK: "1", DENO_NO_PACKAGE_JSON: "1", NO_COLOR: "1" };
}

export interface GraphCheckOptions {
  /** The staged pipeline file. */
  file: string;
  importMap: string;
  sdkDir: string;
  denoDir: string;
  /** npm packages (`name@version`) pipelines may import. */
  approvedNpm?: readonly string[];
}

interface InfoModule {
  specifier: string;
  kind?: string;
  error?: string;
}

interface InfoOutput {
  modules?: InfoModule[];
  roots?: string[];
}

/** Resolves the module graph of a staged pipeline and refuses any module outside the rules. */
export async function checkModuleGraph(options: GraphCheckOptions): Promise<void> {
  const result = await runDenoProcess({
    args: [
      "info",
      "--json",
      "--no-config",
      `--lock=${sandboxLockFile(options.denoDir)}`,
      "--frozen",
      "--no-remote",
      `--import-map=${options.importMap}`,
      options.file,
    ],
    env: toolEnv(options.denoDir),
    timeoutMs: 30_000,
  });
  if (result.code !== 0) {
    throw new TauError(
      "invalid_pipeline",
      `Cannot resolve the pipeline's imports: ${firstLines(result.stderr)}`,
      {
        hint: "fix the import or syntax error reported above",
      },
    );
  }
  let info: InfoOutput;
  try {
    info = JSON.parse(result.stdout);
  } catch {
    throw new TauError("internal", "deno info returned output that is not JSON");
  }
  const refused = refusedModules(info.modules ?? [], options);
  if (refused.length > 0) {
    const list = refused.map((r) => `${r.specifier} (${r.reason})`).join(", ");
    throw new TauError(
      "invalid_pipeline",
      `The pipeline imports modules outside the sandbox: ${list}`,
      {
        hint:
          'a pipeline may import only "tau" (and tau/…), node: built-ins and approved packages; read data through ctx.connection() or files in its scratch folder at run time',
        details: { refused },
      },
    );
  }
}

/** Pure part of the check, for unit tests: which modules break the rules, and why. */
export function refusedModules(
  modules: InfoModule[],
  options: Pick<GraphCheckOptions, "file" | "sdkDir" | "approvedNpm">,
): { specifier: string; reason: string }[] {
  const self = pathToFileURL(options.file).href;
  const sdk = pathToFileURL(options.sdkDir).href.replace(/\/?$/, "/");
  const approved = new Set(options.approvedNpm ?? []);
  const refused: { specifier: string; reason: string }[] = [];
  for (const m of modules) {
    const spec = m.specifier;
    if (m.error) {
      refused.push({
        specifier: spec,
        reason: stripAnsi(m.error).split("\n")[0] ?? "unresolvable",
      });
    } else if (spec === self || spec.startsWith(sdk)) {
      continue;
    } else if (spec.startsWith("node:")) {
      continue;
    } else if (spec.startsWith("npm:")) {
      const pkg = npmPackageOf(spec);
      if (!pkg || !approved.has(pkg)) {
        refused.push({ specifier: spec, reason: "npm package not approved" });
      }
    } else if (spec.startsWith("file:")) {
      refused.push({ specifier: spec, reason: "file outside the pipeline" });
    } else {
      refused.push({ specifier: spec, reason: "remote or unknown module" });
    }
  }
  return refused;
}

export function firstLines(text: string, count = 6): string {
  return stripAnsi(text).trim().split("\n").slice(0, count).join("\n");
}
