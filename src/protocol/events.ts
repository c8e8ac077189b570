/**
 * Schemas of the events a run's child prints (see sdk/_channel.ts). Everything here is
 * untrusted input. Strings are bounded only by the line cap here: they are clipped after
 * redaction, where they are stored, so that a secret cannot hide across a cut. Times are never
 * taken from the child: the parent stamps every event when it reads it.
 */
import { z } from "zod";
import { errorDetailsSchema } from "./error_details.ts";
import type { SentEvent } from "../../sdk/_events.ts";

const count = z.number().int().min(0).nullable();
const jsonRecord = z.record(z.string(), z.unknown());

export const childErrorSchema = z.object({
  /** The stable code of one of the SDK's own errors (sdk/context.ts `describeError`). */
  code: z.string().max(64).optional().catch(undefined),
  name: z.string(),
  message: z.string(),
  stack: z.string().nullable(),
  step: z.string().nullable(),
  details: errorDetailsSchema.optional().catch(undefined),
});
export type ChildError = z.infer<typeof childErrorSchema>;

export const eventSchema = z.discriminatedUnion("type", [
  z.object({
    type: z.literal("log"),
    level: z.enum(["debug", "info", "warn", "error"]),
    step: z.string().nullable(),
    message: z.string(),
  }),
  z.object({
    type: z.literal("step_start"),
    seq: z.number().int().min(0).max(100_000),
    name: z.string(),
  }),
  z.object({
    type: z.literal("step_end"),
    seq: z.number().int().min(0).max(100_000),
    name: z.string(),
    status: z.enum(["success", "failed"]),
    rows_in: count,
    rows_out: count,
    metadata: jsonRecord,
    error: childErrorSchema.optional(),
  }),
  z.object({ type: z.literal("result"), value: z.unknown() }),
  z.object({ type: z.literal("error"), error: childErrorSchema }),
  z.object({ type: z.literal("describe"), config: z.unknown() }),
  z.object({
    type: z.literal("request"),
    id: z.number().int().min(1),
    op: z.string().max(100),
    payload: jsonRecord,
  }),
]);

export type ChildEvent = z.infer<typeof eventSchema>;

// Every event the SDK can send is one these schemas accept: a change to either side that breaks
// this fails the type-check, not a run.
const _sdkEventsFit: (event: SentEvent) => ChildEvent = (event) => event;

/** The part of an event that may nest without bound, checked against MAX_JSON_DEPTH. */
export function nestedPart(event: ChildEvent): unknown {
  switch (event.type) {
    case "step_end":
      return event.metadata;
    case "result":
      return event.value;
    case "describe":
      return event.config;
    case "request":
      return event.payload;
    default:
      return null;
  }
}
