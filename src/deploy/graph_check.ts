/**
 * Layer 2 of the sandbox: Deno loads static imports (and literal dynamic ones, including
 * `with { type: "text" }`) without asking the permission system, so before a pipeline is
 * accepted its whole module graph is resolved and every module must be the pipeline file
 * itself, part of the SDK, a `node:` built-in, or an approved npm package.
 */
import { pathToFileURL } from "node:url";
import { type SourceLocation, TauError } from "../core/errors.ts";
import { runDenoProcess, stripAnsi } from "../sandbox/deno_process.ts";
import { npmPackageOf, sandboxLockFile } from "../sandbox/npm_cache.ts";
import {
  authorDiagnostics,
  type AuthorFile,
  importError,
  refusedImportsError,
} from "./author_file.ts";
import { parseDenoOutput } from "./diagnostics.ts";
import { refusedImport } from "./imports.ts";

/**
 * Environment of deploy-time tools: the sandbox module cache. They never fetch a package:
 * the type-check runs first with --no-npm and refuses every import but the SDK's and the
 * approved drivers' names, so by the time `deno info` resolves the graph every npm package in
 * it is one already cached (an approved driver).
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
  /** The author's file, so that a refusal names the import as written and where it is. */
  author?: AuthorFile;
}

interface InfoDependency {
  specifier: string;
  code?: { specifier?: string; span?: { start: { line: number; character: number } } };
  type?: { specifier?: string; span?: { start: { line: number; character: number } } };
}

interface InfoModule {
  specifier: string;
  kind?: string;
  error?: string;
  dependencies?: InfoDependency[];
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
    const { diagnostics } = parseDenoOutput(result.stderr);
    const own = options.author ? authorDiagnostics(diagnostics, options.author) : [];
    const refused = options.author ? importError(own, options.author) : null;
    if (refused) throw refused;
    const first = own[0];
    throw new TauError(
      "invalid_pipeline",
      `Cannot resolve the pipeline's imports: ${
        first ? `${first.message} (${first.file}:${first.line})` : firstLines(result.stderr)
      }`,
      {
        hint: 'a pipeline may import only "tau" (and tau/…), node: built-ins and approved packages',
        location: first ? { file: first.file, line: first.line, column: first.column } : null,
        ...(first ? { details: { diagnostics: own } } : {}),
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
  if (refused.length > 0 && options.author) {
    // Said as the author wrote it: the import, why it is refused, and where it is.
    const written = writtenImports(info.modules ?? [], options.file, options.author.filename);
    const explained = refused.flatMap((r) => {
      const source = written.get(r.specifier);
      const why = source ? refusedImport(source.specifier) : null;
      return why ? [{ ...why, location: source!.location }] : [];
    });
    if (explained.length > 0) throw refusedImportsError(explained);
  }
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

/** The pipeline file's own imports: resolved specifier → as written, and where. */
function writtenImports(
  modules: InfoModule[],
  file: string,
  filename: string,
): Map<string, { specifier: string; location: SourceLocation | null }> {
  const self = pathToFileURL(file).href;
  const root = modules.find((m) => m.specifier === self);
  const out = new Map<string, { specifier: string; location: SourceLocation | null }>();
  for (const dep of root?.dependencies ?? []) {
    for (const target of [dep.code, dep.type]) {
      if (!target?.specifier || out.has(target.specifier)) continue;
      const start = target.span?.start;
      out.set(target.specifier, {
        specifier: dep.specifier,
        location: start
          ? { file: filename, line: start.line + 1, column: start.character + 1 }
          : null,
      });
    }
  }
  return out;
}

export function firstLines(text: string, count = 6): string {
  return stripAnsi(text).trim().split("\n").slice(0, count).join("\n");
}
