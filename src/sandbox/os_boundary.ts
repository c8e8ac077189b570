/**
 * Layer 3, the OS boundary: on Linux a run's `deno` starts inside bubblewrap, in a mount
 * namespace that holds only what the run needs (read-only except its scratch and per-run
 * Deno folders), its own PID, IPC and UTS namespaces, an empty network namespace when it may
 * reach no host, no capabilities, and `--die-with-parent`. Resource rlimits (CPU time, data
 * size, file size) are set with util-linux `prlimit`. Both are detected once at daemon start;
 * where they are missing the run keeps layers 1 and 2 and its record says so.
 */
import { runtime } from "../runtime/root.ts";
import { dirname } from "node:path";

export type OsBoundaryMode = "auto" | "require" | "off";

/** What this daemon can wrap runs in; reported by `tau status` and in every run record. */
export interface OsBoundary {
  /** `bubblewrap` when runs get the OS boundary, else null. */
  mechanism: "bubblewrap" | null;
  /** Why there is no OS boundary (missing, namespaces refused, turned off). */
  reason: string | null;
  bwrap: string | null;
  /** Absolute path of `prlimit`, when rlimits can be set. */
  prlimit: string | null;
  /** Read-only mounts every run needs: the deno binary and its shared libraries. */
  systemMounts: string[][];
}

export const NO_OS_BOUNDARY: OsBoundary = {
  mechanism: null,
  reason: "off",
  bwrap: null,
  prlimit: null,
  systemMounts: [],
};

/** Which layers a run gets from this boundary, as `tau status` and run records show them. */
export function layersReport(os: OsBoundary) {
  return {
    layers: {
      deno_permissions: true as const,
      module_graph_check: true as const,
      os_boundary: os.mechanism !== null,
    },
    os_boundary: os.mechanism,
    os_boundary_reason: os.reason,
    rlimits: os.prlimit !== null,
  };
}

/** A path mounted at the same place inside, or `[host path, path inside]`. */
export type Mount = string | readonly [string, string];

/** What one run's boundary mounts; everything else on the machine is absent inside it. */
export interface BoundarySpec {
  /** Mounted read-only: code, SDK, import map, lockfile, module cache. */
  readOnly: readonly Mount[];
  /** Mounted read-write (before the read-only ones, which may sit inside them). */
  readWrite: readonly Mount[];
  /** False gives the run an empty network namespace (no interface but its own loopback). */
  network: boolean;
  cwd: string;
}

const NETWORK_FILES = ["/etc/resolv.conf", "/etc/hosts", "/etc/nsswitch.conf", "/etc/gai.conf"];

/** Arguments for `bwrap` that start `command` inside the run's boundary. */
export function bubblewrapArgs(boundary: OsBoundary, spec: BoundarySpec): string[] {
  const args = [
    "--die-with-parent",
    "--new-session",
    "--unshare-pid",
    "--unshare-ipc",
    "--unshare-uts",
    "--unshare-cgroup-try",
    "--hostname",
    "tau-run",
    "--cap-drop",
    "ALL",
    ...boundary.systemMounts.flat(),
    "--proc",
    "/proc",
    "--dev",
    "/dev",
    "--tmpfs",
    "/tmp",
  ];
  if (spec.network) {
    for (const file of NETWORK_FILES) args.push("--ro-bind-try", file, file);
  } else {
    args.push("--unshare-net");
  }
  const pair = (mount: Mount) => typeof mount === "string" ? [mount, mount] : mount;
  for (const mount of spec.readWrite) args.push("--bind", ...pair(mount));
  for (const mount of spec.readOnly) args.push("--ro-bind", ...pair(mount));
  args.push("--chdir", spec.cwd);
  return args;
}

/** rlimits in `prlimit` syntax: CPU seconds (SIGXCPU), data segment and file size in bytes. */
export function prlimitArgs(limits: { cpu_s: number; memory_mb: number; disk_mb: number }) {
  const mib = 1024 * 1024;
  // V8 reserves ~600 MiB of address space that RLIMIT_DATA counts before any use, so the data
  // limit is a backstop above the resident-memory limit the supervisor enforces.
  const data = (limits.memory_mb + 1024) * mib;
  return [
    `--cpu=${limits.cpu_s}:${limits.cpu_s + 1}`,
    `--data=${data}:${data}`,
    `--fsize=${limits.disk_mb * mib}:${limits.disk_mb * mib}`,
    "--",
  ];
}

