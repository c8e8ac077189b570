import { assert, assertEquals } from "../../tests/helpers/assert.ts";
import { classifyChildError } from "./classify.ts";

const context = { codeUrl: "file:///tau/code/pipeline.ts", filename: "orders.ts" };

Deno.test("an exception's hint names the place in the author's file only when there is one", () => {
  const inFile = classifyChildError({
    name: "Error",
    message: "boom",
    stack:
      "Error: boom\n    at fn (file:///tau/code/pipeline.ts:7:9)\n    at file:///tau/sdk/x.ts:1:1",
    step: null,
  }, context);
  assertEquals(inFile.location, { file: "orders.ts", line: 7, column: 9 });
  assert.ok(inFile.hint?.includes("orders.ts:7:9"), String(inFile.hint));
  assert.ok(!inFile.stack?.includes("/tau/code/"), inFile.stack ?? "");

  for (const name of ["Error", "TypeError"]) {
    const nowhere = classifyChildError({
      name,
      message: "x is undefined",
      stack: `${name}: x is undefined\n    at ext:core/1:1`,
      step: null,
    }, context);
    assertEquals(nowhere.location, null);
    assert.ok(!/location|at orders|:\d+:\d+/.test(nowhere.hint ?? ""), String(nowhere.hint));
  }
});
