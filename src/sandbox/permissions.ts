/**
 * The one place a run's Deno permissions are decided. Pure: the same metadata and options
 * always give the same flags, so `tau show` can print exactly what a run will get, and the
 * unit tests can pin it down. Nothing here ever grants run, sys, ffi, import or all.
 */
import { dirname, join } from "node:path";
import type { RunLimits } from "./limits.ts";
import { ALWAYS_DENIED, daemonAddresses, exactHostPort } from "./network.ts";
import { bubblewrapArgs, type Mount, type OsBoundary, prlimitArgs } from "./os_boundary.ts";
import { RUN_VIEW } from "./run_view.ts";
import { runtime } from "../runtime/root.ts";

export { RUN_VIEW };

export interface PermissionInput {
  /** Hosts (`host` or `host:port`) the pipeline declared in `net`. */
  net: readonly string[];
  /** Environment variable names the pipeline declared in `secrets`. */
  secrets: readonly string[];
  /** Hosts granted by the pipeline's declared connections (derived from tau.toml). */
  connectionHosts?: readonly string[];
}

export interface SandboxOptions {
  /** The per-run folder the child may read and write; nothing else on disk. */
  scratchDir: string;
  /** Per-run DENO_DIR, removed after the run (holds localStorage, caches, code cache). */
  denoDir: string;
  /** Import map resolving `tau` to the SDK where it is on the host. */
  importMap: string;
  /** The approved drivers' lockfile (see src/sandbox/npm_cache.ts). */
  lockFile: string;
  /** Generated entry file of the deployed version. */
  entry: string;
  /** The daemon's own ports (its API's, its dashboard's): always denied, whatever is declared. */
  daemonPorts: number[];
  /** The addresses the daemon listens on, denied too (every interface's when bound to 0.0.0.0). */
  daemonAddresses?: string[];
  /** The run's resource limits. @default {DEFAULT_LIMITS} */
  limits?: RunLimits;
  /** Where Deno writes the run's permission audit log (outside the scratch folder). */
  auditFile?: string;
  /** Layer 3, when the daemon has it: the run then sees its files at {@link RUN_VIEW}. */
  boundary?: {
    os: OsBoundary;
    /** The SDK folder and the approved drivers' package folder, mounted read-only. */
    sdkDir: string;
    npmDir: string;
    /** The import map resolving `tau` to {@link RUN_VIEW}'s SDK. */
    viewImportMap: string;
  };
}

/** The paths the run's own code and flags use: {@link RUN_VIEW}'s, or the host's without it. */
export interface RunPaths {
  scratch: string;
  denoDir: string;
  auditFile: string | null;
  importMap: string;
  lockFile: string;
  entry: string;
  /** The deno executable as the wrapper starts it. */
  deno: string;
}

/** The permission set as shown to users (`tau show`, `tau inspect`). */
export interface PermissionSet {
  net: string[];
  deny_net: string[];
  env: string[];
  /** Env names drivers may probe; always unset in the child unless declared as secrets. */
  env_unset: string[];
  read: string[];
  write: string[];
  run: false;
  ffi: false;
  sys: false;
  import: false;
  limits: RunLimits;
}

export interface RunLaunch {
  permissions: PermissionSet;
  /** Where the run sees its files (what `args`, `env` and `permissions` name). */
  view: RunPaths;
  /** Arguments after the `deno` executable (`view.deno`). */
  args: string[];
  /** What starts `deno` (prlimit, bubblewrap and their arguments); empty: deno directly. */
  wrapper: string[];
  /** The child's whole environment (it is spawned with a cleared environment). */
  env: Record<string, string>;
}

/** Limits of a run when the caller gives none (the `[sandbox]` defaults). */
export const DEFAULT_LIMITS: RunLimits = {
  timeout_ms: 60 * 60 * 1000,
  heap_mb: 512,
  memory_mb: 1024,
  cpu_s: 3600,
  disk_mb: 1024,
  files: 100_000,
  output_bytes: 10 * 1024 * 1024,
  request_bytes: 4 * 1024 ** 3,
  events: 1_000_000,
  threads: 64,
};

