/**
 * `tau rollback`: the code of an earlier version becomes current again as a new version
 * (source `rollback`, parent the version rolled back to), through every deploy check.
 */
import { TauError } from "../core/errors.ts";
import type { TauPaths } from "../config/paths.ts";
import type { Connection } from "../connections/registry.ts";
import type { RunLimits } from "../sandbox/limits.ts";
import { type PipelineVersion, requirePipeline, type Store } from "../store/mod.ts";
import { deployPipeline, type DeployResult } from "./deploy.ts";

/**
 * The version to roll back to: `to`, else the one that was current before the current one
 * (latest `promoted_at`). A candidate that was never promoted never counts, not even as `to`:
 * it never passed a replay (or was refused for widening permissions).
 */
export function rollbackTarget(
  name: string,
  versions: readonly PipelineVersion[],
  current: number,
  to?: number,
): PipelineVersion {
  const list = `list versions with tau versions ${name}`;
  if (to !== undefined) {
    const target = versions.find((v) => v.version === to);
    if (!target) {
      throw new TauError("not_found", `Pipeline ${name} has no version ${to}`, { hint: list });
    }
    if (target.promoted_at === null) {
      throw new TauError(
        "conflict",
        `Version ${to} of ${name} is a candidate that was never promoted`,
        {
          hint: `roll back to a version that was current (${list}), or deploy the file with ` +
            `tau deploy FILE`,
          details: { version: to, source: target.source },
        },
      );
    }
    return target;
  }
  const previous = versions
    .filter((v) => v.version !== current && v.promoted_at !== null)
    .sort((a, b) =>
      (a.promoted_at as string).localeCompare(b.promoted_at as string) || a.version - b.version
    )
    .at(-1);
  if (!previous) {
    throw new TauError("conflict", `Pipeline ${name} has no earlier version to roll back to`, {
      hint: `version ${current} is the only one that was ever current; deploy a fix with ` +
        `tau deploy FILE`,
      details: { current_version: current },
    });
  }
  return previous;
}

export interface RollbackResult extends DeployResult {
  rolled_back_to: number;
  previous_version: number;
}

/** Makes version `to` (default: the previous current one) current again as a new version. */
export async function rollbackPipeline(
  store: Store,
  paths: TauPaths,
  connections: Map<string, Connection>,
  name: string,
  options: { to?: number; ceiling?: RunLimits } = {},
): Promise<RollbackResult> {
  const pipeline = await requirePipeline(store, name);
  const versions = await store.listVersions(name);
  const target = rollbackTarget(name, versions, pipeline.current_version, options.to);
  const current = versions.find((v) => v.version === pipeline.current_version);
  if (current?.hash === target.hash) {
    throw new TauError(
      "conflict",
      `Version ${target.version} of ${name} has the current version's code already`,
      {
        hint: `the current version ${pipeline.current_version} runs this code; ` +
          `compare versions with tau diff ${name} A B`,
        details: { version: target.version, current_version: pipeline.current_version },
      },
    );
  }
  const deployed = await deployPipeline(store, paths, connections, {
    code: target.code,
    filename: target.filename,
    source_path: pipeline.source_path,
    name,
    source: "rollback",
    parent: target.version,
  }, options.ceiling);
  return {
    ...deployed,
    rolled_back_to: target.version,
    previous_version: pipeline.current_version,
  };
}
