/** What differs between a failed run and the last successful run of its pipeline. */
import { diffLines } from "diff";
import type { PipelineVersion, RunRecord, StepRecord } from "../store/mod.ts";
import type { PermissionSet } from "../sandbox/permissions.ts";
import {
  permissionDiff,
  type PermissionSummary,
  permissionSummary,
} from "../deploy/version_diff.ts";
import type { ChangedSinceSuccess, StepChange } from "./types.ts";

/** Lines added and removed by the line diff `tau diff` shows (jsdiff), as a size summary. */
export function lineChanges(before: string, after: string) {
  let added = 0;
  let removed = 0;
  for (const part of diffLines(before, after)) {
    if (part.added) added += part.count;
    else if (part.removed) removed += part.count;
  }
  return { lines_added: added, lines_removed: removed };
}

/**
 * What a run was granted, from the permission set stored with it (the one it actually got, hosts
 * of its connections included); null for a run that never got one.
 */
function runGrants(run: RunRecord, version: PipelineVersion | null): PermissionSummary | null {
  const permissions = run.permissions as unknown as PermissionSet | null;
  if (!version || !permissions?.net || !permissions.env || !permissions.limits) return null;
  return permissionSummary(permissions, version);
}

function stepChanges(failed: StepRecord[], success: StepRecord[]): StepChange[] {
  const names = [...new Set([...success, ...failed].map((s) => s.name))];
  return names.map((name) => {
    const f = failed.find((s) => s.name === name);
    const s = success.find((s) => s.name === name);
    return {
      step: name,
      duration_ms: { failed: f?.duration_ms ?? null, success: s?.duration_ms ?? null },
      rows_in: { failed: f?.rows_in ?? null, success: s?.rows_in ?? null },
      rows_out: { failed: f?.rows_out ?? null, success: s?.rows_out ?? null },
    };
  });
}

export function changedSinceSuccess(
  failed: { run: RunRecord; steps: StepRecord[]; version: PipelineVersion | null },
  success: { run: RunRecord; steps: StepRecord[]; version: PipelineVersion | null },
): ChangedSinceSuccess {
  const changed = failed.run.version !== success.run.version;
  const code = changed && failed.version && success.version
    ? lineChanges(success.version.code, failed.version.code)
    : null;
  const before = runGrants(success.run, success.version);
  const after = runGrants(failed.run, failed.version);
  return {
    last_success_run_id: success.run.run_id,
    version: { failed: failed.run.version, success: success.run.version, changed },
    code,
    params: {
      failed: failed.run.params,
      success: success.run.params,
      changed: JSON.stringify(failed.run.params) !== JSON.stringify(success.run.params),
    },
    permissions: before && after ? permissionDiff(before, after) : null,
    duration_ms: { failed: failed.run.duration_ms, success: success.run.duration_ms },
    steps: stepChanges(failed.steps, success.steps),
  };
}
