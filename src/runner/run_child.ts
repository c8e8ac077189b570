/**
 * A run's child before it is given its run: a folder of its own (scratch, a DENO_DIR holding a
 * private copy of the version's compiler caches, the permission audit log) and the `deno run`
 * child started in it with the permission set derived from what the pipeline declares. The
 * child waits for its init message on stdin; it is started when a run needs it (cold), or ahead
 * of time by the warm pool.
 */
import { join } from "node:path";
import type { TauPaths } from "../config/paths.ts";
import type { PipelineMetadata } from "../metadata/schema.ts";
import {
  buildRunLaunch,
  copyCaches,
  linkModuleCache,
  type OsBoundary,
  type RunLaunch,
  type RunLimits,
  SandboxChild,
  sandboxLockFile,
  versionTemplate,
  type ViewBoundary,
} from "../sandbox/mod.ts";

/** Everything a child's command line and environment are made of. */
export interface ChildSpec {
  /** The deployed version's generated entry file (its path names the version and its hash). */
  entry: string;
  metadata: Pick<PipelineMetadata, "net" | "secrets">;
  /** Hosts of the declared connections. */
  connectionHosts: string[];
  /** Values of the declared secrets: the child's environment holds these and no others. */
  secretValues: Record<string, string>;
  daemonPorts: number[];
  daemonAddresses?: string[];
  limits: RunLimits;
  /** Layer 3 as detected at daemon start. */
  boundary: OsBoundary;
}

export interface RunDirs {
  scratchDir: string;
  denoDir: string;
  auditFile: string;
  importMap: string;
  lockFile: string;
  /** Layer 3 and what it mounts; absent without it. */
  boundary: ViewBoundary;
}

/** A started child and the folder it owns. */
export interface RunChild {
  /** Removed, with everything in it, once the child is done. */
  dir: string;
  dirs: RunDirs;
  launch: RunLaunch;
  child: SandboxChild;
  /** Started ahead of its run by the warm pool. */
  warm: boolean;
}

/**
 * Removes the run folders a dead daemon of this home left (its children died with it: they
 * run with `--die-with-parent`); returns how many there were. Only for a daemon starting on a
 * home no live daemon uses.
 */
export async function removeLeftoverRunFolders(paths: TauPaths): Promise<number> {
  let removed = 0;
  for await (const entry of Deno.readDir(paths.runs)) {
    await Deno.remove(join(paths.runs, entry.name), { recursive: true });
    removed++;
  }
  return removed;
}

/** Creates the child's folder and starts the child; it waits for its init message. */
export async function startRunChild(
  paths: TauPaths,
  spec: ChildSpec,
  warm = false,
): Promise<RunChild> {
  const dir = join(paths.runs, crypto.randomUUID());
  const dirs: RunDirs = {
    scratchDir: join(dir, "scratch"),
    denoDir: join(dir, "deno"),
    auditFile: join(dir, "audit", "permissions.jsonl"),
    importMap: paths.importMap,
    lockFile: sandboxLockFile(paths.denoDir),
    // What the run's imports resolve to, besides its own code: the SDK and approved drivers.
    boundary: spec.boundary.mechanism === null ? undefined : {
      os: spec.boundary,
      sdkDir: paths.sdkDir,
      npmDir: join(paths.denoDir, "npm"),
      viewImportMap: paths.viewImportMap,
    },
  };
  try {
    await Deno.mkdir(dirs.scratchDir, { recursive: true, mode: 0o700 });
    await Deno.mkdir(join(dir, "audit"), { mode: 0o700 });
    const template = await versionTemplate(
      join(spec.entry, ".."),
      spec.entry,
      paths.importMap,
      paths.denoDir,
      dirs.boundary,
    );
    if (template) await copyCaches(template, dirs.denoDir);
    await linkModuleCache(paths.denoDir, dirs.denoDir, { mountPoint: dirs.boundary !== undefined });
    const launch = buildRunLaunch(
      {
        net: spec.metadata.net,
        secrets: spec.metadata.secrets,
        connectionHosts: spec.connectionHosts,
      },
      {
        ...dirs,
        entry: spec.entry,
        daemonPorts: spec.daemonPorts,
        daemonAddresses: spec.daemonAddresses,
        limits: spec.limits,
      },
      spec.secretValues,
    );
    const child = new SandboxChild({ launch, cwd: dirs.scratchDir, limits: spec.limits });
    return { dir, dirs, launch, child, warm };
  } catch (err) {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
    throw err;
  }
}

/** Kills a child that never served a run and removes its folder. */
export async function discardRunChild(run: RunChild): Promise<void> {
  await run.child.discard();
  await Deno.remove(run.dir, { recursive: true }).catch(() => {});
}
