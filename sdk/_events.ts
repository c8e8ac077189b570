/**
 * The events a run's child sends the trusted side, one per protocol line (see _channel.ts). Types
 * only: the SDK builds them, and the trusted side's schemas (src/protocol/events.ts) accept
 * exactly these shapes, which a compile-time check there holds them to.
 */
import type { ErrorDetails } from "./_error_details.ts";

/** An error as it crosses the channel; the trusted side classifies it. */
export interface SentError {
  /** The stable code of one of Tau's own errors (`undeclared_secret`, `schema_change`…). */
  code?: string;
  name: string;
  message: string;
  stack: string | null;
  step: string | null;
  details?: ErrorDetails;
}

/** A log line's level. */
export type SentLevel = "debug" | "info" | "warn" | "error";

export type SentEvent =
  | {
    type: "log";
    level: SentLevel;
    step: string | null;
    message: string;
  }
  | { type: "step_start"; seq: number; name: string }
  | {
    type: "step_end";
    seq: number;
    name: string;
    status: "success" | "failed";
    rows_in: number | null;
    rows_out: number | null;
    metadata: Record<string, unknown>;
    error?: SentError;
  }
  | { type: "result"; value: unknown }
  | { type: "error"; error: SentError }
  | { type: "describe"; config: unknown }
  | { type: "request"; id: number; op: string; payload: Record<string, unknown> };
