import { assertEquals } from "../../tests/helpers/assert.ts";
import { copyJson } from "./json_copy.ts";

Deno.test("copyJson replaces what is nested deeper than maxDepth, at any depth", () => {
  let deep: unknown = "leaf";
  for (let i = 0; i < 100_000; i++) deep = [deep];
  let copy = copyJson(deep, { maxDepth: 3, tooDeep: "…" });
  assertEquals(copy, [[["…"]]]);
  copy = copyJson({ a: { b: 1 }, s: "x" }, { maxDepth: 3, string: (s) => s.toUpperCase() });
  assertEquals(copy, { A: { B: 1 }, S: "X" });
});
