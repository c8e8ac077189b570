/**
 * Row selection (JSON paths) and pagination for the `http_api` connector.
 *
 * @module
 */
import { ConnectorError, type Row } from "./types.ts";

/** `?page=1`, `?page=2`, … until an empty page, or a short one when `size` is known. */
export interface PagePagination {
  /** Page-number pagination. */
  type: "page";
  /**
   * Query parameter holding the page number.
   * @default {"page"}
   */
  param?: string;
  /** Query parameter holding the page size; sent with `size`. */
  sizeParam?: string;
  /** Rows per page. When set, a page with fewer rows is the last one. */
  size?: number;
  /**
   * Number of the first page.
   * @default {1}
   */
  start?: number;
}

/**
 * `?offset=0&limit=100`, `?offset=100&limit=100`, … The offset advances by the rows received and
 * the walk ends on an empty page (a short page is not trusted: servers often cap `limit`).
 */
export interface OffsetPagination {
  /** Offset/limit pagination. */
  type: "offset";
  /**
   * Query parameter holding the offset (0 for the first page).
   * @default {"offset"}
   */
  param?: string;
  /**
   * Query parameter holding the page size.
   * @default {"limit"}
   */
  limitParam?: string;
  /**
   * Rows asked for per page.
   * @default {100}
   */
  limit?: number;
}

/** The response names the next page: `?cursor=<value at cursorPath>` until it is missing/null/"". */
export interface CursorPagination {
  /** Cursor pagination. */
  type: "cursor";
  /**
   * Query parameter carrying the cursor (absent from the first request).
   * @default {"cursor"}
   */
  param?: string;
  /** JSON path of the next cursor in the response, e.g. `"meta.next_cursor"`. */
  cursorPath: string;
}

/** How `extract` walks through pages. */
export type Pagination = PagePagination | OffsetPagination | CursorPagination;

type Lookup = { found: true; value: unknown } | { found: false; at: string; keys: string[] };

function segments(path: string, label: string): string[] {
  const trimmed = path.trim().replace(/^\$\.?/, "");
  const parts = trimmed.replace(/\[(\d+)\]/g, ".$1").split(".").filter((p) => p !== "");
  if (parts.length === 0 && trimmed !== "") {
    throw new ConnectorError(`${label}: "${path}" is not a JSON path such as "data.items"`);
  }
  return parts;
}

function keysOf(value: unknown): string[] {
  return value !== null && typeof value === "object" && !Array.isArray(value)
    ? Object.keys(value).slice(0, 20)
    : [];
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  return typeof value === "object" ? "an object" : `a ${typeof value}`;
}

function seen(keys: string[]): string {
  return keys.length === 0 ? "no keys" : `keys seen: ${keys.join(", ")}`;
}

/** Follows a dotted path (`data.items`, `$.data.items`, `results[0].rows`) into `value`. */
export function lookup(value: unknown, path: string, label: string): Lookup {
  let current = value;
  const done: string[] = [];
  for (const part of segments(path, label)) {
    const container = current !== null && typeof current === "object";
    if (!container || !Object.hasOwn(current as object, part)) {
      return {
        found: false,
        at: done.length ? done.join(".") : "the top level",
        keys: keysOf(current),
      };
    }
    current = (current as Record<string, unknown>)[part];
    done.push(part);
  }
  return { found: true, value: current };
}

/** The rows of one response: the array at `path`, or the response itself when it is an array. */
export function selectRows(body: unknown, path: string | undefined, label: string): Row[] {
  let value = body;
  if (path === undefined) {
    if (!Array.isArray(body)) {
      throw new ConnectorError(
        `${label}: the response is ${
          describe(body)
        }, not an array; set path to the field holding the rows (${seen(keysOf(body))})`,
      );
    }
  } else {
    const found = lookup(body, path, label);
    if (!found.found) {
      throw new ConnectorError(
        `${label}: path "${path}" not found in the response: nothing at ${found.at} (${
          seen(found.keys)
        })`,
      );
    }
    value = found.value;
    if (!Array.isArray(value)) {
      throw new ConnectorError(
        `${label}: path "${path}" selects ${describe(value)}, not an array (${
          seen(keysOf(value))
        })`,
      );
    }
  }
  // Scalars become { value } rows so a list of ids can still be loaded into a table.
  return (value as unknown[]).map((item) =>
    item !== null && typeof item === "object" && !Array.isArray(item)
      ? item as Row
      : { value: item }
  );
}

function name(value: unknown, fallback: string, field: string, label: string): string {
  if (value === undefined) return fallback;
  if (typeof value !== "string" || value === "") {
    throw new ConnectorError(`${label}: pagination.${field} must be a non-empty string`);
  }
  return value;
}

