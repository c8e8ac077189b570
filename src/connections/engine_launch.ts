/**
 * How one run's DuckDB engine process starts, as a pure function of the run's limits and
 * boundary: `prlimit` (the run's CPU seconds, an RLIMIT_DATA backstop) and, when the daemon has
 * it, bubblewrap with only the engine's own files, its private DENO_DIR, the run's scratch
 * folder and the declared databases' directories mounted; and the DuckDB settings derived from
 * the run's limits.
 */
import { runtime } from "../runtime/root.ts";
import type { RunLimits } from "../sandbox/limits.ts";
import { bubblewrapArgs, type OsBoundary, prlimitArgs } from "../sandbox/os_boundary.ts";
import { baseChildEnv } from "../sandbox/permissions.ts";
import { engineArgs, type EngineInstall } from "./engine_install.ts";

export type EngineLimits = Pick<RunLimits, "memory_mb" | "cpu_s" | "threads" | "timeout_ms">;

/** The engine's V8 heap: row objects of one DuckDB chunk, and one reply of up to 16 MiB. */
const ENGINE_HEAP_MB = 256;
/** DuckDB wants at least ~125 MB per worker thread; more threads would only thrash or spill. */
const MB_PER_THREAD = 128;
const MAX_THREADS = 2;

/**
 * DuckDB's settings for a run: `memory_limit` is half the run's memory limit (the engine's
 * runtime and the run's own process share the rest, all counted against that one limit),
 * `threads` one per 128 MiB of it, at least 1 and at most 2.
 */
export function engineSettings(limits: Pick<RunLimits, "memory_mb">) {
  const memoryLimitMb = Math.max(8, Math.floor(limits.memory_mb / 2));
  const threads = Math.min(MAX_THREADS, Math.max(1, Math.floor(memoryLimitMb / MB_PER_THREAD)));
  return { memoryLimitMb, threads };
}

/** A host directory an engine sees at the same path. */
export interface DirectoryMount {
  path: string;
  writable: boolean;
}

export interface EngineLaunchInput {
  install: Pick<EngineInstall, "entry" | "importMap" | "lockFile" | "readOnly">;
  boundary: OsBoundary;
  limits: EngineLimits;
  /** The engine's private DENO_DIR. */
  denoDir: string;
  /** The run's scratch folder on the host. */
  scratchDir: string;
  /** Where the engine sees the scratch folder (bubblewrap only; else the host path). */
  scratchView: string;
  /** Directories of the declared databases and their allowed_directories. */
  databases: DirectoryMount[];
  /** False gives the engine an empty network namespace (only MotherDuck needs one). */
  network: boolean;
}

export interface EngineLaunch {
  command: string;
  args: string[];
  env: Record<string, string>;
  cwd: string;
}

export function engineLaunch(input: EngineLaunchInput): EngineLaunch {
  const { boundary, limits } = input;
  const bubblewrap = boundary.mechanism === "bubblewrap" && boundary.bwrap !== null;
  const scratch = bubblewrap ? input.scratchView : input.scratchDir;
  const wrapper: string[] = [];
  if (boundary.prlimit) {
    // No RLIMIT_FSIZE: a named database may rightly grow past the run's scratch allowance.
    const rlimits = prlimitArgs({ ...limits, disk_mb: 0 }).filter((a) => !a.startsWith("--fsize"));
    wrapper.push(boundary.prlimit, ...rlimits);
  }
  if (bubblewrap) {
    wrapper.push(
      boundary.bwrap as string,
      ...bubblewrapArgs(boundary, {
        readOnly: [],
        readWrite: [],
        network: input.network,
        cwd: scratch,
      }),
      ...mountArgs(input),
      "--",
    );
  }
  const deno = runtime().deno;
  const args = engineArgs(input.install, ENGINE_HEAP_MB);
  return {
    command: wrapper[0] ?? deno,
    args: wrapper.length > 0 ? [...wrapper.slice(1), deno, ...args] : args,
    env: baseChildEnv(scratch, input.denoDir),
    cwd: input.scratchDir,
  };
}

/**
 * Declared database directories first (parents before children, `-try`: one that does not exist
 * stays absent, and DuckDB reports it), then deno and the engine's own files read-only so no
 * database mount can make them writable, then its DENO_DIR, then the scratch folder at its view.
 */
function mountArgs(input: EngineLaunchInput): string[] {
  const args: string[] = [];
  const databases = [...input.databases].sort((a, b) => depth(a.path) - depth(b.path));
  for (const { path, writable } of databases) {
    args.push(writable ? "--bind-try" : "--ro-bind-try", path, path);
  }
  // The deno binary at the path it is started by (systemMounts brings its libraries).
  for (const path of [runtime().deno, ...input.install.readOnly]) {
    args.push("--ro-bind", path, path);
  }
  args.push("--bind", input.denoDir, input.denoDir);
  args.push("--bind", input.scratchDir, input.scratchView);
  return args;
}

const depth = (path: string) => path.split("/").filter(Boolean).length;