/**
 * Finds bubblewrap and prlimit and proves the boundary works by starting `deno --version`
 * inside it (this catches kernels or containers that refuse user or PID namespaces).
 */
export async function detectOsBoundary(
  mode: OsBoundaryMode,
  denoPath = runtime().deno,
): Promise<OsBoundary> {
  const prlimit = Deno.build.os === "linux" ? await which("prlimit") : null;
  const none = (reason: string): OsBoundary => ({ ...NO_OS_BOUNDARY, reason, prlimit });
  if (mode === "off") return none('turned off ([sandbox] os_boundary = "off")');
  if (Deno.build.os !== "linux") return none(`no OS boundary on ${Deno.build.os}`);
  const bwrap = await which("bwrap");
  if (!bwrap) {
    return none("bubblewrap is not installed (Debian/Ubuntu: apt-get install bubblewrap)");
  }
  const systemMounts = await denoMounts(denoPath);
  const boundary: OsBoundary = {
    mechanism: "bubblewrap",
    reason: null,
    bwrap,
    prlimit,
    systemMounts,
  };
  const probe = await new Deno.Command(bwrap, {
    args: [
      ...bubblewrapArgs(boundary, { readOnly: [], readWrite: [], network: false, cwd: "/" }),
      denoPath,
      "--version",
    ],
    clearEnv: true,
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output().catch((err) => ({ success: false, stderr: new TextEncoder().encode(String(err)) }));
  if (!probe.success) {
    const detail = new TextDecoder().decode(probe.stderr).trim().split("\n")[0];
    return none(`bubblewrap cannot create the sandbox here: ${detail}`);
  }
  return boundary;
}

/** Read-only mounts for the deno binary, its shared libraries and merged-/usr symlinks. */
async function denoMounts(denoPath: string): Promise<string[][]> {
  const real = await Deno.realPath(denoPath);
  const mounts: string[][] = [["--ro-bind", real, real]];
  if (real !== denoPath) mounts.push(["--symlink", real, denoPath]);
  // Merged /usr: /lib64 and friends are symlinks the dynamic loader's path goes through.
  for (const top of ["/lib", "/lib64", "/lib32", "/libx32", "/bin"]) {
    const target = await Deno.readLink(top).catch(() => null);
    if (target) mounts.push(["--symlink", target, top]);
  }
  const libraryDirs = new Set<string>();
  for (const library of await sharedLibraries(real)) {
    // The folder as listed (it may hold a symlink, like /lib64/ld-linux…) and the file's own.
    for (const path of [dirname(library), library]) {
      const resolved = await Deno.realPath(path).catch(() => null);
      if (resolved) libraryDirs.add(path === library ? dirname(resolved) : resolved);
    }
  }
  for (const dir of libraryDirs) mounts.push(["--ro-bind", dir, dir]);
  mounts.push(["--ro-bind-try", "/etc/ld.so.cache", "/etc/ld.so.cache"]);
  return mounts;
}

/** Absolute paths of the shared libraries (and loader) a binary needs, from `ldd`. */
async function sharedLibraries(binary: string): Promise<string[]> {
  const ldd = await which("ldd");
  if (!ldd) return [];
  const out = await new Deno.Command(ldd, { args: [binary], stdout: "piped", stderr: "null" })
    .output().catch(() => null);
  if (!out?.success) return [];
  return [...new TextDecoder().decode(out.stdout).matchAll(/(\/[^\s)]+)/g)].map((m) => m[1]!);
}

async function which(name: string): Promise<string | null> {
  for (const dir of ["/usr/bin", "/bin", "/usr/sbin", "/sbin", "/usr/local/bin"]) {
    const path = `${dir}/${name}`;
    try {
      const info = await Deno.stat(path);
      if (info.isFile && (info.mode ?? 0o111) & 0o111) return path;
    } catch { /* not here */ }
  }
  return null;
}
