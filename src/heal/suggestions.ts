/**
 * Machine-readable next actions for a classified failure. Each names exactly what to change
 * (the host:port denied, the secret, the limit with its current and suggested value, the line).
 */
import type { RunError, RunRecord } from "../store/mod.ts";
import { TRANSIENT } from "./classify.ts";
import type { DiagnosisClass, Suggestion } from "./types.ts";

/** The limit a limit kind refers to: the pipeline config key and the stored limits field. */
export const LIMIT_OF: Record<string, { key: string; field: string; unit?: number }> = {
  memory_limit: { key: "memoryMb", field: "memory_mb" },
  cpu_limit: { key: "cpuSeconds", field: "cpu_s" },
  disk_limit: { key: "diskMb", field: "disk_mb" },
  audit_limit: { key: "diskMb", field: "disk_mb" },
  output_limit: { key: "outputMb", field: "output_bytes", unit: 1024 * 1024 },
  request_limit: { key: "requestMb", field: "request_bytes", unit: 1024 * 1024 },
  event_limit: { key: "events", field: "events" },
};

/** A V8 heap overflow is a memory_limit of the heap, not of resident memory. */
function limitOf(error: RunError) {
  if (error.kind === "memory_limit" && /heap/i.test(error.message)) {
    return { key: "heapMb", field: "heap_mb" };
  }
  return LIMIT_OF[error.kind];
}

/** The run's limits as it ran (its permission record). */
export function runLimits(run: RunRecord): Record<string, number> {
  const limits = (run.permissions as { limits?: Record<string, number> } | null)?.limits;
  return limits && typeof limits === "object" ? limits : {};
}

/** `Cannot read secret NAME: …` and similar: the name the message quotes. */
function nameIn(message: string, pattern: RegExp): string | null {
  return pattern.exec(message)?.[1] ?? null;
}

export interface SuggestionContext {
  error: RunError;
  class: DiagnosisClass;
  run: RunRecord;
  location: { file: string; line: number; column: number } | null;
  /** The version the last successful run ran, when it is older than the failed run's. */
  rollbackTo: number | null;
}

export function suggest(c: SuggestionContext): Suggestion[] {
  const out: Suggestion[] = [];
  const { error } = c;
  const fix = () => {
    if (c.location) out.push({ action: "fix_code", ...c.location });
  };
  switch (c.class) {
    case "permission_denied":
      if (error.kind === "undeclared_connection") {
        const name = nameIn(error.message, /^Cannot use connection (\S+):/);
        if (name) out.push({ action: "declare_connection", name });
      } else if (error.permission === "net" && error.target && !neverReachable(error)) {
        out.push({ action: "declare_net", host: error.target });
      } else if (error.permission === "env" && error.target && !error.target.startsWith("NODE_")) {
        out.push({ action: "declare_secret", name: error.target });
      } else fix();
      break;
    case "secret_missing": {
      const name = nameIn(error.message, /^Cannot read secret (\S+):/);
      if (name) {
        out.push(
          error.kind === "secret_not_set"
            ? { action: "set_secret", name }
            : { action: "declare_secret", name },
        );
      }
      break;
    }
    case "timeout": {
      const current = runLimits(c.run).timeout_ms ?? null;
      out.push({
        action: "raise_timeout",
        current_ms: current,
        suggested_ms: current ? current * 2 : 60 * 60 * 1000,
      });
      break;
    }
    case "resource_limit": {
      const limit = limitOf(error);
      if (!limit) {
        fix();
        break;
      }
      const raw = runLimits(c.run)[limit.field];
      const current = raw === undefined ? null : Math.round(raw / (limit.unit ?? 1));
      out.push({
        action: "raise_limit",
        limit: limit.key,
        current,
        suggested: current === null ? null : current * 2,
      });
      break;
    }
    case "connection":
      if (error.kind === "unknown_connection") {
        out.push({
          action: "define_connection",
          name: nameIn(error.message, /^Unknown connection ([\w-]+):/),
        });
      }
      break;
    case "upstream_failed": {
      const m = /upstream (\S+) ended \w+ \(run ([^)]+)\)/.exec(error.message);
      if (m) out.push({ action: "fix_upstream", pipeline: m[1]!, run_id: m[2]! });
      break;
    }
    case "schema_drift":
    case "data_quality":
    case "syntax_or_type":
    case "code_bug":
    case "auth":
      fix();
      break;
  }
  if (c.rollbackTo !== null && c.class !== "upstream_failed") {
    out.push({ action: "rollback", to_version: c.rollbackTo });
  }
  if (TRANSIENT.has(c.class) && error.kind !== "unknown_connection") out.push({ action: "retry" });
  return out;
}

/** The daemon's port and the cloud metadata service: declaring them does not help. */
function neverReachable(error: RunError): boolean {
  return /which no run may reach|declaring it does not help/.test(
    `${error.message} ${error.hint ?? ""}`,
  );
}