/**
 * Environment names the approved npm drivers read even when every option is passed
 * explicitly (postgres.js: PG*; the AWS SDK: its Lambda and version-warning switches). Deno
 * throws on reading an ungranted name, so they are granted — and the child's environment never
 * holds them (it is built from scratch), so a read always finds them unset.
 */
export const DRIVER_ENV_PROBES = [
  "AWS_LAMBDA_BENCHMARK_MODE",
  "AWS_LAMBDA_NODEJS_NO_GLOBAL_AWSLAMBDA",
  "AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED",
  "PGAPPNAME",
  "PGTARGETSESSIONATTRS",
];

/**
 * Flags every sandboxed child gets: no prompt, no config, no fetching, no type-check, and npm
 * specifiers resolved only against the approved drivers' frozen lockfile.
 */
export function lockedDownFlags(lockFile: string): string[] {
  return [
    "--no-prompt",
    "--no-config",
    `--lock=${lockFile}`,
    "--frozen",
    "--no-check",
    "--no-remote",
    "--cached-only",
  ];
}

/** The environment of a sandboxed child apart from secrets (it is spawned with clearEnv). */
export function baseChildEnv(scratchDir: string, denoDir: string): Record<string, string> {
  return {
    HOME: scratchDir,
    TMPDIR: scratchDir,
    DENO_DIR: denoDir,
    DENO_NO_UPDATE_CHECK: "1",
    DENO_NO_PACKAGE_JSON: "1",
    NO_COLOR: "1",
  };
}

/** Arguments for a child with no permissions at all (deploy-time metadata, cache warm-up). */
export function zeroPermissionArgs(
  importMap: string,
  lockFile: string,
  entry: string,
  heapMb = 128,
): string[] {
  return [
    "run",
    ...lockedDownFlags(lockFile),
    `--import-map=${importMap}`,
    `--v8-flags=--max-old-space-size=${heapMb}`,
    entry,
  ];
}

/** Builds the child's flags, wrapper and environment from what the pipeline declared. */
export function buildRunLaunch(
  input: PermissionInput,
  options: SandboxOptions,
  secretValues: Readonly<Record<string, string>> = {},
): RunLaunch {
  const { permissions, view, args } = runFlags(input, options);
  const childEnv = baseChildEnv(view.scratch, view.denoDir);
  if (view.auditFile) childEnv.DENO_AUDIT_PERMISSIONS = view.auditFile;
  for (const name of permissions.env) {
    const value = secretValues[name];
    if (value !== undefined) childEnv[name] = value;
  }
  const wrapper = wrapperFor(options, permissions.net.length > 0);
  return { permissions, view, args, wrapper, env: childEnv };
}

/**
 * The permission set and `deno` flags alone, what a run's record shows: a scheduler pass
 * prepares thousands of runs and needs no wrapper or environment for them.
 */
export function runFlags(
  input: PermissionInput,
  options: SandboxOptions,
): Pick<RunLaunch, "permissions" | "view" | "args"> {
  const view = runPaths(options);
  const net = [...new Set([...(input.connectionHosts ?? []), ...input.net].map(exactHostPort))]
    .sort();
  const env = [...new Set(input.secrets)].sort();
  const probes = DRIVER_ENV_PROBES.filter((p) => !env.includes(p));
  const limits = options.limits ?? DEFAULT_LIMITS;
  const permissions: PermissionSet = {
    net,
    deny_net: [...daemonAddresses(options.daemonPorts, options.daemonAddresses), ...ALWAYS_DENIED],
    env,
    env_unset: probes,
    read: [view.scratch],
    write: [view.scratch],
    run: false,
    ffi: false,
    sys: false,
    import: false,
    limits,
  };

  const args = [
    "run",
    ...lockedDownFlags(view.lockFile),
    `--import-map=${view.importMap}`,
    `--allow-read=${view.scratch}`,
    `--allow-write=${view.scratch}`,
    ...(net.length > 0 ? [`--allow-net=${net.join(",")}`] : []),
    `--deny-net=${permissions.deny_net.join(",")}`,
    ...(env.length + probes.length > 0 ? [`--allow-env=${[...env, ...probes].join(",")}`] : []),
    `--v8-flags=--max-old-space-size=${limits.heap_mb}`,
    view.entry,
  ];
  return { permissions, view, args };
}

