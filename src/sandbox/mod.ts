/**
 * The sandbox a run executes in: its permission set and launch (permissions.ts), its DENO_DIR
 * (deno_dir.ts), the OS boundary (os_boundary.ts), the child from spawn to exit with its
 * watchdog (child.ts, watchdog.ts), and what it accessed (audit.ts).
 */
export { type AccessRecord, readAuditLog, summarizeAudit } from "./audit.ts";
export {
  type ChildExit,
  type ChildWatch,
  type EndReason,
  SandboxChild,
  STOP_GRACE_MS,
  type StopLine,
} from "./child.ts";
export { copyCaches, linkModuleCache, versionTemplate, type ViewBoundary } from "./deno_dir.ts";
export { diskUsage } from "./disk_usage.ts";
export type { RunLimits } from "./limits.ts";
export { checkGrantedHosts, neverAllowed } from "./network.ts";
export { sandboxLockFile } from "./npm_cache.ts";
export { layersReport, type OsBoundary } from "./os_boundary.ts";
export { buildRunLaunch, type PermissionSet, type RunLaunch } from "./permissions.ts";
export { type LimitKind, treeRssKb, type Usage, Watchdog } from "./watchdog.ts";
