/** One backfill as `tau backfills show` prints it: its record, and where its instants are. */
import type { Store } from "../store/mod.ts";
import { requireBackfill } from "./cancel.ts";

/** Failed instants listed at most (the counts have them all). */
const MAX_LISTED = 100;

export async function backfillView(store: Store, id: string) {
  const backfill = await requireBackfill(store, id);
  const [active, failed, next] = await Promise.all([
    store.backfills.instants(id, { states: ["active"] }),
    store.backfills.instants(id, { states: ["failed"], limit: MAX_LISTED + 1 }),
    store.backfills.instants(id, { states: ["pending"], limit: 1 }),
  ]);
  const brief = (i: (typeof active)[number]) => ({
    scheduled_at: i.scheduled_at,
    run_id: i.run_id,
    run_status: i.run_status,
    ...(i.run_error_kind ? { error_kind: i.run_error_kind } : {}),
  });
  return {
    ...backfill,
    next_instant: next[0]?.scheduled_at ?? null,
    active: active.map(brief),
    failed: failed.slice(0, MAX_LISTED).map(brief),
    failed_truncated: failed.length > MAX_LISTED,
  };
}
