import { assertEquals } from "../../tests/helpers/assert.ts";
import { verdict, type VerdictInput } from "./verdict.ts";
import { DEFAULT_LIMITS } from "../sandbox/permissions.ts";

const base: VerdictInput = {
  ended: null,
  exit: { code: 0, signal: null },
  result: null,
  error: null,
  resultRefused: null,
  limits: { ...DEFAULT_LIMITS, cpu_s: 10, disk_mb: 32 },
  usage: { memory_mb: 40, threads: 8, cpu_s: 0.1, disk_mb: 0.1, files: 2, audit_mb: 0 },
  cpuCouldReach: () => false,
  stderr: "",
  classify: (e) => ({ kind: "exception", message: e.message }),
};
const thrown = { name: "Error", message: "the real failure", stack: null, step: null };

/** [what happened, input changes, expected status, expected error kind] */
const table: [string, Partial<VerdictInput>, string, string | null][] = [
  ["a result and exit 0", { result: { value: 1 } }, "success", null],
  ["exit 0 without a result", {}, "failed", "invalid_output"],
  ["a thrown error", { exit: { code: 1, signal: null }, error: thrown }, "failed", "exception"],
  [
    "an early result, then an error: the error is the truth",
    { result: { value: "forged" }, error: thrown, exit: { code: 1, signal: null } },
    "failed",
    "exception",
  ],
  [
    "a result even with exit 0 does not beat an error event",
    { result: { value: "x" }, error: thrown },
    "failed",
    "exception",
  ],
  [
    "a refused result names the refusal",
    { resultRefused: "it is larger than the 1 MiB a result may be" },
    "failed",
    "invalid_output",
  ],
  ["exit 1 and nothing said", { exit: { code: 1, signal: null } }, "failed", "crashed"],
  ["timed out", { ended: { reason: "timeout", detail: "" } }, "timed_out", "timeout"],
  ["cancelled", { ended: { reason: "cancelled", detail: "" } }, "cancelled", "cancelled"],
  [
    "told its timeout is near, it gave up: the timeout is the truth",
    { stopped: "timeout", exit: { code: 1, signal: null }, error: thrown },
    "timed_out",
    "timeout",
  ],
  [
    "told its timeout is near, it still finished in time",
    { stopped: "timeout", result: { value: 1 } },
    "success",
    null,
  ],
  [
    "the supervisor's own failure",
    { ended: { reason: "internal", detail: "store down" }, result: { value: 1 } },
    "failed",
    "internal",
  ],
  ["SIGXCPU itself", { exit: { code: 0, signal: "SIGXCPU" } }, "failed", "cpu_limit"],
  [
    "exit 152 through bubblewrap after real CPU use",
    { exit: { code: 152, signal: null }, cpuCouldReach: () => true },
    "failed",
    "cpu_limit",
  ],
  ["Deno.exit(152) with no CPU used", { exit: { code: 152, signal: null } }, "failed", "crashed"],
  [
    "exit 153 with the scratch folder full",
    {
      exit: { code: 153, signal: null },
      usage: { ...base.usage!, disk_mb: 32 },
    },
    "failed",
    "disk_limit",
  ],
  [
    "exit 153 with the audit log full",
    { exit: { code: 153, signal: null }, usage: { ...base.usage!, audit_mb: 32 } },
    "failed",
    "audit_limit",
  ],
  [
    "Deno.exit(153) with nothing written",
    { exit: { code: 153, signal: null } },
    "failed",
    "crashed",
  ],
];

for (const [name, changes, status, kind] of table) {
  Deno.test(`verdict: ${name}`, () => {
    const decided = verdict({ ...base, ...changes });
    assertEquals([decided.status, decided.error?.kind ?? null], [status, kind]);
  });
}

Deno.test("verdict: the refused result's reason is in the message", () => {
  const decided = verdict({ ...base, resultRefused: "nested deeper than 64 levels" });
  assertEquals(
    decided.error?.message,
    "The run's result was refused: nested deeper than 64 levels",
  );
});
