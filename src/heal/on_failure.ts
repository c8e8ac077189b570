/**
 * Healing on failure: a run that ends failed (after its retries) of a pipeline whose `heal` is
 * `auto` (else `[ai] on_failure`) starts an auto heal that never widens permissions, at most one
 * at a time per pipeline and `[ai] max_heals_per_day` per pipeline.
 */
import { TauError } from "../core/errors.ts";
import type { RunRecord } from "../store/mod.ts";
import { openProvider } from "../ai/mod.ts";
import { autoHeal, type AutoHealDeps } from "./auto.ts";
import { isDiagnosable } from "./load.ts";

const DAY_MS = 24 * 60 * 60 * 1000;

/** Whether `run` calls for an auto heal now, and starts it (not awaited: it asks a model). */
export async function healOnFailure(
  deps: AutoHealDeps,
  run: RunRecord,
  log: (event: string, fields: Record<string, unknown>) => void,
  onPromoted: () => void,
): Promise<void> {
  const ai = deps.config.ai;
  // A replay's failure is the heal's own business, and a skipped run failed upstream.
  if (!ai || run.trigger === "heal" || run.status === "skipped" || !isDiagnosable(run)) return;
  // A failure of a version no longer current (a heal or deploy replaced it) needs no heal.
  const pipeline = await deps.store.getPipeline(run.pipeline);
  if (pipeline?.current_version !== run.version) return;
  const version = await deps.store.getVersion(run.pipeline, run.version);
  const declared = version?.metadata.heal;
  const mode = declared === "off" || declared === "diagnose" || declared === "auto"
    ? declared
    : ai.on_failure;
  if (mode !== "auto") return;
  const since = new Date(Date.now() - DAY_MS);
  const today = await deps.store.listHeals(run.pipeline, { since, limit: ai.max_heals_per_day });
  if (today.length >= ai.max_heals_per_day) {
    log("heal_skipped", {
      pipeline: run.pipeline,
      run_id: run.run_id,
      reason: `[ai] max_heals_per_day (${ai.max_heals_per_day}) reached`,
    });
    return;
  }
  openProvider(ai)
    .then((provider) =>
      autoHeal(deps, provider, ai.max_attempts, run.pipeline, { run_id: run.run_id })
    )
    .then((result) => {
      log("heal", {
        pipeline: run.pipeline,
        run_id: run.run_id,
        heal_id: result.heal_id,
        promoted: result.promoted,
        version: result.version,
      });
      if (result.promoted) onPromoted();
    })
    .catch((err) => {
      const skipped = err instanceof TauError && err.code === "conflict";
      log(skipped ? "heal_skipped" : "heal_error", {
        pipeline: run.pipeline,
        run_id: run.run_id,
        error: err instanceof TauError ? err.toJSON() : String(err),
      });
    });
}
