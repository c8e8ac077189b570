/**
 * Records of external triggers (`POST /api/v1/pipelines/NAME/trigger`): a pipeline's trigger
 * secret, and the deliveries already turned into runs (what makes a retried or replayed
 * delivery a duplicate instead of a second run).
 */
import type { NewRun, RunRecord } from "./records.ts";

/** A pipeline's trigger secret as shown: whether one exists and since when, never the secret. */
export interface TriggerSecretRecord {
  pipeline: string;
  /** When the current secret was made (by create or by the latest rotation). */
  created_at: string;
}

/**
 * The secret itself, for verifying a delivery's HMAC only. It is a shared key (an HMAC key must
 * be recoverable), so it is stored as it is, like a webhook secret; the API prints it once.
 */
export interface StoredTriggerSecret extends TriggerSecretRecord {
  secret: string;
}

/** One verified delivery, recorded with the run it created (in one transaction). */
export interface TriggerDelivery {
  pipeline: string;
  /** The sender's `Tau-Event-Id`, when it sent one. */
  event_id: string | null;
  /** The delivery's verified signature (hex): the same signed bytes never make two runs. */
  signature: string;
  received_at: string;
  /** Deliveries received before this instant are forgotten first (the retention window). */
  forget_before: string;
  run: NewRun;
}

/** What recording a delivery did. */
export type TriggerOutcome =
  /** The delivery was new: its run was created. */
  | { duplicate: false; run: RunRecord }
  /**
   * A delivery with this event id, or these signed bytes, was recorded already: no run was
   * created. `run` is the first delivery's run, null when retention has deleted it since.
   */
  | { duplicate: true; run_id: string; run: RunRecord | null };