/** Whether runs get {@link RUN_VIEW}: only inside bubblewrap, which can mount it. */
function hasView(options: Pick<SandboxOptions, "boundary">): boolean {
  const os = options.boundary?.os;
  return os?.mechanism === "bubblewrap" && os.bwrap !== null;
}

/** The deno runs start with (src/runtime/root.ts: this process's own, or a compiled taud's). */
function denoExecPath(): string {
  return runtime().deno;
}

/** The paths a run uses for its files, given where they are on the host. */
export function runPaths(options: SandboxOptions): RunPaths {
  if (!hasView(options)) {
    return {
      scratch: options.scratchDir,
      denoDir: options.denoDir,
      auditFile: options.auditFile ?? null,
      importMap: options.importMap,
      lockFile: options.lockFile,
      entry: options.entry,
      deno: denoExecPath(),
    };
  }
  return {
    scratch: RUN_VIEW.scratch,
    denoDir: RUN_VIEW.denoDir,
    auditFile: options.auditFile ? join(RUN_VIEW.audit, "permissions.jsonl") : null,
    importMap: RUN_VIEW.importMap,
    lockFile: RUN_VIEW.lockFile,
    entry: join(RUN_VIEW.code, "entry.ts"),
    deno: RUN_VIEW.deno,
  };
}

/**
 * What the boundary mounts to give a run (or the warm-up of its version) {@link RUN_VIEW}: its
 * code, the SDK, the drivers, the import map and lockfile read-only, and its own scratch,
 * DENO_DIR and audit folders read-write. Nothing else of the host's file system is there.
 */
export function viewMounts(
  options: Pick<SandboxOptions, "scratchDir" | "denoDir" | "lockFile" | "entry" | "auditFile"> & {
    boundary: NonNullable<SandboxOptions["boundary"]>;
  },
): { readOnly: Mount[]; readWrite: Mount[] } {
  const { boundary } = options;
  return {
    readWrite: [
      [options.scratchDir, RUN_VIEW.scratch],
      [options.denoDir, RUN_VIEW.denoDir],
      ...(options.auditFile ? [[dirname(options.auditFile), RUN_VIEW.audit] as const] : []),
    ],
    readOnly: [
      [denoExecPath(), RUN_VIEW.deno],
      [dirname(options.entry), RUN_VIEW.code],
      [boundary.sdkDir, RUN_VIEW.sdk],
      [boundary.npmDir, RUN_VIEW.npmDir],
      [boundary.viewImportMap, RUN_VIEW.importMap],
      [options.lockFile, RUN_VIEW.lockFile],
    ],
  };
}

/** `prlimit … bwrap …` in front of `deno`, as far as this daemon has them. */
function wrapperFor(options: SandboxOptions, network: boolean): string[] {
  const os = options.boundary?.os;
  const wrapper: string[] = [];
  if (os?.prlimit) wrapper.push(os.prlimit, ...prlimitArgs(options.limits ?? DEFAULT_LIMITS));
  if (hasView(options)) {
    wrapper.push(
      os!.bwrap!,
      ...bubblewrapArgs(os!, {
        ...viewMounts({ ...options, boundary: options.boundary! }),
        network,
        cwd: RUN_VIEW.scratch,
      }),
      "--",
    );
  }
  return wrapper;
}
