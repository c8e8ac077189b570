import { assertEquals } from "../../tests/helpers/assert.ts";
import {
  effectiveLimits,
  limitsAboveCeiling,
  NO_DECLARED_LIMITS,
  type RunLimits,
} from "./limits.ts";

const defaults: RunLimits = {
  timeout_ms: 60_000,
  heap_mb: 512,
  memory_mb: 1024,
  cpu_s: 600,
  disk_mb: 1024,
  files: 100_000,
  output_bytes: 10 * 1024 * 1024,
  request_bytes: 1024 ** 3,
  events: 100_000,
  threads: 64,
};
const ceiling: RunLimits = { ...defaults, memory_mb: 2048, heap_mb: 1024, timeout_ms: 120_000 };

Deno.test("undeclared limits take the defaults; declared ones are capped at the ceiling", () => {
  assertEquals(effectiveLimits(NO_DECLARED_LIMITS, 30_000, defaults, ceiling), {
    ...defaults,
    timeout_ms: 30_000,
  });
  const limits = effectiveLimits(
    { ...NO_DECLARED_LIMITS, memory_mb: 4096, heap_mb: 900, output_mb: 1 },
    999_999,
    defaults,
    ceiling,
  );
  assertEquals(limits.memory_mb, 2048);
  assertEquals(limits.heap_mb, 900);
  assertEquals(limits.output_bytes, 1024 * 1024);
  assertEquals(limits.timeout_ms, 120_000);
});

Deno.test("request bytes are declared in MiB and capped; metadata without them takes the default", () => {
  const declared = effectiveLimits(
    { ...NO_DECLARED_LIMITS, request_mb: 5 },
    1000,
    defaults,
    ceiling,
  );
  assertEquals(declared.request_bytes, 5 * 1024 * 1024);
  const { request_mb: _, ...stored } = NO_DECLARED_LIMITS;
  assertEquals(effectiveLimits(stored, 1000, defaults, ceiling).request_bytes, 1024 ** 3);
  assertEquals(
    limitsAboveCeiling({ ...NO_DECLARED_LIMITS, request_mb: 2048 }, null, ceiling)
      .map((i) => i.field),
    ["limits.requestMb"],
  );
});

Deno.test("the heap never exceeds the process memory limit", () => {
  const limits = effectiveLimits(
    { ...NO_DECLARED_LIMITS, memory_mb: 256 },
    1000,
    defaults,
    ceiling,
  );
  assertEquals([limits.memory_mb, limits.heap_mb], [256, 256]);
});

Deno.test("deploy names every declared limit above the ceiling", () => {
  const issues = limitsAboveCeiling(
    { ...NO_DECLARED_LIMITS, memory_mb: 4096, events: 10 },
    200_000,
    ceiling,
  );
  assertEquals(issues.map((i) => i.field), ["limits.memoryMb", "timeout"]);
  assertEquals(
    issues[0]?.message,
    "4096 exceeds the daemon's ceiling of 2048 ([sandbox.ceiling] memory_mb)",
  );
});
