import { assertEquals, assertMatch } from "../../tests/helpers/assert.ts";
import { DEFAULT_LIMITS } from "../sandbox/permissions.ts";
import type { PipelineVersion } from "../store/mod.ts";
import { codeDiff, permissionDiff, type PermissionSummary, widens } from "./version_diff.ts";

const base: PermissionSummary = {
  hosts: ["a.example:443"],
  secrets: ["TOKEN"],
  connections: ["warehouse"],
  limits: DEFAULT_LIMITS,
};

Deno.test("a permission diff lists grants and changed limits both ways", () => {
  const wider = {
    ...base,
    hosts: ["a.example:443", "b.example:443"],
    secrets: [],
    limits: { ...DEFAULT_LIMITS, memory_mb: 4096 },
  };
  assertEquals(permissionDiff(base, wider), {
    added: { hosts: ["b.example:443"], secrets: [], connections: [], limits: { memory_mb: 4096 } },
    removed: {
      hosts: [],
      secrets: ["TOKEN"],
      connections: [],
      limits: { memory_mb: DEFAULT_LIMITS.memory_mb },
    },
  });
  assertEquals(widens(base, wider), true);
  // Back from wider: the host and the memory go, but TOKEN comes back.
  assertEquals(widens(wider, base), true);
  assertEquals(widens(wider, { ...base, secrets: [] }), false);
});

Deno.test("widening: any new grant or higher limit; narrowing never", () => {
  assertEquals(widens(base, base), false);
  assertEquals(widens(base, { ...base, connections: ["warehouse", "crm"] }), true);
  assertEquals(widens(base, { ...base, secrets: ["TOKEN", "OTHER"] }), true);
  assertEquals(widens(base, { ...base, limits: { ...DEFAULT_LIMITS, events: 1 } }), false);
  assertEquals(widens(base, { ...base, limits: { ...DEFAULT_LIMITS, timeout_ms: 1e9 } }), true);
  assertEquals(widens(base, { ...base, hosts: [] }), false);
});

Deno.test("the code diff is a unified diff naming each version", () => {
  const v = (version: number, code: string) =>
    ({ version, filename: "p.ts", code }) as PipelineVersion;
  const diff = codeDiff(v(1, "a\nb\nc\n"), v(2, "a\nB\nc\n"));
  assertEquals(diff, "--- v1/p.ts\n+++ v2/p.ts\n@@ -1,3 +1,3 @@\n a\n-b\n+B\n c\n");
  assertMatch(codeDiff(v(1, "x\n"), v(1, "x\n")), /^--- v1\/p.ts\n\+\+\+ v1\/p.ts\n$/);
});
