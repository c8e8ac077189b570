/** Where Tau keeps its state (DESIGN.md "State and configuration"). */
import { join } from "node:path";
import { homedir } from "node:os";
import { fileURLToPath } from "node:url";

export interface TauPaths {
  home: string;
  database: string;
  apiKey: string;
  pidFile: string;
  stateFile: string;
  logFile: string;
  /** Deployed code, one folder per pipeline version. */
  code: string;
  /** Per-run folders (scratch + DENO_DIR), removed when the run ends. */
  runs: string;
  /** Deploy-time analysis folders. */
  staging: string;
  /**
   * The module cache of deploy-time checks; the daemon points it at the shared sandbox cache
   * (approved npm drivers only), whose `npm` folder every run's DENO_DIR links to.
   */
  denoDir: string;
  importMap: string;
  /** The import map runs use inside the OS boundary, where the SDK is at /tau/sdk/. */
  viewImportMap: string;
  /** The import map of the deploy-time type-check (drivers as any-typed stand-ins). */
  typecheckMap: string;
  /** The SDK pipelines import as `tau`. */
  sdkDir: string;
}

export const SDK_DIR = fileURLToPath(new URL("../../sdk/", import.meta.url));

export function resolveHome(env: { get(name: string): string | undefined } = Deno.env): string {
  return env.get("TAU_HOME") || join(homedir(), ".tau");
}

export function tauPaths(home: string): TauPaths {
  return {
    home,
    database: join(home, "tau.db"),
    apiKey: join(home, "api_key"),
    pidFile: join(home, "taud.pid"),
    stateFile: join(home, "taud.json"),
    logFile: join(home, "taud.log"),
    code: join(home, "code"),
    runs: join(home, "runs"),
    staging: join(home, "staging"),
    denoDir: join(home, "deno"),
    importMap: join(home, "import_map.json"),
    viewImportMap: join(home, "view_import_map.json"),
    typecheckMap: join(home, "typecheck_map.json"),
    sdkDir: SDK_DIR,
  };
}

/**
 * A deployed version's folder. The code's hash is part of the name: workers that share no disk
 * cache code by content, and a pipeline deployed again after an undeploy (its numbers start
 * over) can never run a stale copy.
 */
export function versionDir(
  paths: TauPaths,
  pipeline: string,
  version: number,
  hash: string,
): string {
  return join(paths.code, pipeline, `v${version}-${hash.slice(0, 16)}`);
}
