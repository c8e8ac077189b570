/**
 * `http_api`: a JSON HTTP API as a connector, with `fetch` only. Reads walk through pages
 * (page number, offset or cursor); writes POST rows as JSON arrays in batches. Pipelines import
 * {@link httpApi} from `tau/connectors`.
 *
 * @module
 */
import { batches } from "./_sql.ts";
import { walkPages } from "./_http_paginate.ts";
import type {
  HttpApiConnector,
  HttpApiOptions,
  HttpExtractOptions,
  HttpLoadOptions,
} from "./_http_types.ts";
import {
  authHeader,
  type HttpCall,
  joinUrl,
  parseBaseUrl,
  type QueryParams,
  Requester,
} from "./_http_request.ts";
import { ConnectorError, type LoadResult, type Row, type RowSource } from "./types.ts";

export type { HttpAuth, QueryParams } from "./_http_request.ts";
export { HttpApiError } from "./_http_request.ts";
export type {
  HttpApiConnector,
  HttpApiOptions,
  HttpExtractOptions,
  HttpLoadOptions,
  HttpMethod,
} from "./_http_types.ts";
export type {
  CursorPagination,
  OffsetPagination,
  PagePagination,
  Pagination,
} from "./_http_paginate.ts";

const EXTRACT_KEYS = new Set([
  "endpoint",
  "params",
  "method",
  "body",
  "headers",
  "path",
  "pagination",
  "allowPartial",
  "batchSize",
]);
const LOAD_KEYS = new Set([
  "endpoint",
  "method",
  "batchSize",
  "headers",
  "table",
  "mode",
  "mergeKey",
]);
const METHODS = new Set(["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"]);

function positive(value: unknown, fallback: number, field: string, label: string, min = 0): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isFinite(value) || value < min) {
    throw new ConnectorError(`${label}: ${field} must be a number ≥ ${min}`);
  }
  return value;
}

/** Refuses unknown keys: a typo such as `paginaton` would otherwise read only the first page. */
function checkKeys(options: object, allowed: Set<string>, what: string, label: string): void {
  for (const key of Object.keys(options)) {
    if (allowed.has(key)) continue;
    const hint = key === "query" ? " (http_api reads an endpoint, not SQL)" : "";
    throw new ConnectorError(
      `${label}: unknown ${what} option "${key}"${hint}; known: ${[...allowed].join(", ")}`,
    );
  }
}

function parseJson(text: string, what: string, redact: (text: string) => string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    const excerpt = redact(text).replace(/\s+/g, " ").trim().slice(0, 120);
    throw new ConnectorError(`${what}: the response is not JSON: ${excerpt || "(empty body)"}`);
  }
}

/**
 * Creates an `http_api` connector. Nothing is sent until the first call; options are checked
 * at once (credentials never appear in the errors). The pipeline must declare the API's host in
 * `net`. A failed request throws {@link HttpApiError}, after the retries.
 *
 * @example Read every page of a cursor-paginated API
 * ```ts
 * import { pipeline } from "tau";
 * import { httpApi } from "tau/connectors";
 *
 * export default pipeline({
 *   name: "crm_users",
 *   net: ["api.example.com"],
 *   secrets: ["CRM_TOKEN"],
 * }, async (ctx) => {
 *   await using crm = httpApi({
 *     baseUrl: "https://api.example.com/v1",
 *     auth: { type: "bearer", token: ctx.secret("CRM_TOKEN") },
 *   });
 *   const users = await crm.extract({
 *     endpoint: "/users",
 *     path: "data",
 *     pagination: { type: "cursor", cursorPath: "meta.next_cursor" },
 *   });
 *   return { users: users.length };
 * });
 * ```
 */
export function httpApi(options: HttpApiOptions): HttpApiConnector {
  const session = openSession(options);
  const connector: HttpApiConnector = {
    name: session.name,
    type: "http_api",
    dialect: null,

    async extract(options) {
      const rows: Row[] = [];
      for await (const batch of streamPages(session, options)) rows.push(...batch);
      return rows;
    },

    extractStream(options) {
      return streamPages(session, options);
    },

    load(rows, options) {
      return loadRows(session, rows, options);
    },

    execute(sql, params = []) {
      return executeRequest(session, sql, params);
    },

    async ping() {
      await session.requester.send({ ...session.call("GET", session.base), probe: true });
    },

    close() {
      session.closed = true;
      session.requester.close();
      return Promise.resolve();
    },

    [Symbol.asyncDispose]() {
      return connector.close();
    },
  };
  return connector;
}

/** One connector's checked options and its request machinery. */
interface Session {
  name: string;
  label: string;
  base: URL;
  maxPages: number;
  allowPartial: boolean;
  requester: Requester;
  redact: (text: string) => string;
  closed: boolean;
  /** A request with the connector's headers (and auth) and `body` as JSON. */
  call(method: string, url: URL, extraHeaders?: Record<string, string>, body?: unknown): HttpCall;
}

