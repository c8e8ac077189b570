/**
 * The web dashboard, served by the daemon (api role) on a port of its own. A user logs in with
 * an API key once; the browser then holds only a random session id in an HttpOnly,
 * SameSite=Strict cookie. Pages follow the key's scope. Every response carries a strict
 * Content-Security-Policy, and every form that changes something must come from the dashboard's
 * own origin with its session's token.
 */
import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import { keyParamIn } from "../api/auth.ts";
import { verifyApiKey } from "../api/keys.ts";
import { errorText, TauError } from "../core/errors.ts";
import { log } from "../core/log.ts";
import { assetRoutes } from "./assets.ts";
import { type DashboardDeps, type Env, page, requireSession } from "./context.ts";
import { dagPages } from "./dag_page.tsx";
import { fleetPages } from "./fleet_pages.tsx";
import { overviewRows } from "./overview.ts";
import { LoginPage, OverviewPage } from "./pages.tsx";
import { pipelinePages } from "./pipeline_page.tsx";
import { runPages } from "./run_page.tsx";
import { type Session, SESSION_TTL_MS, Sessions } from "./sessions.ts";

export const SESSION_COOKIE = "tau_session";

/** No inline script or style, nothing from another origin, no framing. */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join("; ");

export function dashboardApp(deps: DashboardDeps): Hono<Env> {
  const sessions = deps.sessions ?? new Sessions();
  const app = new Hono<Env>();

  app.use("*", async (c, next) => {
    await next();
    c.header("Content-Security-Policy", CONTENT_SECURITY_POLICY);
    c.header("X-Content-Type-Options", "nosniff");
    c.header("X-Frame-Options", "DENY");
    // Not no-referrer: with it Chromium sends `Origin: null` on the dashboard's own form posts.
    c.header("Referrer-Policy", "same-origin");
    if (!c.res.headers.has("Cache-Control")) c.header("Cache-Control", "no-store");
  });

  // A key in a URL never logs in: it would sit in history and proxy logs.
  app.use("*", async (c, next) => {
    const name = keyParamIn(c.req.url);
    if (name === null) return await next();
    const error = `API keys are not accepted in the URL (query parameter ${name}); ` +
      "revoke a key that was sent this way, then log in with the form";
    return page(c, <LoginPage error={error} />, 400);
  });

  // Anything but a read must come from the dashboard's own pages.
  app.use("*", async (c, next) => {
    if (c.req.method === "GET" || c.req.method === "HEAD") return await next();
    const origin = c.req.header("origin");
    const crossSite = c.req.header("sec-fetch-site") === "cross-site";
    if (crossSite || (origin !== undefined && origin !== new URL(c.req.url).origin)) {
      return c.text("Refused: a cross-site request", 403);
    }
    await next();
  });
  app.use("*", bodyLimit({ maxSize: 16 * 1024, onError: (c) => c.text("Request too large", 413) }));

  // The session, if any; one whose key was revoked since ends here.
  app.use("*", async (c, next) => {
    let session = sessions.get(getCookie(c, SESSION_COOKIE));
    if (session?.principal.id) {
      const key = await deps.store.getApiKey(session.principal.id);
      if (!key || key.revoked_at) {
        sessions.delete(session.id);
        session = null;
      }
    }
    c.set("session", session);
    await next();
  });

  app.route("/", assetRoutes());

  app.get("/", async (c) => {
    const session = c.get("session");
    if (!session) return page(c, <LoginPage />);
    const rows = await overviewRows(deps.store, deps.config.scheduler.timezone);
    return page(c, <OverviewPage session={session} rows={rows} />);
  });

  app.post("/login", async (c) => {
    const form = await c.req.parseBody();
    const key = typeof form.key === "string" ? form.key.trim() : "";
    let session: Session;
    try {
      const principal = await verifyApiKey(key, {
        store: deps.store,
        adminDigests: deps.adminKeyDigests,
      });
      session = sessions.create(principal);
    } catch {
      return page(c, <LoginPage error="That API key is not valid, or was revoked." />, 401);
    }
    setCookie(c, SESSION_COOKIE, session.id, {
      httpOnly: true,
      sameSite: "Strict",
      path: "/",
      maxAge: SESSION_TTL_MS / 1000,
      secure: new URL(c.req.url).protocol === "https:",
    });
    return c.redirect("/", 303);
  });

  app.post("/logout", async (c) => {
    const session = c.get("session");
    const form = await c.req.parseBody();
    if (!session || form.csrf !== session.csrf) return c.text("Refused: no valid session", 403);
    sessions.delete(session.id);
    deleteCookie(c, SESSION_COOKIE, { path: "/" });
    return c.redirect("/", 303);
  });

  // Every other page needs a session.
  app.use("*", requireSession());
  app.route("/", pipelinePages(deps));
  app.route("/", runPages(deps));
  app.route("/", dagPages(deps));
  app.route("/", fleetPages(deps));

  app.notFound((c) => c.text("Not found", 404));
  app.onError((err, c) => {
    // A pipeline or run that is not there (a stale link, a deleted pipeline).
    if (err instanceof TauError && err.code === "not_found") return c.text(err.message, 404);
    log("dashboard_error", { path: c.req.path, error: errorText(err) });
    return c.text("The dashboard failed to render this page; the daemon log says why", 500);
  });
  return app;
}
