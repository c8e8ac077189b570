/** Trigger secret rows as records, for both engines (sqlite/triggers.ts, postgres/triggers.ts). */
import type { StoredTriggerSecret, TriggerSecretRecord } from "./trigger_types.ts";

type Row = Record<string, unknown> | undefined;

/** What may be shown of a secret: its pipeline and age, never the secret. */
export function toTriggerSecret(row: Row): TriggerSecretRecord | null {
  return row ? { pipeline: String(row.pipeline), created_at: String(row.created_at) } : null;
}

/** The secret itself, for verifying a delivery. */
export function toStoredTriggerSecret(row: Row): StoredTriggerSecret | null {
  return row ? { ...toTriggerSecret(row)!, secret: String(row.secret) } : null;
}
