/**
 * What a version grants and how two versions differ: the permission summary `tau versions`
 * shows, and the code and permission diff of `tau diff`. Pure functions of stored data.
 */
import { createTwoFilesPatch, FILE_HEADERS_ONLY } from "diff";
import type { PermissionSet } from "../sandbox/permissions.ts";
import type { RunLimits } from "../sandbox/limits.ts";
import type { PipelineVersion } from "../store/mod.ts";

/** The grants of a version, from the permission set a run of it gets (as `tau show` shows). */
export interface PermissionSummary {
  /** Exact `host:port`s, connection hosts included. */
  hosts: string[];
  /** Secret names (never values). */
  secrets: string[];
  connections: string[];
  /** The effective limits: the pipeline's, else `[sandbox]`, capped by the ceiling. */
  limits: RunLimits;
}

export interface PermissionChanges {
  hosts: string[];
  secrets: string[];
  connections: string[];
  /** Limits whose value differs: in `added` the new value, in `removed` the old one. */
  limits: Partial<RunLimits>;
}

export interface PermissionDiff {
  added: PermissionChanges;
  removed: PermissionChanges;
}

export function permissionSummary(
  permissions: PermissionSet,
  version: PipelineVersion,
): PermissionSummary {
  const connections = version.metadata.connections;
  return {
    hosts: permissions.net,
    secrets: permissions.env,
    connections: Array.isArray(connections) ? connections.map(String).sort() : [],
    limits: permissions.limits,
  };
}

const only = (a: string[], b: string[]) => a.filter((x) => !b.includes(x));

/** What `to` grants that `from` does not (`added`), and the reverse (`removed`). */
export function permissionDiff(from: PermissionSummary, to: PermissionSummary): PermissionDiff {
  const added: PermissionChanges["limits"] = {};
  const removed: PermissionChanges["limits"] = {};
  for (const key of Object.keys(to.limits) as (keyof RunLimits)[]) {
    if (to.limits[key] === from.limits[key]) continue;
    added[key] = to.limits[key];
    removed[key] = from.limits[key];
  }
  return {
    added: {
      hosts: only(to.hosts, from.hosts),
      secrets: only(to.secrets, from.secrets),
      connections: only(to.connections, from.connections),
      limits: added,
    },
    removed: {
      hosts: only(from.hosts, to.hosts),
      secrets: only(from.secrets, to.secrets),
      connections: only(from.connections, to.connections),
      limits: removed,
    },
  };
}

/**
 * Whether `to` grants anything `from` does not: a new host, secret or connection, or a higher
 * limit. (A lower limit, or fewer grants, narrows.)
 */
export function widens(from: PermissionSummary, to: PermissionSummary): boolean {
  const { added } = permissionDiff(from, to);
  const higher = (Object.keys(added.limits) as (keyof RunLimits)[])
    .some((key) => (to.limits[key] ?? 0) > (from.limits[key] ?? 0));
  return added.hosts.length + added.secrets.length + added.connections.length > 0 || higher;
}

/** The unified diff of two versions' code, each file named with its version. */
export function codeDiff(from: PipelineVersion, to: PipelineVersion): string {
  return createTwoFilesPatch(
    `v${from.version}/${from.filename}`,
    `v${to.version}/${to.filename}`,
    from.code,
    to.code,
    undefined,
    undefined,
    { context: 3, headerOptions: FILE_HEADERS_ONLY },
  );
}
