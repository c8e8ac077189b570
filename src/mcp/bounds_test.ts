import { assert, assertEquals } from "../../tests/helpers/assert.ts";
import { TauError } from "../core/errors.ts";
import { bounded, fitPrefix, MAX_RESULT_BYTES } from "./bounds.ts";

const size = (value: unknown) => new TextEncoder().encode(JSON.stringify(value)).length;
const lines = (n: number) =>
  Array.from({ length: n }, (_, i) => ({ seq: i, message: "x".repeat(90) }));

Deno.test("fitPrefix keeps the longest prefix that fits, reserve included", () => {
  const items = lines(2000);
  const wrap = (page: unknown[]) => ({ run_id: "r", logs: page });
  const kept = fitPrefix(items, wrap);
  assert.ok(size(wrap(kept)) <= MAX_RESULT_BYTES);
  assert.ok(
    size(wrap(items.slice(0, kept.length + 1))) > MAX_RESULT_BYTES,
    "one more would not fit",
  );
  assertEquals(kept[0], items[0]);
  const reserved = fitPrefix(items, wrap, 5000);
  assert.ok(reserved.length < kept.length && size(wrap(reserved)) <= MAX_RESULT_BYTES - 5000);
  assertEquals(fitPrefix(lines(3), wrap), lines(3));
});

Deno.test("bounded: a run record keeps its newest log lines; anything else too large fails", () => {
  const small = { status: "success", logs: lines(3) };
  assertEquals(bounded(small, "ask for less"), small);
  const run = bounded({ status: "success", logs: lines(2000) }, "ask for less");
  const kept = run.logs as { seq: number }[];
  assertEquals(run.logs_truncated, true);
  assertEquals(kept.at(-1)?.seq, 1999, "the newest lines");
  assert.ok(size(run) <= MAX_RESULT_BYTES);
  try {
    bounded({ code: "x".repeat(MAX_RESULT_BYTES) }, "ask for less");
    throw new Error("expected payload_too_large");
  } catch (err) {
    assert.ok(err instanceof TauError);
    assertEquals([err.code, err.hint], ["payload_too_large", "ask for less"]);
  }
});
