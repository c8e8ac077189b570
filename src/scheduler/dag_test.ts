import { assertEquals, assertMatch } from "../../tests/helpers/assert.ts";
import { TauError } from "../core/errors.ts";
import { buildGraph, checkDependencies, findCycle, levels, mermaid, reachable } from "./dag.ts";

const diamond = [
  { pipeline: "b", upstream: "a" },
  { pipeline: "c", upstream: "a" },
  { pipeline: "d", upstream: "b" },
  { pipeline: "d", upstream: "c" },
  { pipeline: "e", upstream: "c" },
];

Deno.test("levels, reachability and mermaid of a diamond", () => {
  const g = buildGraph(["a", "b", "c", "d", "e", "lone"], diamond);
  assertEquals(levels(g), [["a", "lone"], ["b", "c"], ["d", "e"]]);
  assertEquals(reachable(g, "c", "downstream"), ["d", "e"]);
  assertEquals(reachable(g, "d", "upstream"), ["a", "b", "c"]);
  assertEquals(findCycle(g), null);
  assertMatch(mermaid(g), /a --> b\n/);
});

Deno.test("a cycle is refused with its path; unknown upstreams are named", () => {
  const refuse = (fn: () => void) => {
    try {
      fn();
    } catch (err) {
      if (err instanceof TauError) return err;
    }
    throw new Error("expected a TauError");
  };
  const cycle = refuse(() => checkDependencies("a", ["d"], ["a", "b", "c", "d", "e"], diamond));
  assertEquals(cycle.code, "dependency_cycle");
  assertEquals((cycle.details as { cycle: string[] }).cycle, ["a", "b", "d", "a"]);
  assertMatch(cycle.message, /a → b → d → a/);
  const self = refuse(() => checkDependencies("x", ["x"], ["x"], []));
  assertEquals((self.details as { cycle: string[] }).cycle, ["x", "x"]);
  const unknown = refuse(() => checkDependencies("d", ["b", "zz"], ["b", "d"], []));
  assertEquals(unknown.code, "unknown_dependency");
  assertMatch(unknown.message, /d depends on zz, which is not deployed/);
  checkDependencies("f", ["d", "e"], ["a", "b", "c", "d", "e"], diamond); // fine
});
