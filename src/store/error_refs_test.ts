import { assertEquals } from "../../tests/helpers/assert.ts";
import { referAttempts, referSteps } from "./error_refs.ts";
import type { AttemptRecord, RunError, StepRecord } from "./types.ts";

const boom = (n: number): RunError => ({
  kind: "exception",
  message: `boom ${n}\nLINE 1: select nme`,
  step: "load",
  stack: `Error: boom ${n}\n    at fn (p.ts:3:1)`,
  location: { file: "p.ts", line: 3, column: 1 },
  hint: "read the message",
});

function attempt(n: number, error: RunError | null): AttemptRecord {
  return {
    attempt: n,
    status: error ? "failed" : "success",
    started_at: null,
    finished_at: null,
    duration_ms: null,
    error,
  };
}

function step(n: number, seq: number, error: RunError | null): StepRecord {
  return {
    run_id: "r",
    attempt: n,
    seq,
    name: "load",
    status: error ? "failed" : "success",
    started_at: "2024-01-01T00:00:00.000Z",
    finished_at: null,
    duration_ms: null,
    rows_in: null,
    rows_out: null,
    metadata: {},
    error,
  };
}

Deno.test("the final attempt refers to the run's error; an earlier one keeps its own", () => {
  const attempts = [attempt(1, boom(1)), attempt(2, boom(2))];
  assertEquals(referAttempts(boom(2), attempts), [
    attempt(1, boom(1)),
    attempt(2, { kind: "exception", message: "boom 2", ref: "error" }),
  ]);
  // A run error that is not the last attempt's (cancelled between attempts) refers to nothing.
  const cancelled: RunError = { kind: "cancelled", message: "The run was cancelled" };
  assertEquals(referAttempts(cancelled, attempts), attempts);
  assertEquals(referAttempts(null, [attempt(1, null)]), [attempt(1, null)]);
});

Deno.test("steps refer to their attempt's error where it is stored whole", () => {
  const attempts = [attempt(1, boom(1)), attempt(2, boom(2))];
  const other = { ...boom(9), step: "extract" };
  const steps = [
    step(1, 0, boom(1)),
    step(2, 0, null),
    step(2, 1, other), // caught by the pipeline: a failure of its own, kept whole
    step(2, 2, boom(2)),
  ];
  assertEquals(referSteps(boom(2), attempts, steps), [
    step(1, 0, { kind: "exception", message: "boom 1", ref: "attempts[0].error" }),
    step(2, 2, { kind: "exception", message: "boom 2", ref: "error" }),
  ]);
  // Once referred, nothing changes again.
  const referred = referSteps(boom(2), attempts, steps);
  assertEquals(referSteps(boom(2), referAttempts(boom(2), attempts), referred), []);
});

Deno.test("a reference keeps the first line of a long message, cut", () => {
  const long: RunError = { kind: "exception", message: `${"x".repeat(300)}\nsecond line` };
  const [ref] = referAttempts(long, [attempt(1, long)]);
  assertEquals(ref?.error, { kind: "exception", message: `${"x".repeat(200)}…`, ref: "error" });
});
