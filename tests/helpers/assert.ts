/** Assertions from node:assert (JSR's @std/assert is not reachable from here). */
import nodeAssert from "node:assert/strict";

/**
 * node:assert, with `ok`'s message allowed to be undefined again: once an npm package's types
 * bring in @types/node (the Anthropic SDK's do), its stricter `ok` overloads would apply.
 */
interface Assert extends Omit<typeof nodeAssert, "ok"> {
  (value: unknown, message?: string | Error): asserts value;
  ok(value: unknown, message?: string | Error): asserts value;
}
const assert: Assert = nodeAssert as Assert;

export function assertEquals<T>(actual: unknown, expected: T, message?: string): void {
  if (message === undefined) assert.deepStrictEqual(actual, expected);
  else assert.deepStrictEqual(actual, expected, message);
}

export function assertMatch(actual: string, pattern: RegExp, message?: string): void {
  if (message === undefined) assert.match(actual, pattern);
  else assert.match(actual, pattern, message);
}

export { assert };
