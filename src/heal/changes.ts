/** What differs between a failed run and the last successful run of its pipeline. */
import { diffLines } from "diff";
import type { Json, PipelineVersion, RunRecord, StepRecord } from "../store/mod.ts";
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
 * The declarations that grant access or resources, one string each (`net:api.x.com:443`,
 * `secret:TOKEN`, `connection:warehouse`, `limits.memory_mb:512`).
 */
export function grants(metadata: Record<string, Json> | undefined): string[] {
  if (!metadata) return [];
  const list = (key: string) => Array.isArray(metadata[key]) ? metadata[key] as Json[] : [];
  const out = [
    ...list("net").map((h) => `net:${h}`),
    ...list("secrets").map((s) => `secret:${s}`),
    ...list("connections").map((c) => `connection:${c}`),
  ];
  const limits = metadata.limits;
  if (limits && typeof limits === "object" && !Array.isArray(limits)) {
    for (const [key, value] of Object.entries(limits)) {
      if (value !== null) out.push(`limits.${key}:${value}`);
    }
  }
  if (metadata.timeout_ms !== null && metadata.timeout_ms !== undefined) {
    out.push(`timeout_ms:${metadata.timeout_ms}`);
  }
  return out;
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
  const before = new Set(grants(success.version?.metadata));
  const after = new Set(grants(failed.version?.metadata));
  return {
    last_success_run_id: success.run.run_id,
    version: { failed: failed.run.version, success: success.run.version, changed },
    code,
    params: {
      failed: failed.run.params,
      success: success.run.params,
      changed: JSON.stringify(failed.run.params) !== JSON.stringify(success.run.params),
    },
    permissions: {
      added: [...after].filter((g) => !before.has(g)),
      removed: [...before].filter((g) => !after.has(g)),
    },
    duration_ms: { failed: failed.run.duration_ms, success: success.run.duration_ms },
    steps: stepChanges(failed.steps, success.steps),
  };
}
