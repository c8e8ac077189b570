/** The run columns both store engines share: what `updateRun` may set, and which hold JSON. */
import type { RunPatch } from "./types.ts";

/** The only columns `updateRun` may set, in a fixed order (one cached statement per key set). */
export const PATCH_COLUMNS = [
  "status",
  "attempt",
  "started_at",
  "finished_at",
  "duration_ms",
  "result",
  "error",
  "permissions",
  "attempts",
  "pid",
  "sandbox",
  "access",
  "worker_id",
  "lease_expires_at",
  "max_attempts",
] as const satisfies readonly (keyof RunPatch)[];
export const JSON_COLUMNS: ReadonlySet<string> = new Set([
  "result",
  "error",
  "permissions",
  "attempts",
  "sandbox",
  "access",
]);
