/** Stores what a run attempt's {@link LineageRecorder} saw, once the attempt has ended. */
import { errorText } from "../core/errors.ts";
import type { Store } from "../store/mod.ts";
import { type LineageRecorder, MAX_ENTRIES } from "./recorder.ts";

/**
 * Replaces the run's lineage with the attempt's (redacted: a table or step name never carries a
 * secret handed to the run). Lineage is informational: a failure to store it does not change
 * the run's verdict, it is written to the run's log (`log`) instead of failing silently.
 */
export async function saveRunLineage(
  store: Store,
  run: { runId: string; pipeline: string; attempt: number; redact: <T>(value: T) => T },
  recorder: LineageRecorder,
  log: (message: string) => void,
): Promise<void> {
  const entries = recorder.entries();
  // Most runs touch no table: a first attempt then has nothing to store or to replace.
  if (entries.length === 0 && run.attempt <= 1) return;
  if (recorder.truncated) {
    log(`lineage: only the first ${MAX_ENTRIES} tables the run touched were recorded`);
  }
  try {
    await store.saveLineage(run.runId, run.pipeline, run.redact(entries));
  } catch (err) {
    log(`lineage: storing the tables the run read and wrote failed: ${errorText(err)}`);
  }
}
