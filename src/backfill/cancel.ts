/**
 * `tau backfills cancel ID`: no instant of it starts any more, and its queued runs are
 * cancelled. Runs already running finish (stopping one half-way through its writes is rarely
 * what a cancelled backfill wants); their outcomes are still recorded on their instants.
 */
import { TauError } from "../core/errors.ts";
import type { BackfillRecord, RunRecord, Store } from "../store/mod.ts";

export interface CancelDeps {
  store: Store;
  /** Cancels one queued run (the RunManager's). */
  cancelRun(runId: string): Promise<RunRecord>;
}

/** Cancels a running backfill; returns it with the runs it cancelled. */
export async function cancelBackfill(
  deps: CancelDeps,
  id: string,
): Promise<BackfillRecord & { cancelled_runs: string[] }> {
  const backfill = await requireBackfill(deps.store, id);
  if (backfill.status !== "running") {
    throw new TauError("conflict", `Backfill ${id} already ended with status ${backfill.status}`, {
      hint: `nothing to cancel; see it with tau backfills show ${id}`,
      details: { status: backfill.status },
    });
  }
  await deps.store.backfills.finish(id, "cancelled", new Date());
  const cancelled: string[] = [];
  for (const instant of await deps.store.backfills.instants(id, { states: ["active"] })) {
    if (instant.run_status !== "queued" || !instant.run_id) continue;
    try {
      await deps.cancelRun(instant.run_id);
      cancelled.push(instant.run_id);
    } catch (err) {
      // It started or ended meanwhile: it finishes as any running run of the backfill does.
      if (!(err instanceof TauError && err.code === "conflict")) throw err;
    }
  }
  return { ...await requireBackfill(deps.store, id), cancelled_runs: cancelled };
}

/** The backfill, or a `not_found` that says where to look. */
export async function requireBackfill(store: Store, id: string): Promise<BackfillRecord> {
  const backfill = await store.backfills.get(id);
  if (!backfill) {
    throw new TauError("not_found", `No backfill ${id}`, {
      hint: "list backfills with tau backfills",
    });
  }
  return backfill;
}
