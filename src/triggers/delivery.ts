/**
 * What a trigger delivery must be besides signed: a bounded body holding one JSON object, and an
 * optional, bounded event id. Each check throws the error the sender gets.
 */
import { TauError } from "../core/errors.ts";
import type { Json } from "../store/mod.ts";
import { jsonDepthViolation, MAX_JSON_DEPTH } from "../../sdk/_limits.ts";
import { MAX_PARAMS_BYTES } from "../api/pipeline_runs.ts";

/** Largest body accepted, refused with 413 before it is read further or parsed: 64 KiB. */
export const MAX_TRIGGER_BODY_BYTES = 64 * 1024;

/** The optional header that makes retries of one event one run. */
export const EVENT_ID_HEADER = "Tau-Event-Id";

/** Longest event id. */
export const MAX_EVENT_ID_CHARS = 200;

/** Letters, digits and `. _ : / + = @ -`: UUIDs, `evt_…`, GitHub delivery ids, URNs. */
const EVENT_ID = /^[A-Za-z0-9._:\/+=@-]+$/;

/** How long a delivery's event id and signature are remembered: 7 days. */
export const DELIVERY_RETENTION_MS = 7 * 24 * 3600 * 1000;

export const DOCS_HINT = "see docs/triggers.md";

/** The event id header's value, null when absent; a malformed one is refused. */
export function parseEventId(value: string | undefined): string | null {
  if (value === undefined) return null;
  if (value.length < 1 || value.length > MAX_EVENT_ID_CHARS || !EVENT_ID.test(value)) {
    throw new TauError(
      "invalid_request",
      `${EVENT_ID_HEADER} must be 1 to ${MAX_EVENT_ID_CHARS} letters, digits or . _ : / + = @ -`,
      { hint: `send the same id with every retry of one event, or leave it out; ${DOCS_HINT}` },
    );
  }
  return value;
}

/**
 * The body as the run's `ctx.params.event`: UTF-8 JSON, an object, at most 63 levels deep, and
 * within the params bound once re-encoded.
 */
export function parseEvent(body: Uint8Array): Record<string, Json> {
  let event: unknown;
  try {
    event = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(body));
  } catch {
    throw new TauError("invalid_request", "The trigger body is not valid UTF-8 JSON", {
      hint: `send one JSON object, e.g. {"order_id": 42}; ${DOCS_HINT}`,
    });
  }
  if (event === null || typeof event !== "object" || Array.isArray(event)) {
    throw new TauError("invalid_request", "The trigger body must be a JSON object", {
      hint: 'wrap other values, e.g. {"items": [1, 2]}; the run reads it as ctx.params.event',
    });
  }
  // It is nested one level deeper in the run's params ({ event: … }).
  const tooDeep = jsonDepthViolation(event, MAX_JSON_DEPTH - 1);
  if (tooDeep) {
    throw new TauError("invalid_params", `The trigger body is ${tooDeep}`, {
      hint: `send at most ${MAX_JSON_DEPTH - 1} levels of nesting`,
    });
  }
  // Re-encoded it may grow (`1e9` is `1000000000`): the run's params keep their own bound.
  const bytes = new TextEncoder().encode(JSON.stringify({ event })).length;
  if (bytes > MAX_PARAMS_BYTES) {
    throw new TauError(
      "payload_too_large",
      `The trigger body is ${bytes} bytes as the run's params; at most ${MAX_PARAMS_BYTES} are allowed`,
      { hint: "send references (ids, dates, paths) and let the run fetch the data" },
    );
  }
  return event as Record<string, Json>;
}

/** A new trigger secret: `tau_trg_` and 256 random bits as hex. The whole string is the key. */
export function generateTriggerSecret(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  return `tau_trg_${Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("")}`;
}
