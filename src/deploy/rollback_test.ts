import { assert, assertEquals } from "../../tests/helpers/assert.ts";
import type { PipelineVersion } from "../store/mod.ts";
import { rollbackTarget } from "./rollback.ts";

function version(n: number, promoted_at: string | null, source = "deploy"): PipelineVersion {
  return {
    pipeline: "p",
    version: n,
    hash: `h${n}`,
    filename: "p.ts",
    code: "",
    metadata: {},
    created_at: "2026-01-01T00:00:00.000Z",
    source: source as PipelineVersion["source"],
    parent: n > 1 ? n - 1 : null,
    heal_id: null,
    promoted_at,
  };
}

const T = (s: number) => `2026-01-01T00:00:0${s}.000Z`;
const refused = (code: string) => (err: Error & { code?: string }) => err.code === code;

Deno.test("rollback goes to the version current before this one, skipping candidates", () => {
  const versions = [version(1, T(1)), version(2, T(2)), version(3, null, "heal")];
  assertEquals(rollbackTarget("p", versions, 2).version, 1);
  // A candidate promoted after a later deploy: the version current before it is v4, by time.
  const later = [version(1, T(1)), version(2, T(5), "heal"), version(3, null), version(4, T(3))];
  assertEquals(rollbackTarget("p", later, 2).version, 4);
  // Same instant: the higher version was made (and became current) later.
  assertEquals(
    rollbackTarget("p", [version(1, T(1)), version(2, T(1)), version(3, T(1))], 3).version,
    2,
  );
});

Deno.test("rollback refuses what it cannot do, saying why", () => {
  assert.throws(
    () => rollbackTarget("p", [version(1, T(1)), version(2, null, "heal")], 1),
    refused("conflict"),
  );
  assert.throws(
    () => rollbackTarget("p", [version(1, T(1)), version(2, null, "heal")], 1, 2),
    refused("conflict"),
  );
  assert.throws(() => rollbackTarget("p", [version(1, T(1))], 1, 7), refused("not_found"));
  assertEquals(rollbackTarget("p", [version(1, T(1)), version(2, T(2))], 2, 1).version, 1);
});
