/**
 * Who may call the API, and what they may do. Keys travel only in `Authorization: Bearer`,
 * never in a URL; each request is then checked against `ROUTE_SCOPES`, where every mutating
 * route is named (one that is not needs `admin`).
 */
import type { Context, MiddlewareHandler } from "hono";
import { TauError } from "../core/errors.ts";
import type { ApiKeyScope } from "../store/mod.ts";
import { type Principal, scopeAllows, verifyApiKey, type VerifyOptions } from "./keys.ts";

declare module "hono" {
  interface ContextVariableMap {
    /** Set by `bearerAuth`: who the request acts as. */
    principal: Principal;
  }
}

/** Query parameters that would carry a key in a URL (compared case-insensitively). */
const URL_KEY_PARAMS: ReadonlySet<string> = new Set([
  "api_key",
  "apikey",
  "key",
  "token",
  "access_token",
]);

/** The first query parameter of `url` that would carry a key, or null. */
export function keyParamIn(url: string): string | null {
  for (const name of new URL(url).searchParams.keys()) {
    if (URL_KEY_PARAMS.has(name.toLowerCase())) return name;
  }
  return null;
}

/** Refuses any request with a key-like query parameter, before authentication. */
export function refuseKeysInUrl(): MiddlewareHandler {
  return async function tauRefuseKeysInUrl(c, next) {
    const name = keyParamIn(c.req.url);
    if (name !== null) {
      throw new TauError(
        "invalid_request",
        `API keys are not accepted in the URL (query parameter ${name})`,
        {
          hint: "send Authorization: Bearer <key>; keys in URLs leak into logs " +
            "(revoke a key that was sent this way)",
        },
      );
    }
    await next();
  };
}

/** Accepts `Authorization: Bearer <key>` for an admin key or a stored, unrevoked key. */
export function bearerAuth(options: Omit<VerifyOptions, "now">): MiddlewareHandler {
  return async function tauBearerAuth(c, next) {
    const header = c.req.header("authorization") ?? "";
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    if (!match) {
      throw new TauError("unauthorized", "Missing API key", {
        hint: "send Authorization: Bearer <key>; locally the key is in $TAU_HOME/api_key",
      });
    }
    c.set("principal", await verifyApiKey(match[1] as string, options));
    await next();
  };
}

/** The scope a route needs: fixed, or decided by its JSON body. */
export interface ScopeRule {
  method: string;
  /** Path under /api/v1; `:param` stands for one segment. */
  path: string;
  scope: ApiKeyScope | ((body: unknown) => ApiKeyScope);
}

/** Enabling or disabling a schedule is operating it; setting or changing one is admin. */
function scheduleScope(body: unknown): ApiKeyScope {
  const keys = body && typeof body === "object" ? Object.keys(body) : null;
  return keys?.length === 1 && keys[0] === "enabled" ? "operate" : "admin";
}

/** Starting a backfill is operating; asking what it would run (`dry_run`) only reads. */
function backfillScope(body: unknown): ApiKeyScope {
  return (body as { dry_run?: unknown } | null)?.dry_run === true ? "read" : "operate";
}

/** Asking the model is operating; deploying what it wrote is as much as any deploy. */
function createScope(body: unknown): ApiKeyScope {
  return (body as { deploy?: unknown } | null)?.deploy === true ? "admin" : "operate";
}

/**
 * Every route that needs more than `read`. Other GET/HEAD routes need `read`; any other route
 * not listed here needs `admin` (`auth_test.ts` fails when a mutating route is missing).
 */
