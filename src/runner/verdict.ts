/**
 * The status of an attempt, decided from what the parent saw: why it ended the child (if it
 * did), how the process exited, the run's validated final events, and the watchdog's readings.
 * Pure, so every combination is table-tested; the child's own claims never decide alone.
 */
import type { ChildError } from "../protocol/events.ts";
import type { Json, RunError, RunStatus } from "../store/mod.ts";
import type { RunLimits } from "../sandbox/limits.ts";
import type { LimitKind, Usage } from "../sandbox/watchdog.ts";
import type { EndReason } from "../sandbox/child.ts";
import { systemErrors } from "./classify.ts";

export type { EndReason };

export interface VerdictInput {
  ended: { reason: EndReason; detail: string } | null;
  /**
   * The run was told its timeout is near (its ctx.signal aborted): unless it still succeeded,
   * it ended because of the timeout, whatever it reported on its way out.
   */
  stopped?: "timeout" | null;
  exit: { code: number; signal: string | null };
  /** The first valid result event. */
  result: { value: Json } | null;
  /** The first valid error event (after a result too: the exit code decides, not the order). */
  error: ChildError | null;
  /** Why a result line was refused (too large, too deep, malformed), if one was. */
  resultRefused: string | null;
  limits: RunLimits;
  /** Peak usage, and whether the CPU time could have reached the limit by the end. */
  usage: Usage | null;
  cpuCouldReach: (seconds: number) => boolean;
  /** The redacted end of stderr. */
  stderr: string;
  classify: (error: ChildError) => RunError;
}

export interface Verdict {
  status: RunStatus;
  error: RunError | null;
  result: Json;
}

// bubblewrap reports a child killed by signal N as exit code 128 + N, as a shell does.
const SIGXCPU_CODE = 128 + 24;
const SIGXFSZ_CODE = 128 + 25;

export function verdict(input: VerdictInput): Verdict {
  const failed = (error: RunError): Verdict => ({ status: "failed", error, result: null });
  const { exit, limits } = input;
  const succeeded = exit.code === 0 && input.result !== null && !input.error;
  const ended = input.ended ??
    (input.stopped && !succeeded && !rlimitKind(input)
      ? { reason: input.stopped, detail: "" }
      : null);
  if (ended) {
    switch (ended.reason) {
      case "cancelled":
        return { status: "cancelled", error: systemErrors.cancelled(), result: null };
      case "timeout":
        return {
          status: "timed_out",
          error: systemErrors.timeout(limits.timeout_ms),
          result: null,
        };
      case "output_limit":
        return failed(systemErrors.outputLimit(limits.output_bytes));
      case "internal":
        return failed(systemErrors.internal(ended.detail));
      default:
        return failed(systemErrors.limit(ended.reason, ended.detail));
    }
  }
  const rlimit = rlimitKind(input);
  if (rlimit) return failed(systemErrors.limit(rlimit, ""));
  if (succeeded && input.result) {
    return { status: "success", error: null, result: input.result.value };
  }
  if (input.error) return failed(input.classify(input.error));
  if (input.resultRefused) return failed(systemErrors.resultRefused(input.resultRefused));
  if (exit.code === 0) return failed(systemErrors.noResult(exit.code));
  return failed(systemErrors.crashed(exit.code, exit.signal, input.stderr));
}

/**
 * An rlimit that ended the process: SIGXCPU or SIGXFSZ. Through bubblewrap these arrive as exit
 * codes a run could also produce with `Deno.exit()`, so those count only when the readings
 * show the limit was really reached.
 */
function rlimitKind(input: VerdictInput): LimitKind | null {
  const { exit, limits, usage } = input;
  const nearly = (value: number | undefined, max: number) => (value ?? 0) >= max * 0.99;
  if (exit.signal === "SIGXCPU") return "cpu_limit";
  if (exit.code === SIGXCPU_CODE && exit.signal === null && input.cpuCouldReach(limits.cpu_s)) {
    return "cpu_limit";
  }
  if (exit.signal === "SIGXFSZ" || (exit.code === SIGXFSZ_CODE && exit.signal === null)) {
    if (nearly(usage?.audit_mb, limits.disk_mb)) return "audit_limit";
    if (exit.signal === "SIGXFSZ" || nearly(usage?.disk_mb, limits.disk_mb)) return "disk_limit";
  }
  return null;
}
