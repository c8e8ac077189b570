/** What the API's routes are given: the daemon's parts, shared by every route file. */
import type { TauPaths } from "../config/paths.ts";
import type { TauConfig } from "../config/config.ts";
import type { Store } from "../store/mod.ts";
import type { RunManager } from "../runner/run_manager.ts";
import type { ConnectionRegistry } from "../connections/registry.ts";
import type { OsBoundary } from "../sandbox/os_boundary.ts";
import type { WebhookService } from "../webhooks/mod.ts";

export interface ApiDeps {
  store: Store;
  runs: RunManager;
  /** Told when a schedule changes, so it is re-read at once. */
  scheduler: { poke(): void };
  paths: TauPaths;
  config: TauConfig;
  /**
   * SHA-256 hex digests of the admin keys (`$TAU_HOME/api_key`, `[auth] api_key`); the keys
   * themselves are not kept. Other keys are looked up in the store.
   */
  adminKeyDigests: readonly string[];
  /** With the tau.toml they came from, which `tau status` names. */
  connections: ConnectionRegistry;
  /** `dashboardPort`: 0 when this process serves no dashboard. */
  daemon: { pid: number; host: string; port: number; dashboardPort: number; startedAt: Date };
  /** Layer 3 as detected at start. @default {none} */
  boundary?: OsBoundary;
  /** What this process does (`taud --role`). @default {all three} */
  roles?: string[];
  /** Workers' lease, for telling a lost worker from a live one. */
  leaseMs?: number;
  /** Told when a backfill is created, so its first runs start at once. */
  backfills?: { poke(): void };
  /** The webhook loop (null or absent: this process sends no webhooks). */
  webhooks?: WebhookService | null;
}
