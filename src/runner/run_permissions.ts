/** The permission set shown to users for a pipeline or a run (no secret values, ever). */
import { join } from "node:path";
import type { TauPaths } from "../config/paths.ts";
import type { PipelineMetadata } from "../metadata/schema.ts";
import { type PermissionSet, runFlags } from "../sandbox/permissions.ts";
import { sandboxLockFile } from "../sandbox/npm_cache.ts";
import type { Connection } from "../connections/registry.ts";
import { connectionHosts } from "../connections/resolve.ts";
import type { RunLimits } from "../sandbox/limits.ts";
import type { OsBoundary } from "../sandbox/os_boundary.ts";

export interface ShownPermissions extends PermissionSet {
  /** The exact `deno` arguments a run is started with. */
  flags: string[];
}

export function showPermissions(
  paths: TauPaths,
  metadata: PipelineMetadata,
  options: {
    daemonPorts: number[];
    daemonAddresses?: string[];
    limits: RunLimits;
    entry?: string;
    /** Named connections from tau.toml: declared ones grant their hosts. */
    connections?: Map<string, Connection>;
    /** Layer 3: inside it a run sees its files at neutral paths (RUN_VIEW). */
    boundary?: OsBoundary;
  },
): ShownPermissions {
  // Each child gets a folder of its own, named when it starts (maybe before its run exists).
  const runDir = join(paths.runs, "<child>");
  const launch = runFlags(
    {
      net: metadata.net,
      secrets: metadata.secrets,
      connectionHosts: connectionHosts(metadata.connections, options.connections ?? new Map()),
    },
    {
      scratchDir: join(runDir, "scratch"),
      denoDir: join(runDir, "deno"),
      importMap: paths.importMap,
      lockFile: sandboxLockFile(paths.denoDir),
      entry: options.entry ?? join(paths.code, metadata.name, "v<version>", "entry.ts"),
      daemonPorts: options.daemonPorts,
      daemonAddresses: options.daemonAddresses,
      limits: options.limits,
      boundary: options.boundary?.mechanism
        ? {
          os: options.boundary,
          sdkDir: paths.sdkDir,
          npmDir: join(paths.denoDir, "npm"),
          viewImportMap: paths.viewImportMap,
        }
        : undefined,
    },
  );
  return { ...launch.permissions, flags: launch.args };
}
