/**
 * Tool results stay under about 100 KB (MCP clients cap one result near 25k tokens): lists are
 * cut to pages that fit, and say so with `truncated` and where the next page starts.
 */
import { TauError } from "../core/errors.ts";

/**
 * The most one copy of a result's JSON may take. A tool result carries two (the text content
 * and the structured content, the first escaped as a string), so a whole result stays under
 * about 100 KB.
 */
export const MAX_RESULT_BYTES = 45_000;

const size = (value: unknown) => new TextEncoder().encode(JSON.stringify(value)).length;

/** Room left for the paging fields added after a page is cut (`truncated`, `next`…). */
export const PAGING_RESERVE = 400;

/** The longest prefix of `items` that, in `wrap(prefix)`, fits the bound less `reserve`. */
export function fitPrefix<T>(items: T[], wrap: (page: T[]) => unknown, reserve = 0): T[] {
  const max = MAX_RESULT_BYTES - reserve;
  if (size(wrap(items)) <= max) return items;
  let lo = 0;
  let hi = items.length;
  // Binary search on the count: the size grows with every item kept.
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (size(wrap(items.slice(0, mid))) <= max) lo = mid;
    else hi = mid - 1;
  }
  return items.slice(0, lo);
}

/**
 * Any other result: as it is when it fits; a run record whose logs make it too large keeps its
 * newest lines that fit (`logs_truncated`); anything else too large is an error that says
 * which narrower tool call to make.
 */
export function bounded(
  result: Record<string, unknown>,
  narrower: string,
): Record<string, unknown> {
  if (size(result) <= MAX_RESULT_BYTES) return result;
  if (Array.isArray(result.logs)) {
    const newestFirst = [...result.logs].reverse();
    const kept = fitPrefix(newestFirst, (page) => ({ ...result, logs: page }));
    const fitted = { ...result, logs: kept.reverse(), logs_truncated: true };
    if (size(fitted) <= MAX_RESULT_BYTES) return fitted;
  }
  throw new TauError(
    "payload_too_large",
    `The result is larger than ${MAX_RESULT_BYTES} bytes, the most one tool result may be`,
    { hint: narrower },
  );
}
