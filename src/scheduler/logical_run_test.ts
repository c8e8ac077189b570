import { assertEquals } from "../../tests/helpers/assert.ts";
import type { RunRecord, RunStatus } from "../store/mod.ts";
import { buildGraph } from "./dag.ts";
import { logicalRunState } from "./logical_run.ts";

// a -> b -> d, a -> c
const graph = buildGraph(["a", "b", "c", "d", "lone"], [
  { pipeline: "b", upstream: "a" },
  { pipeline: "c", upstream: "a" },
  { pipeline: "d", upstream: "b" },
]);

function run(pipeline: string, status: RunStatus, downstream = true): RunRecord {
  return { pipeline, status, downstream } as RunRecord;
}

Deno.test("a logical run is complete once every run ended and the cascade reached every node", () => {
  const cases: [string, RunRecord[], { complete: boolean; pending: string[] }][] = [
    ["the root still runs", [run("a", "running")], { complete: false, pending: [] }],
    ["the root ended, nothing triggered yet", [run("a", "success")], {
      complete: false,
      pending: ["b", "c"],
    }],
    ["one branch runs", [run("a", "success"), run("b", "running"), run("c", "success")], {
      complete: false,
      pending: [],
    }],
    ["b ended, d not created yet", [run("a", "success"), run("b", "success"), run("c", "failed")], {
      complete: false,
      pending: ["d"],
    }],
    [
      "all ended, every node reached",
      [run("a", "failed"), run("b", "skipped"), run("c", "skipped"), run("d", "skipped")],
      { complete: true, pending: [] },
    ],
    ["a leaf alone", [run("lone", "success")], { complete: true, pending: [] }],
    ["a run without --downstream triggers nothing", [run("a", "success", false)], {
      complete: true,
      pending: [],
    }],
  ];
  for (const [what, runs, expected] of cases) {
    assertEquals(logicalRunState(graph, runs), expected, what);
  }
});
