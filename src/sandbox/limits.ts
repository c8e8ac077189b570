/**
 * Resource limits of a run. A pipeline may ask for its own limits (`limits: {...}` in its
 * config); what it does not ask for comes from `[sandbox]`, and nothing may exceed the daemon's
 * `[sandbox.ceiling]`. Pure, so `tau show` prints exactly what a run will get.
 */
import type { TauConfig } from "../config/config.ts";
import { parseDuration } from "../core/duration.ts";

/** Every limit a run is held to; exceeding one ends the run with the matching error kind. */
export interface RunLimits {
  /** Wall clock (`timeout`). */
  timeout_ms: number;
  /** V8 old-space heap (`memory_limit` when exceeded). */
  heap_mb: number;
  /** Resident memory of the whole process tree, ArrayBuffers included (`memory_limit`). */
  memory_mb: number;
  /** CPU time of all threads (`cpu_limit`). */
  cpu_s: number;
  /**
   * Bytes in the scratch folder and what the run added to its DENO_DIR (`disk_limit`); also,
   * separately, the size of Deno's permission audit log of the run (`audit_limit`).
   */
  disk_mb: number;
  /** Files and folders in the scratch folder and the run's DENO_DIR (`disk_limit`). */
  files: number;
  /** Bytes printed on stdout and stderr (`output_limit`). */
  output_bytes: number;
  /** Bytes of requests to the trusted side, such as rows sent to DuckDB (`request_limit`). */
  request_bytes: number;
  /** Protocol events (logs, steps, requests) sent to the trusted side (`event_limit`). */
  events: number;
  /** Threads of the process tree: Workers included (`process_limit`). */
  threads: number;
}

/** What a pipeline may declare (`limits` in its config, stored snake_case); null: default. */
export interface DeclaredLimits {
  heap_mb: number | null;
  memory_mb: number | null;
  cpu_s: number | null;
  disk_mb: number | null;
  output_mb: number | null;
  /** Absent in metadata stored before it existed. */
  request_mb?: number | null;
  events: number | null;
}

export const NO_DECLARED_LIMITS: DeclaredLimits = {
  heap_mb: null,
  memory_mb: null,
  cpu_s: null,
  disk_mb: null,
  output_mb: null,
  request_mb: null,
  events: null,
};

const MIB = 1024 * 1024;

/** The limits a run gets: declared values (or defaults), each capped at its ceiling. */
export function effectiveLimits(
  declared: DeclaredLimits,
  timeoutMs: number,
  defaults: RunLimits,
  ceiling: RunLimits,
): RunLimits {
  const pick = (value: number | null | undefined, key: keyof RunLimits) =>
    Math.min(value ?? defaults[key], ceiling[key]);
  const memory = pick(declared.memory_mb, "memory_mb");
  return {
    timeout_ms: Math.min(timeoutMs, ceiling.timeout_ms),
    // A heap larger than the process may hold would only hide which limit was hit.
    heap_mb: Math.min(pick(declared.heap_mb, "heap_mb"), memory),
    memory_mb: memory,
    cpu_s: pick(declared.cpu_s, "cpu_s"),
    disk_mb: pick(declared.disk_mb, "disk_mb"),
    files: Math.min(defaults.files, ceiling.files),
    output_bytes: pick(mibToBytes(declared.output_mb), "output_bytes"),
    request_bytes: pick(mibToBytes(declared.request_mb), "request_bytes"),
    events: pick(declared.events, "events"),
    threads: Math.min(defaults.threads, ceiling.threads),
  };
}

function mibToBytes(mib: number | null | undefined): number | null {
  return mib === null || mib === undefined ? null : mib * MIB;
}

/** Declared limits above the ceiling, as `field: message` (deploy refuses them). */
export function limitsAboveCeiling(
  declared: DeclaredLimits,
  timeoutMs: number | null,
  ceiling: RunLimits,
): { field: string; message: string }[] {
  const checks: [string, number | null | undefined, number, string][] = [
    ["limits.heapMb", declared.heap_mb, ceiling.heap_mb, "heap_mb"],
    ["limits.memoryMb", declared.memory_mb, ceiling.memory_mb, "memory_mb"],
    ["limits.cpuSeconds", declared.cpu_s, ceiling.cpu_s, "cpu_seconds"],
    ["limits.diskMb", declared.disk_mb, ceiling.disk_mb, "disk_mb"],
    ["limits.outputMb", mibToBytes(declared.output_mb), ceiling.output_bytes, "max_output_bytes"],
    [
      "limits.requestMb",
      mibToBytes(declared.request_mb),
      ceiling.request_bytes,
      "max_request_bytes",
    ],
    ["limits.events", declared.events, ceiling.events, "max_events"],
    ["timeout", timeoutMs, ceiling.timeout_ms, "timeout"],
  ];
  return checks.filter(([, value, max]) => value !== null && value !== undefined && value > max)
    .map((
      [field, value, max, key],
    ) => ({
      field,
      message: `${value} exceeds the daemon's ceiling of ${max} ([sandbox.ceiling] ${key})`,
    }));
}

/** The `[sandbox]` section as default and ceiling limits (the default timeout: `[scheduler]`). */
export function configuredLimits(config: TauConfig): { defaults: RunLimits; ceiling: RunLimits } {
  const { sandbox, scheduler } = config;
  const c = sandbox.ceiling;
  return {
    defaults: {
      timeout_ms: parseDuration(scheduler.timeout) as number,
      heap_mb: sandbox.heap_mb,
      memory_mb: sandbox.memory_mb,
      cpu_s: sandbox.cpu_seconds,
      disk_mb: sandbox.disk_mb,
      files: sandbox.max_files,
      output_bytes: sandbox.max_output_bytes,
      request_bytes: sandbox.max_request_bytes,
      events: sandbox.max_events,
      threads: sandbox.max_threads,
    },
    ceiling: {
      timeout_ms: parseDuration(c.timeout) as number,
      heap_mb: c.heap_mb,
      memory_mb: c.memory_mb,
      cpu_s: c.cpu_seconds,
      disk_mb: c.disk_mb,
      files: sandbox.max_files,
      output_bytes: c.max_output_bytes,
      request_bytes: c.max_request_bytes,
      events: c.max_events,
      threads: sandbox.max_threads,
    },
  };
}
