/** Rules both stores apply to heals. */
import { TauError } from "../core/errors.ts";

/** What an interrupted heal's record says (`record.error`). */
export const HEAL_INTERRUPTED = {
  code: "interrupted",
  message: "The daemon running this heal stopped before the heal ended",
  hint: "heal again with tau heal NAME --auto; a candidate it left stays a candidate",
} as const;

/** A second running heal of one pipeline (the store's unique index refused it). */
export function healUnderWay(pipeline: string, cause: unknown): TauError {
  return new TauError("conflict", `A heal of ${pipeline} is already under way`, {
    hint: `wait for it to end, then see it with tau heals ${pipeline}`,
    cause,
  });
}
