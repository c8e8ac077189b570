/**
 * HTTP plumbing for the `http_api` connector: URL joining, auth headers, and one request with
 * timeout, retries and same-origin redirects. Only `fetch`; no driver.
 *
 * @module
 */
import { errorDetails } from "../_error_details.ts";
import { errorText } from "../_error_text.ts";
import { ConnectorError } from "./types.ts";

/** An HTTP call that failed, with the status of the last answer when there was one. */
export class HttpApiError extends ConnectorError {
  /** HTTP status of the last answer, or `null` when none came (network error, timeout). */
  readonly status: number | null;
  /** Requests made, retries included. */
  readonly attempts: number;

  /** Builds the error; `status` is null when no HTTP answer came. */
  constructor(message: string, status: number | null, attempts: number, options?: ErrorOptions) {
    super(message, options);
    this.name = "HttpApiError";
    this.status = status;
    this.attempts = attempts;
  }
}

/** How credentials are sent. They only ever travel in headers, never in URLs. */
export type HttpAuth =
  | {
    /** `Authorization: Bearer <token>`. */
    type: "bearer";
    token: string;
  }
  | {
    /** `<header>: <value>`. */
    type: "api_key";
    /** @default {"X-API-Key"} */
    header?: string;
    value: string;
  }
  | {
    /** `Authorization: Basic base64(username:password)`. */
    type: "basic";
    username: string;
    password: string;
  };

/** Query-string values; arrays repeat the key, `null`/`undefined` leave it out. */
export type QueryParams = Record<
  string,
  string | number | boolean | null | undefined | Array<string | number | boolean>
>;

export interface RetryPolicy {
  timeoutMs: number;
  maxRetries: number;
  retryBaseMs: number;
  maxRetryDelayMs: number;
}

export interface HttpCall {
  method: string;
  url: URL;
  headers: Headers;
  body?: string;
  /** For ping: one attempt, redirects not followed, any answer below 500 is returned. */
  probe?: boolean;
}

export interface HttpAnswer {
  status: number;
  statusText: string;
  headers: Headers;
  text: string;
}

const MAX_REDIRECTS = 5;

/** Parses and checks `baseUrl`; the result always ends with `/` so endpoints append to it. */
export function parseBaseUrl(raw: unknown, label: string): URL {
  let url: URL;
  try {
    url = new URL(String(raw));
  } catch {
    // The raw value is not echoed: it could hold credentials.
    throw new ConnectorError(
      `${label}: baseUrl must be an absolute URL such as "https://api.example.com/v1"`,
    );
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    throw new ConnectorError(`${label}: baseUrl must use http or https, not ${url.protocol}`);
  }
  if (url.username || url.password) {
    throw new ConnectorError(
      `${label}: baseUrl must not contain a username or password; use auth: { type: "basic", username, password }`,
    );
  }
  if (url.search || url.hash) {
    throw new ConnectorError(
      `${label}: baseUrl must not have a query string or fragment; pass query values as extract params and credentials as auth`,
    );
  }
  if (!url.pathname.endsWith("/")) url.pathname += "/";
  return url;
}

/**
 * Joins `endpoint` to `base`: a relative endpoint is appended to the base path (`/users` under
 * `https://h/v1` is `https://h/v1/users`); an absolute URL is accepted only on the base origin.
 */
