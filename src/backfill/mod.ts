/** Backfills: runs of a pipeline for each scheduled instant of a past range (`tau backfill`). */
export {
  type BackfillPlan,
  type BackfillRequest,
  createBackfill,
  MAX_CONCURRENCY,
} from "./create.ts";
export { cancelBackfill, requireBackfill } from "./cancel.ts";
export { BackfillDriver, type BackfillDriverDeps, MAX_INSTANT_ATTEMPTS } from "./driver.ts";
export { instantsIn, MAX_INSTANTS, parseInstant } from "./instants.ts";
export { backfillView } from "./view.ts";
