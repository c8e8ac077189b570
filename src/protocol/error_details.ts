/**
 * The schema of `details` on a child's error: what a driver said beyond its message (see
 * sdk/_error_details.ts). Untrusted like the rest of the event, so every field is optional and
 * a malformed one is dropped rather than costing the run its error; unknown fields are dropped
 * too. The shape is fixed and shallow, so its depth is bounded; its texts are clipped where
 * they are stored, after redaction (src/runner/error_hints.ts).
 */
import { z } from "zod";

const text = z.string().optional().catch(undefined);
const texts = (max: number) => z.array(z.string()).max(max).optional().catch(undefined);
const int = z.number().int();

export const errorDetailsSchema = z.object({
  source: z.enum(["postgres", "mysql", "duckdb", "fetch", "network", "schema"]),
  code: text,
  errno: int.optional().catch(undefined),
  sql_state: text,
  sql_message: text,
  detail: text,
  hint: text,
  position: z.object({ offset: int, line: int, column: int, excerpt: z.string() })
    .optional().catch(undefined),
  statement: text,
  schema: text,
  table: text,
  column: text,
  constraint: text,
  candidates: texts(20),
  suggestion: text,
  causes: texts(8),
  reason: text,
  target: text,
}).transform((details) =>
  // Fields dropped by `catch` are left out rather than kept as undefined.
  Object.fromEntries(Object.entries(details).filter(([, v]) => v !== undefined)) as typeof details
);

export type ErrorDetails = z.infer<typeof errorDetailsSchema>;