export function joinUrl(base: URL, endpoint: unknown, params: QueryParams, label: string): URL {
  if (typeof endpoint !== "string") {
    throw new ConnectorError(`${label}: endpoint must be a string path such as "/users"`);
  }
  const absolute = /^[a-z][a-z0-9+.-]*:\/\//i.test(endpoint) || /^[\\/]{2}/.test(endpoint);
  let url: URL;
  try {
    // "./" keeps a first segment with a colon ("v1/items:batchGet") from reading as a scheme.
    url = absolute ? new URL(endpoint, base) : new URL("./" + endpoint.replace(/^[\\/]/, ""), base);
  } catch {
    throw new ConnectorError(`${label}: endpoint is not a valid URL path`);
  }
  if (url.origin !== base.origin || url.username || url.password) {
    throw new ConnectorError(
      `${label}: endpoint points to ${url.origin}, not to the baseUrl origin ${base.origin}; ` +
        "a connection only calls its own baseUrl (make another connection for that host)",
    );
  }
  for (const [key, value] of Object.entries(params)) {
    if (value === null || value === undefined) continue;
    if (Array.isArray(value)) {
      url.searchParams.delete(key);
      for (const item of value) url.searchParams.append(key, String(item));
    } else {
      url.searchParams.set(key, String(value));
    }
  }
  return url;
}

/** The header carrying `auth`, plus the strings to scrub from error messages. */
export function authHeader(
  auth: HttpAuth | undefined,
  label: string,
): { header: [string, string] | null; secrets: string[] } {
  if (auth === undefined) return { header: null, secrets: [] };
  const need = (value: unknown, field: string): string => {
    if (typeof value !== "string" || value === "") {
      throw new ConnectorError(`${label}: auth.${field} must be a non-empty string`);
    }
    return value;
  };
  switch (auth?.type) {
    case "bearer": {
      const token = need(auth.token, "token");
      return { header: ["authorization", `Bearer ${token}`], secrets: [token] };
    }
    case "api_key": {
      const value = need(auth.value, "value");
      const header = auth.header === undefined ? "X-API-Key" : need(auth.header, "header");
      return { header: [header, value], secrets: [value] };
    }
    case "basic": {
      const user = need(auth.username, "username");
      const password = typeof auth.password === "string"
        ? auth.password
        : need(undefined, "password");
      const bytes = new TextEncoder().encode(`${user}:${password}`);
      const encoded = btoa(Array.from(bytes, (b) => String.fromCharCode(b)).join(""));
      return { header: ["authorization", `Basic ${encoded}`], secrets: [password, encoded] };
    }
    default:
      throw new ConnectorError(
        `${label}: auth.type must be "bearer", "api_key" or "basic"`,
      );
  }
}

/** Delay before retry number `retry` (1-based) when the server did not say: exponential, jittered. */
export function backoffMs(retry: number, policy: RetryPolicy): number {
  const ceiling = Math.min(policy.maxRetryDelayMs, policy.retryBaseMs * 2 ** (retry - 1));
  // "Equal jitter": at least half the delay, so retries never collapse to zero.
  return ceiling / 2 + Math.random() * (ceiling / 2);
}

/** `Retry-After` in ms: delta-seconds or an HTTP date; null when absent or unreadable. */
export function retryAfterMs(value: string | null, now = Date.now()): number | null {
  if (value === null) return null;
  const text = value.trim();
  if (/^\d+(\.\d+)?$/.test(text)) return Number(text) * 1000;
  const at = Date.parse(text);
  return Number.isNaN(at) ? null : Math.max(0, at - now);
}

/** Sends calls for one connector; `close()` aborts whatever is in flight or waiting. */
export class Requester {
  readonly #closed = new AbortController();

  constructor(
    readonly label: string,
    readonly policy: RetryPolicy,
    readonly redact: (text: string) => string,
  ) {}

  close(): void {
    this.#closed.abort();
  }

