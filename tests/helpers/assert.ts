/** Assertions from node:assert (JSR's @std/assert is not reachable from here). */
import assert from "node:assert/strict";

export const assertEquals: <T>(
  actual: unknown,
  expected: T,
  message?: string,
) => asserts actual is T = assert.deepStrictEqual;
export const assertMatch = (actual: string, pattern: RegExp, message?: string) =>
  assert.match(actual, pattern, message);
export const assert_ = assert.ok;
export { assert };