export const ROUTE_SCOPES: readonly ScopeRule[] = [
  // Running things.
  { method: "POST", path: "/pipelines/:name/runs", scope: "operate" },
  { method: "POST", path: "/runs/:id/cancel", scope: "operate" },
  { method: "POST", path: "/connections/:name/test", scope: "operate" },
  { method: "PUT", path: "/pipelines/:name/schedule", scope: scheduleScope },
  // Making an earlier, once-current version's code current again (never a candidate).
  { method: "POST", path: "/pipelines/:name/rollback", scope: "operate" },
  // The model: create asks it (and with deploy: true deploys, as POST /pipelines does).
  { method: "POST", path: "/create", scope: createScope },
  // A heal promotes only a replayed candidate, and widens permissions only when asked to.
  { method: "POST", path: "/pipelines/:name/heal", scope: "operate" },
  // Backfills create runs (a dry run only reads); cancelling one cancels its queued runs.
  { method: "POST", path: "/pipelines/:name/backfills", scope: backfillScope },
  { method: "POST", path: "/backfills/:id/cancel", scope: "operate" },
  // Changing what is deployed and how it is wired.
  { method: "POST", path: "/pipelines", scope: "admin" },
  // Checking runs deploy's analysis of untrusted code: as much as deploying it.
  { method: "POST", path: "/pipelines/check", scope: "admin" },
  { method: "DELETE", path: "/pipelines/:name", scope: "admin" },
  { method: "PUT", path: "/pipelines/:name/depends", scope: "admin" },
  // Recording a worker (the earlier Tau's push registration).
  { method: "POST", path: "/workers/register", scope: "admin" },
  // Key management, reading included.
  { method: "GET", path: "/keys", scope: "admin" },
  { method: "POST", path: "/keys", scope: "admin" },
  { method: "DELETE", path: "/keys/:id", scope: "admin" },
  // Webhooks send run data to URLs, signed with the daemon's secrets.
  { method: "POST", path: "/webhooks", scope: "admin" },
  { method: "DELETE", path: "/webhooks/:name", scope: "admin" },
  { method: "POST", path: "/webhooks/:name/test", scope: "admin" },
  // A trigger secret lets its holder start runs: handing one out is as much as making a key.
  { method: "POST", path: "/pipelines/:name/trigger-secret", scope: "admin" },
  { method: "POST", path: "/pipelines/:name/trigger-secret/rotate", scope: "admin" },
  { method: "DELETE", path: "/pipelines/:name/trigger-secret", scope: "admin" },
];

/**
 * The only routes under /api/v1 that take no API key: each verifies an HMAC signature of its own
 * body instead (src/triggers/trigger_route.ts), for senders that cannot hold a key. `createApp`
 * mounts them ahead of `bearerAuth` and `requireScope`; `auth_test.ts` holds this list to the
 * routes served that way, so a route cannot skip the key check without being named here.
 */
export const SIGNED_ROUTES: readonly { method: string; path: string }[] = [
  { method: "POST", path: "/pipelines/:name/trigger" },
];

const patterns = new Map<string, RegExp>();

function pattern(path: string): RegExp {
  let regex = patterns.get(path);
  if (!regex) {
    const source = path.split("/").map((s) =>
      s.startsWith(":") ? "[^/]+" : s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")
    ).join("/");
    regex = new RegExp(`^${source}$`);
    patterns.set(path, regex);
  }
  return regex;
}

/** The rule for a request (HEAD counts as GET), or undefined when the defaults apply. */
export function findRule(
  rules: readonly ScopeRule[],
  method: string,
  path: string,
): ScopeRule | undefined {
  const m = method === "HEAD" ? "GET" : method;
  const p = path.length > 1 ? path.replace(/\/+$/, "") : path;
  return rules.find((r) => r.method === m && pattern(r.path).test(p));
}

async function bodyOf(c: Context): Promise<unknown> {
  try {
    return JSON.parse(await c.req.text()); // cached: the route reads the same text again
  } catch {
    return null;
  }
}

/** Refuses (403 `forbidden`) a request whose key's scope is below what its route needs. */
export function requireScope(
  options: { base: string; rules?: readonly ScopeRule[] },
): MiddlewareHandler {
  const rules = options.rules ?? ROUTE_SCOPES;
  return async function tauRequireScope(c, next) {
    const principal = c.get("principal");
    const path = c.req.path.startsWith(options.base)
      ? c.req.path.slice(options.base.length) || "/"
      : c.req.path;
    const rule = findRule(rules, c.req.method, path);
    const need: ApiKeyScope = !rule
      ? (c.req.method === "GET" || c.req.method === "HEAD" ? "read" : "admin")
      : typeof rule.scope === "function"
      ? rule.scope(await bodyOf(c))
      : rule.scope;
    if (!scopeAllows(principal.scope, need)) {
      const who = principal.id ? `API key ${principal.id}` : "This API key";
      throw new TauError(
        "forbidden",
        `${who} has scope ${principal.scope}: ${c.req.method} ${c.req.path} needs ${need}`,
        {
          hint: `use a key with scope ${need}; an admin creates one with ` +
            `tau keys create --scope ${need}`,
          details: { scope: principal.scope, required: need },
        },
      );
    }
    await next();
  };
}
