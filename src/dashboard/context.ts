/** What every dashboard page module shares: its dependencies, its context, and two guards. */
import type { Context, MiddlewareHandler } from "hono";
import { html } from "hono/html";
import type { ApiDeps } from "../api/deps.ts";
import { scopeAllows } from "../api/keys.ts";
import type { ApiKeyScope } from "../store/mod.ts";
import type { Session, Sessions } from "./sessions.ts";

/** The daemon's parts, as the API gets them, and where sessions live. */
export interface DashboardDeps extends ApiDeps {
  /** @default {new Sessions()} */
  sessions?: Sessions;
}

export type Env = { Variables: { session: Session | null } };
export type DashboardContext = Context<Env>;

/** A page, in standards mode. */
export function page(c: DashboardContext, body: unknown, status: 200 | 400 | 401 | 404 = 200) {
  return c.html(html`<!doctype html>${body}`, status);
}

/** The logged-in session; only reached behind {@link requireSession}. */
export function sessionOf(c: DashboardContext): Session {
  const session = c.get("session");
  if (!session) throw new Error("a dashboard page was reached without a session");
  return session;
}

/** Whether the session's key may do what needs `scope` (its buttons are shown only then). */
export function may(session: Session, scope: ApiKeyScope): boolean {
  return scopeAllows(session.principal.scope, scope);
}

/** Without a session: a page goes to the login form, a fragment (htmx) gets a 401. */
export function requireSession(): MiddlewareHandler<Env> {
  return async function dashboardRequireSession(c, next) {
    if (c.get("session")) return await next();
    if (c.req.header("hx-request")) return c.text("Your session ended; log in again", 401);
    return c.redirect("/", 303);
  };
}

/**
 * A form that changes something: it needs `scope` and its session's csrf token (the origin
 * check in app.tsx comes first). Refused with 403, changing nothing.
 */
export async function mutatingForm(
  c: DashboardContext,
  scope: ApiKeyScope,
): Promise<Record<string, string> | Response> {
  const session = sessionOf(c);
  const form = await c.req.parseBody();
  if (form.csrf !== session.csrf) {
    return c.text("Refused: the form's token is missing or stale", 403);
  }
  if (!may(session, scope)) {
    return c.text(`Refused: this needs a key with ${scope} scope`, 403);
  }
  const fields: Record<string, string> = {};
  for (const [key, value] of Object.entries(form)) {
    if (typeof value === "string") fields[key] = value;
  }
  return fields;
}
