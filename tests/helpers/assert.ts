/** Assertions from node:assert (JSR's @std/assert is not reachable from here). */
import assert from "node:assert/strict";

export function assertEquals<T>(actual: unknown, expected: T, message?: string): void {
  if (message === undefined) assert.deepStrictEqual(actual, expected);
  else assert.deepStrictEqual(actual, expected, message);
}

export function assertMatch(actual: string, pattern: RegExp, message?: string): void {
  if (message === undefined) assert.match(actual, pattern);
  else assert.match(actual, pattern, message);
}

export { assert };
