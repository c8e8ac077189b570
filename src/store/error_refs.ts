/**
 * Each error of a run is stored whole once. The run's `error` is its final attempt's error;
 * that attempt's entry in `attempts[]`, and every step that failed with its attempt's error,
 * keep `{kind, message, ref}` instead (the message's first line), where `ref` names the field
 * of the run record holding the whole error: `error`, or `attempts[N].error` for an earlier
 * attempt (N is the index).
 * A record stored before references existed holds whole copies, which read the same.
 */
import type { AttemptRecord, RunError, StepRecord } from "./types.ts";

/** Longest message a reference keeps: the first line, cut here. */
const REF_MESSAGE_CHARS = 200;

/** A reference to an error stored whole at `ref`: its kind and its message's first line. */
export function errorRef(error: RunError, ref: string): RunError {
  const first = error.message.split("\n", 1)[0] ?? "";
  const message = first.length > REF_MESSAGE_CHARS
    ? `${first.slice(0, REF_MESSAGE_CHARS)}…`
    : first;
  return { kind: error.kind, message, ref };
}

/** Whether two whole errors are the same failure (what a step and its attempt report alike). */
function sameError(a: RunError | null, b: RunError | null): boolean {
  return !!a && !!b && !a.ref && !b.ref && a.kind === b.kind && a.message === b.message &&
    (a.stack ?? null) === (b.stack ?? null);
}

/** The final attempt's error becomes a reference when it is the run's `error`. */
export function referAttempts(
  error: RunError | null,
  attempts: AttemptRecord[],
): AttemptRecord[] {
  const last = attempts.at(-1);
  if (!error || !last || !sameError(last.error, error)) return attempts;
  return [...attempts.slice(0, -1), { ...last, error: errorRef(error, "error") }];
}

/**
 * The steps whose error is their attempt's, with that error replaced by a reference to where
 * it is stored whole, given the run's `error` and its attempts before `referAttempts`. Steps
 * that need no change are left out.
 */
export function referSteps(
  error: RunError | null,
  attempts: AttemptRecord[],
  steps: StepRecord[],
): StepRecord[] {
  const changed: StepRecord[] = [];
  for (const step of steps) {
    const index = attempts.findIndex((a) => a.attempt === step.attempt);
    const own = attempts[index]?.error ?? null;
    if (!sameError(step.error, own)) continue;
    const final = index === attempts.length - 1 && sameError(own, error);
    changed.push({
      ...step,
      error: errorRef(own as RunError, final ? "error" : `attempts[${index}].error`),
    });
  }
  return changed;
}