  /** Sends `call`, retrying 429, 5xx, network errors and timeouts; throws HttpApiError. */
  async send(call: HttpCall): Promise<HttpAnswer> {
    const attempts = call.probe ? 1 : this.policy.maxRetries + 1;
    const what = `${call.method} ${call.url.origin}${call.url.pathname}`; // query left out
    for (let attempt = 1;; attempt++) {
      const outcome = await this.#attempt(call, what);
      let wait: number;
      if ("answer" in outcome) {
        const { status, statusText, text, headers } = outcome.answer;
        if (status < 400 || (call.probe && status < 500)) return outcome.answer;
        const retryable = status === 429 || status >= 500;
        if (!retryable || attempt >= attempts) {
          const tries = retryable ? ` after ${attempt} attempt${attempt > 1 ? "s" : ""}` : "";
          throw new HttpApiError(
            `${this.label}: ${what} → ${status} ${statusText}${tries}: ${this.#excerpt(text)}`,
            status,
            attempt,
          );
        }
        wait = retryAfterMs(headers.get("retry-after")) ?? backoffMs(attempt, this.policy);
      } else {
        if (attempt >= attempts) {
          throw new HttpApiError(
            `${this.label}: ${what} failed after ${attempt} attempt${attempt > 1 ? "s" : ""}: ${
              this.redact(outcome.error)
            }`,
            null,
            attempt,
            { cause: outcome.cause },
          );
        }
        wait = backoffMs(attempt, this.policy);
      }
      await this.#sleep(Math.min(wait, this.policy.maxRetryDelayMs));
    }
  }

  /** One attempt, redirects included, under one timeout covering the body too. */
  async #attempt(
    call: HttpCall,
    what: string,
  ): Promise<{ answer: HttpAnswer } | { error: string; cause: unknown }> {
    if (this.#closed.signal.aborted) throw new ConnectorError(`${this.label}: connection closed`);
    const timeout = new AbortController();
    // Our own timer rather than AbortSignal.timeout, so it is cleared as soon as we are done.
    const timer = setTimeout(() => timeout.abort(), this.policy.timeoutMs);
    const signal = AbortSignal.any([timeout.signal, this.#closed.signal]);
    let { method, url, body } = call;
    try {
      for (let hop = 0;; hop++) {
        const res = await fetch(url, {
          method,
          headers: call.headers,
          body,
          signal,
          redirect: "manual",
        });
        const text = await res.text();
        const location = res.headers.get("location");
        if (call.probe || res.status < 300 || res.status >= 400 || location === null) {
          return {
            answer: { status: res.status, statusText: res.statusText, headers: res.headers, text },
          };
        }
        // Redirects are followed by hand: a hop to another origin would carry the credentials.
        const next = new URL(location, url);
        if (next.origin !== url.origin) {
          throw new HttpApiError(
            `${this.label}: ${what} redirected to another origin (${next.origin}); refused so credentials are not sent there`,
            res.status,
            1,
          );
        }
        if (hop >= MAX_REDIRECTS) {
          throw new HttpApiError(
            `${this.label}: ${what}: more than ${MAX_REDIRECTS} redirects`,
            res.status,
            1,
          );
        }
        if (
          res.status === 303 || ((res.status === 301 || res.status === 302) && method === "POST")
        ) {
          method = "GET";
          body = undefined;
        }
        url = next;
      }
    } catch (error) {
      if (error instanceof ConnectorError) throw error;
      if (this.#closed.signal.aborted) throw new ConnectorError(`${this.label}: connection closed`);
      if (timeout.signal.aborted) {
        return { error: `timed out after ${this.policy.timeoutMs} ms`, cause: error };
      }
      // fetch says only "fetch failed"; why (refused, DNS, TLS) is in its cause.
      const reason = errorDetails(error)?.reason;
      const message = errorText(error);
      return { error: reason ? `${message}: ${reason}` : message, cause: error };
    } finally {
      clearTimeout(timer);
    }
  }

  #sleep(ms: number): Promise<void> {
    const signal = this.#closed.signal;
    return new Promise((resolve, reject) => {
      const closed = () => {
        clearTimeout(timer);
        reject(new ConnectorError(`${this.label}: connection closed`));
      };
      const timer = setTimeout(() => {
        signal.removeEventListener("abort", closed);
        resolve();
      }, ms);
      if (signal.aborted) closed();
      else signal.addEventListener("abort", closed, { once: true });
    });
  }

  #excerpt(text: string): string {
    const flat = this.redact(text).replace(/\s+/g, " ").trim();
    if (flat === "") return "(empty body)";
    return flat.length > 200 ? `${flat.slice(0, 200)}…` : flat;
  }
}
