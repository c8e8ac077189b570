/**
 * Bounds of what crosses a run's channel. The SDK checks them before it sends, so an honest
 * pipeline gets a clear error where it went wrong; the trusted side enforces the same bounds on
 * every line, because a hostile pipeline can write to its channel directly.
 */

/** Longest line the trusted side reads from a run, prefix and newline included. */
export const MAX_LINE_CHARS = 1024 * 1024;

/** Deepest nesting of arrays and objects in a result, step metadata, request or params. */
export const MAX_JSON_DEPTH = 64;

/**
 * Why `value` is nested deeper than `maxDepth` levels of arrays and objects, or null when it is
 * not. Walks with its own stack (never recursion), so any depth is safe to check; stops at the
 * first level past the limit, so a cycle ends the walk as well.
 */
export function jsonDepthViolation(value: unknown, maxDepth = MAX_JSON_DEPTH): string | null {
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length > 0) {
    const [item, depth] = stack.pop()!;
    if (item === null || typeof item !== "object") continue;
    if (depth + 1 > maxDepth) return `nested deeper than ${maxDepth} levels`;
    for (const child of Object.values(item)) stack.push([child, depth + 1]);
  }
  return null;
}

/** Longest log message the trusted side stores (it cuts after redacting). */
export const STORED_LOG_CHARS = 64 * 1024;

/** Longest error message, and stack, the trusted side stores. */
export const STORED_ERROR_CHARS = 16 * 1024;

/**
 * The SDK cuts longer texts before sending them, so that their line fits the channel even when
 * JSON escaping makes them six times longer; but only well past what is stored, so that a
 * secret cut in two by the SDK lies beyond the stored part, never in it.
 */
export const SENT_LOG_CHARS = 2 * STORED_LOG_CHARS;
/** See {@link SENT_LOG_CHARS}. */
export const SENT_ERROR_CHARS = 4 * STORED_ERROR_CHARS;

/** Longest text in an error's `details` (a statement, a driver's hint) the trusted side stores. */
export const STORED_DETAIL_CHARS = 2 * 1024;
/** See {@link SENT_LOG_CHARS}. */
export const SENT_DETAIL_CHARS = 4 * STORED_DETAIL_CHARS;

/** Longest step name the trusted side stores. */
export const STORED_STEP_NAME_CHARS = 200;
/** See {@link SENT_LOG_CHARS}. */
export const SENT_STEP_NAME_CHARS = 5 * STORED_STEP_NAME_CHARS;
