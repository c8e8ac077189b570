import { assertEquals } from "../../tests/helpers/assert.ts";
import { admit, type Waiting } from "./admission.ts";

const queue = (spec: [string, number, boolean?][]): Waiting[] =>
  spec.flatMap(([pipeline, n, exclusive]) =>
    Array.from({ length: n }, (_, i) => ({
      run_id: `${pipeline}${i + 1}`,
      pipeline,
      exclusive: exclusive ?? false,
    }))
  );
const none = { maxConcurrent: 4, concurrencyOf: () => null };

Deno.test("the global limit is honoured and pipelines take turns", () => {
  const queued = queue([["a", 20, false], ["b", 2, false], ["c", 1, false]]);
  assertEquals(admit(queued, new Map(), none), ["a1", "b1", "c1", "a2"]);
  assertEquals(admit(queued, new Map([["a", 3]]), none), ["a1"]);
  assertEquals(admit(queued, new Map([["x", 4]]), none), []);
});

Deno.test("per-pipeline concurrency and exclusive runs", () => {
  const limits = { maxConcurrent: 10, concurrencyOf: (p: string) => (p === "a" ? 2 : null) };
  assertEquals(admit(queue([["a", 5], ["b", 1]]), new Map([["a", 1]]), limits), ["a1", "b1"]);
  const exclusive = queue([["q", 2, true]]);
  assertEquals(admit(exclusive, new Map([["q", 1]]), none), []);
  assertEquals(admit(exclusive, new Map(), none), ["q1"]);
});
