/**
 * The frame of every dashboard page and the small pieces pages share. Rendered with hono/jsx,
 * which escapes every value; no page has inline script or style (the CSP forbids both), and
 * the only script is htmx, served by the daemon itself.
 */
import type { Child } from "hono/jsx";
import type { Session } from "./sessions.ts";

/** htmx without eval, script tags in swapped content, or its injected (inline) style. */
const HTMX_CONFIG = JSON.stringify({
  includeIndicatorStyles: false,
  allowEval: false,
  allowScriptTags: false,
  selfRequestsOnly: true,
});

const NAV = [
  ["/", "Pipelines"],
  ["/dag", "DAG"],
  ["/errors", "Errors"],
  ["/workers", "Workers"],
  ["/connections", "Connections"],
] as const;

export function Layout(props: { title: string; session?: Session; children: Child }) {
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="htmx-config" content={HTMX_CONFIG} />
        <title>{props.title} · Tau</title>
        <link rel="stylesheet" href="/static/dashboard.css" />
        {props.session && <script src="/static/htmx.min.js" defer></script>}
      </head>
      <body>
        <header>
          <a class="brand" href="/">Tau</a>
          {props.session && (
            <nav>
              {NAV.map(([href, label]) => <a href={href}>{label}</a>)}
            </nav>
          )}
          {props.session && (
            <form method="post" action="/logout" class="logout">
              <input type="hidden" name="csrf" value={props.session.csrf} />
              <span class="scope">{props.session.principal.scope} key</span>
              <button type="submit">Log out</button>
            </form>
          )}
        </header>
        <main>{props.children}</main>
      </body>
    </html>
  );
}

/** An ISO time as `YYYY-MM-DD HH:MM:SSZ`, or a dash. */
export function when(iso: string | null | undefined): string {
  return iso ? iso.replace("T", " ").replace(/\.\d+Z$/, "Z") : "—";
}

/** Milliseconds as `850 ms`, `12.3 s`, `4 min 05 s`. */
export function duration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return "—";
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const s = Math.round(ms / 1000);
  return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, "0")} s`;
}

/** A run or step status as a coloured label. */
export function Status(props: { status: string | null }) {
  const status = props.status ?? "none";
  return <span class={`status status-${status}`}>{props.status ?? "never run"}</span>;
}

/** The hidden csrf field every mutating form carries. */
export function Csrf(props: { session: Session }) {
  return <input type="hidden" name="csrf" value={props.session.csrf} />;
}

export function NotFoundPage(props: { session: Session; message: string }) {
  return (
    <Layout title="Not found" session={props.session}>
      <h1>Not found</h1>
      <p class="empty">{props.message}</p>
    </Layout>
  );
}