function integer(value: unknown, fallback: number, min: number, field: string, label: string) {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isInteger(value) || value < min) {
    throw new ConnectorError(`${label}: pagination.${field} must be an integer ≥ ${min}`);
  }
  return value;
}

/** One pagination mode: the query of the first page, then of each next page (null: done). */
interface Pager {
  first: Record<string, string>;
  next(body: unknown, rows: Row[]): Record<string, string> | null;
}

function pager(p: Pagination, label: string): Pager {
  switch (p?.type) {
    case "page": {
      const param = name(p.param, "page", "param", label);
      const size = p.size === undefined ? undefined : integer(p.size, 0, 1, "size", label);
      if (p.sizeParam !== undefined && size === undefined) {
        throw new ConnectorError(`${label}: pagination.sizeParam needs pagination.size`);
      }
      const sized: Record<string, string> = p.sizeParam === undefined
        ? {}
        : { [name(p.sizeParam, "", "sizeParam", label)]: String(size) };
      let page = integer(p.start, 1, 0, "start", label);
      return {
        first: { [param]: String(page), ...sized },
        next(_body, rows) {
          if (rows.length === 0 || (size !== undefined && rows.length < size)) return null;
          page++;
          return { [param]: String(page), ...sized };
        },
      };
    }
    case "offset": {
      const param = name(p.param, "offset", "param", label);
      const limitParam = name(p.limitParam, "limit", "limitParam", label);
      const limit = String(integer(p.limit, 100, 1, "limit", label));
      let offset = 0;
      return {
        first: { [param]: "0", [limitParam]: limit },
        next(_body, rows) {
          if (rows.length === 0) return null;
          offset += rows.length;
          return { [param]: String(offset), [limitParam]: limit };
        },
      };
    }
    case "cursor": {
      const param = name(p.param, "cursor", "param", label);
      if (typeof p.cursorPath !== "string" || p.cursorPath.trim() === "") {
        throw new ConnectorError(
          `${label}: pagination.cursorPath is required: the JSON path of the next cursor, e.g. "meta.next_cursor"`,
        );
      }
      segments(p.cursorPath, label);
      let previous: string | null = null;
      return {
        first: {},
        next(body) {
          const found = lookup(body, p.cursorPath, label);
          const value = found.found ? found.value : null;
          if (value === null || value === undefined || value === "") return null;
          if (typeof value !== "string" && typeof value !== "number") {
            throw new ConnectorError(
              `${label}: cursorPath "${p.cursorPath}" selects ${
                describe(value)
              }, not a string or number`,
            );
          }
          const cursor = String(value);
          if (cursor === previous) {
            throw new ConnectorError(
              `${label}: the cursor at "${p.cursorPath}" did not change between pages; stopping instead of looping`,
            );
          }
          previous = cursor;
          return { [param]: cursor };
        },
      };
    }
    default:
      throw new ConnectorError(
        `${label}: pagination.type must be "page", "offset" or "cursor"`,
      );
  }
}

export interface PageWalk {
  /** Fetches and parses one page; `query` is added to the request's params. */
  fetchPage(query: Record<string, string>): Promise<unknown>;
  path?: string;
  pagination?: Pagination;
  maxPages: number;
  allowPartial: boolean;
  /** Prefix of error messages, e.g. `http_api "crm": GET /users`. */
  label: string;
}

/** Yields the rows of each page (empty pages skipped); throws at the page cap unless allowed. */
export async function* walkPages(walk: PageWalk): AsyncGenerator<Row[]> {
  const { label, maxPages } = walk;
  if (walk.pagination === undefined) {
    const rows = selectRows(await walk.fetchPage({}), walk.path, label);
    if (rows.length > 0) yield rows;
    return;
  }
  const pages = pager(walk.pagination, label);
  let query: Record<string, string> | null = pages.first;
  let total = 0;
  for (let fetched = 1; query !== null; fetched++) {
    const body = await walk.fetchPage(query);
    const rows = selectRows(body, walk.path, label);
    query = pages.next(body, rows);
    total += rows.length;
    if (rows.length > 0) yield rows;
    if (query !== null && fetched >= maxPages) {
      if (walk.allowPartial) return;
      throw new ConnectorError(
        `${label}: hit the page cap (maxPages = ${maxPages}) after ${total} rows with more pages to read; ` +
          `raise it in the connection options (maxPages: ${
            maxPages * 10
          }) or pass allowPartial: true to accept the first ${maxPages} pages`,
      );
    }
  }
}