function openSession(options: HttpApiOptions): Session {
  const name = options.name ?? "http_api";
  const label = `http_api "${name}"`;
  const base = parseBaseUrl(options.baseUrl, label);
  const policy = {
    timeoutMs: positive(options.timeoutMs, 30_000, "timeoutMs", label, 1),
    maxRetries: Math.floor(positive(options.maxRetries, 4, "maxRetries", label)),
    retryBaseMs: positive(options.retryBaseMs, 500, "retryBaseMs", label),
    maxRetryDelayMs: positive(options.maxRetryDelayMs, 30_000, "maxRetryDelayMs", label),
  };
  const maxPages = Math.floor(positive(options.maxPages, 100, "maxPages", label, 1));
  const { header, secrets } = authHeader(options.auth, label);
  const common = new Headers({ accept: "application/json" });
  for (const [key, value] of Object.entries(options.headers ?? {})) {
    common.set(key, value);
    // Values of credential-looking headers are scrubbed from error messages too.
    if (/auth|key|token|secret|cookie|session/i.test(key)) secrets.push(value);
  }
  if (header) common.set(header[0], header[1]);
  const scrub = secrets.filter((s) => s.length >= 4).sort((a, b) => b.length - a.length);
  const redact = (text: string) => scrub.reduce((t, s) => t.replaceAll(s, "[REDACTED]"), text);
  const session: Session = {
    name,
    label,
    base,
    maxPages,
    allowPartial: options.allowPartial ?? false,
    requester: new Requester(label, policy, redact),
    redact,
    closed: false,
    call(method, url, extraHeaders, body) {
      if (session.closed) throw new ConnectorError(`${label}: connection closed`);
      const headers = new Headers(common);
      if (body !== undefined) headers.set("content-type", "application/json");
      for (const [key, value] of Object.entries(extraHeaders ?? {})) headers.set(key, value);
      if (header) headers.set(header[0], header[1]);
      return { method, url, headers, body: body === undefined ? undefined : JSON.stringify(body) };
    },
  };
  return session;
}

function httpMethod(value: unknown, fallback: string, allowed: Set<string>, label: string) {
  const m = value === undefined ? fallback : String(value).toUpperCase();
  if (!allowed.has(m)) {
    throw new ConnectorError(`${label}: method must be one of ${[...allowed].join(", ")}`);
  }
  return m;
}

async function* streamPages(s: Session, options: HttpExtractOptions): AsyncGenerator<Row[]> {
  if (options === null || typeof options !== "object") {
    throw new ConnectorError(`${s.label}: extract needs an options object with an endpoint`);
  }
  checkKeys(options, EXTRACT_KEYS, "extract", s.label);
  const { endpoint, path, pagination, body } = options;
  const params = (options.params ?? {}) as QueryParams;
  if (endpoint === undefined) throw new ConnectorError(`${s.label}: extract needs an endpoint`);
  if (typeof params !== "object" || Array.isArray(params)) {
    throw new ConnectorError(`${s.label}: params must be an object of query-string values`);
  }
  const verb = httpMethod(options.method, "GET", METHODS, s.label);
  const first = joinUrl(s.base, endpoint, params, s.label);
  yield* walkPages({
    label: `${s.label}: ${verb} ${first.pathname}`,
    path,
    pagination,
    maxPages: s.maxPages,
    allowPartial: options.allowPartial ?? s.allowPartial,
    fetchPage: async (query) => {
      const url = joinUrl(s.base, endpoint, { ...params, ...query }, s.label);
      const answer = await s.requester.send(s.call(verb, url, options.headers, body));
      return parseJson(answer.text, `${s.label}: ${verb} ${url.pathname}`, s.redact);
    },
  });
}

async function loadRows(
  s: Session,
  rows: RowSource,
  options: HttpLoadOptions,
): Promise<LoadResult> {
  if (options === null || typeof options !== "object") {
    throw new ConnectorError(`${s.label}: load needs an options object with an endpoint`);
  }
  checkKeys(options, LOAD_KEYS, "load", s.label);
  if (options.mode !== undefined && options.mode !== "append") {
    throw new ConnectorError(
      `${s.label}: load supports mode "append" only, not "${options.mode}"`,
    );
  }
  if (options.endpoint === undefined) {
    throw new ConnectorError(`${s.label}: load needs an endpoint`);
  }
  const verb = httpMethod(options.method, "POST", new Set(["POST", "PUT", "PATCH"]), s.label);
  const size = Math.floor(positive(options.batchSize, 500, "batchSize", s.label, 1));
  const url = joinUrl(s.base, options.endpoint, {}, s.label);
  let sent = 0;
  for await (const chunk of batches(rows, size)) {
    // batches() passes iterable chunks through as they come; re-split them to `size`.
    for (let i = 0; i < chunk.length; i += size) {
      const slice = chunk.slice(i, i + size);
      try {
        await s.requester.send(s.call(verb, url, options.headers, slice));
      } catch (error) {
        if (sent > 0 && error instanceof Error) {
          error.message += ` (${sent} rows were sent before this batch)`;
        }
        throw error;
      }
      sent += slice.length;
    }
  }
  return { rows: sent, schema_changes: null };
}

/** `execute("POST /path", [body])`: one request; a JSON answer becomes rows. */
async function executeRequest(s: Session, sql: string, params: unknown[]) {
  const match = /^\s*([A-Za-z]+)\s+(\S.*)$/.exec(sql);
  const verb = httpMethod(match ? match[1] : undefined, "POST", METHODS, s.label);
  if (params.length > 1) {
    throw new ConnectorError(`${s.label}: execute takes at most one param, the JSON body`);
  }
  const url = joinUrl(s.base, match ? match[2] : sql.trim(), {}, s.label);
  const answer = await s.requester.send(s.call(verb, url, undefined, params[0]));
  let value: unknown = answer.text;
  if (answer.text.trim() === "") value = [];
  else {
    try {
      value = JSON.parse(answer.text);
    } catch { /* not JSON: kept as text */ }
  }
  const items = Array.isArray(value) ? value : [value];
  const out = items.map((item): Row =>
    item !== null && typeof item === "object" && !Array.isArray(item)
      ? item as Row
      : { value: item }
  );
  return { rowCount: out.length, rows: out };
}

/** Alias of {@link httpApi}, matching the connector type name used in `tau.toml`. */
export const http_api: typeof httpApi = httpApi;
