/**
 * Where Tau keeps its state (DESIGN.md "State and configuration").
 *
 * The CLI loads this module on every start, so it loads no `node:` module: the first one costs
 * a start ~20 ms of Deno's Node compatibility layer. `join` and `homedir` below
 * do what node:path (POSIX) and node:os do, for the paths Tau makes.
 */
import { sdkDir } from "../runtime/root.ts";

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

/** node:os's homedir on POSIX: $HOME, else the user's entry in /etc/passwd. */
function homedir(): string {
  const home = Deno.env.get("HOME");
  if (home) return home;
  const uid = String(Deno.uid());
  for (const line of Deno.readTextFileSync("/etc/passwd").split("\n")) {
    const fields = line.split(":");
    if (fields[2] === uid && fields[5]) return fields[5];
  }
  throw new Error("No home directory: HOME is not set and /etc/passwd has no entry for this user");
}

/** node:path's join on POSIX: the non-empty parts joined by `/`, then normalized. */
function join(...parts: string[]): string {
  const joined = parts.filter((p) => p.length > 0).join("/");
  if (joined === "") return ".";
  const absolute = joined.startsWith("/");
  const trailing = joined.endsWith("/");
  const out: string[] = [];
  for (const segment of joined.split("/")) {
    if (segment === "" || segment === ".") continue;
    if (segment === ".." && out.length > 0 && out[out.length - 1] !== "..") out.pop();
    else if (segment !== ".." || !absolute) out.push(segment);
  }
  const path = out.join("/");
  if (path === "") return absolute ? "/" : trailing ? "./" : ".";
  return (absolute ? "/" : "") + path + (trailing ? "/" : "");
}

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
    sdkDir: sdkDir(),
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
