/**
 * Option and connector types of the `http_api` connector (re-exported by `http_api.ts`).
 *
 * @module
 */
import type { HttpAuth, QueryParams } from "./_http_request.ts";
import type { Pagination } from "./_http_paginate.ts";
import type { Connector, ExecuteResult, LoadMode, LoadResult, Row, RowSource } from "./types.ts";

/** Options of `httpApi` (also `http_api`). */
export interface HttpApiOptions {
  /** Root of the API, e.g. `"https://api.example.com/v1"`; endpoints are appended to it. */
  baseUrl: string;
  /** Headers sent with every request. */
  headers?: Record<string, string>;
  /** Credentials, sent in headers only. */
  auth?: HttpAuth;
  /**
   * Limit per request attempt, response body included.
   * @default {30_000}
   */
  timeoutMs?: number;
  /**
   * Extra attempts after a 429, a 5xx, a network error or a timeout. Other 4xx are never retried.
   * @default {4}
   */
  maxRetries?: number;
  /**
   * First backoff delay, doubled per retry, with jitter. A `Retry-After` header wins.
   * @default {500}
   */
  retryBaseMs?: number;
  /**
   * Longest wait between attempts, `Retry-After` included.
   * @default {30_000}
   */
  maxRetryDelayMs?: number;
  /**
   * Most pages one `extract` reads. Reaching it with pages left throws (see `allowPartial`).
   * @default {100}
   */
  maxPages?: number;
  /**
   * Accept a read cut short by `maxPages` instead of throwing. Can be set per `extract` too.
   * @default {false}
   */
  allowPartial?: boolean;
  /**
   * Connection name, used in error messages.
   * @default {"http_api"}
   */
  name?: string;
}

/** HTTP methods `extract` and `execute` accept. */
export type HttpMethod = "GET" | "POST" | "PUT" | "PATCH" | "DELETE" | "HEAD";

/**
 * What `extract`/`extractStream` read. `endpoint` is required (it is optional in the type only
 * so that these options stay compatible with the generic `Connector` interface).
 */
export interface HttpExtractOptions {
  /** Path under `baseUrl` (`"/users"`), or an absolute URL on the same origin. */
  endpoint?: string;
  /** Query-string values (added to any already in `endpoint`). */
  params?: QueryParams | Record<string, unknown> | unknown[];
  /**
   * HTTP method of each page request.
   * @default {"GET"}
   */
  method?: HttpMethod;
  /** Request body, sent as JSON. */
  body?: unknown;
  /** Headers for this request only. */
  headers?: Record<string, string>;
  /**
   * JSON path of the array of rows in each response: `"data"`, `"data.items"`, `"$.data.items"`.
   * Non-object items become `{ value: item }` rows.
   * @default {the response itself, which must then be an array}
   */
  path?: string;
  /**
   * How to walk through pages.
   * @default {one request, no pages}
   */
  pagination?: Pagination;
  /**
   * Overrides the connection's `allowPartial` for this read.
   * @default {the connection's `allowPartial`}
   */
  allowPartial?: boolean;
  /** Ignored: `extractStream` yields one batch per page. */
  batchSize?: number;
}

/** What `load` writes. */
export interface HttpLoadOptions {
  /** Path under `baseUrl` receiving the rows (required). */
  endpoint?: string;
  /**
   * HTTP method of each batch request.
   * @default {"POST"}
   */
  method?: "POST" | "PUT" | "PATCH";
  /**
   * Rows per request body (a JSON array).
   * @default {500}
   */
  batchSize?: number;
  /** Headers for these requests only. */
  headers?: Record<string, string>;
  /** Ignored (accepted so generic callers can pass it). */
  table?: string;
  /**
   * Only `"append"`: an API has no table to replace or merge into.
   * @default {"append"}
   */
  mode?: LoadMode;
  /** Not supported (no upsert over HTTP). */
  mergeKey?: string | string[];
}

/** The `http_api` connector: a {@link Connector} with HTTP-specific options. */
export interface HttpApiConnector extends Connector {
  /** Reads every page into memory. */
  extract(options: HttpExtractOptions): Promise<Row[]>;
  /** Yields one batch per page. */
  extractStream(options: HttpExtractOptions): AsyncIterable<Row[]>;
  /**
   * Sends rows as JSON arrays of `batchSize` and resolves to the number of rows sent
   * (`schema_changes` is null: an API has no table). Not transactional: if a batch fails, the
   * error says how many rows were sent before it.
   */
  load(rows: RowSource, options: HttpLoadOptions): Promise<LoadResult>;
  /**
   * One request: `sql` is the endpoint, optionally preceded by a method (`"DELETE /items/7"`;
   * default POST), and `params[0]` is the JSON body. `rows` holds the JSON answer: an array's
   * items, an object as one row, other text as `{ value }`.
   */
  execute(sql: string, params?: unknown[]): Promise<ExecuteResult>;
  /** GETs `baseUrl`; any HTTP answer below 500 counts as reachable. */
  ping(): Promise<void>;
}
