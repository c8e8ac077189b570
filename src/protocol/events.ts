/**
 * Schemas of the events a run's child prints (see sdk/_channel.ts). Everything here is
 * untrusted input: strings are length-capped and unknown event types are rejected.
 */
import { z } from "zod";

const MAX_TEXT = 64 * 1024;
const text = (max = MAX_TEXT) => z.string().transform((s) => s.length > max ? s.slice(0, max) : s);
const timestamp = z.string().max(40);
const count = z.number().int().min(0).nullable();
const jsonRecord = z.record(z.string(), z.unknown());

export const childErrorSchema = z.object({
  name: text(200),
  message: text(),
  stack: text().nullable(),
  step: text(200).nullable(),
});
export type ChildError = z.infer<typeof childErrorSchema>;

export const eventSchema = z.discriminatedUnion("type", [
  z.object({
    type: z.literal("log"),
    ts: timestamp,
    level: z.enum(["debug", "info", "warn", "error"]),
    step: text(200).nullable(),
    message: text(),
  }),
  z.object({
    type: z.literal("step_start"),
    seq: z.number().int().min(0).max(100_000),
    name: text(200),
    ts: timestamp,
  }),
  z.object({
    type: z.literal("step_end"),
    seq: z.number().int().min(0).max(100_000),
    name: text(200),
    status: z.enum(["success", "failed"]),
    ts: timestamp,
    duration_ms: z.number().min(0),
    rows_in: count,
    rows_out: count,
    metadata: jsonRecord,
    error: childErrorSchema.optional(),
  }),
  z.object({ type: z.literal("result"), ts: timestamp, value: z.unknown() }),
  z.object({ type: z.literal("error"), error: childErrorSchema }),
  z.object({ type: z.literal("describe"), config: z.unknown() }),
  z.object({
    type: z.literal("request"),
    id: z.number().int().min(1),
    op: z.string().max(100),
    payload: z.record(z.string(), z.unknown()),
  }),
]);

export type ChildEvent = z.infer<typeof eventSchema>;
