/**
 * The dashboard app on a real SQLite store and a real RunManager, driven through
 * `app.request` with no socket; for route-level tests of its pages.
 */
import { assert } from "./assert.ts";
import { tauPaths } from "../../src/config/paths.ts";
import { prepareHome } from "../../src/config/home.ts";
import { parseConfig } from "../../src/config/config.ts";
import { adminKeyDigests, generateApiKey } from "../../src/api/keys.ts";
import type { ConnectionRegistry } from "../../src/connections/registry.ts";
import { RunManager } from "../../src/runner/run_manager.ts";
import { type ApiKeyScope, openStore, type Store } from "../../src/store/mod.ts";
import { dashboardApp } from "../../src/dashboard/app.tsx";
import { Sessions } from "../../src/dashboard/sessions.ts";

export const ADMIN = "tau_sk_" + "7c".repeat(24);
export const ORIGIN = "http://127.0.0.1:8401";

export interface DashboardHarness {
  app: ReturnType<typeof dashboardApp>;
  store: Store;
  home: string;
  clock: { now: number };
  /** Posts the login form with `key`. */
  login(key: string, headers?: Record<string, string>): Promise<Response>;
  /** Logs in with a new stored key of `scope` (the admin key when absent); returns the cookie. */
  session(scope?: ApiKeyScope): Promise<string>;
  get(path: string, cookie?: string): Promise<Response>;
  /** Posts a form from the dashboard's origin. */
  post(path: string, fields: Record<string, string>, cookie?: string): Promise<Response>;
}

export interface HarnessOptions {
  connections?: ConnectionRegistry;
  config?: string;
}

export async function withDashboard(
  fn: (h: DashboardHarness) => Promise<void>,
  options: HarnessOptions = {},
): Promise<void> {
  const home = await Deno.makeTempDir({ prefix: "tau_dashboard_test_" });
  const store = await openStore({ path: `${home}/tau.db` });
  const paths = tauPaths(home);
  // As the daemon prepares it at start: a rollback stages, checks and writes versions there.
  await prepareHome(paths);
  const config = parseConfig(options.config ?? "");
  const clock = { now: Date.now() };
  const app = dashboardApp({
    store,
    runs: new RunManager({ store, paths, daemonPorts: [1] }),
    scheduler: { poke() {} },
    paths,
    config,
    adminKeyDigests: adminKeyDigests([ADMIN]),
    connections: options.connections ?? new Map(),
    daemon: { pid: Deno.pid, host: "127.0.0.1", port: 1, dashboardPort: 2, startedAt: new Date() },
    sessions: new Sessions(() => clock.now),
  });
  const form = (fields: Record<string, string>) => new URLSearchParams(fields).toString();
  const post = async (path: string, fields: Record<string, string>, cookie?: string) =>
    await app.request(`${ORIGIN}${path}`, {
      method: "POST",
      headers: {
        "content-type": "application/x-www-form-urlencoded",
        origin: ORIGIN,
        ...(cookie ? { cookie } : {}),
      },
      body: form(fields),
    });
  const login = async (key: string, headers: Record<string, string> = {}) =>
    await app.request(`${ORIGIN}/login`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", origin: ORIGIN, ...headers },
      body: form({ key }),
    });
  try {
    await fn({
      app,
      store,
      home,
      clock,
      login,
      session: async (scope) => {
        if (!scope) return cookieOf(await login(ADMIN));
        const { id, key, hash } = generateApiKey();
        await store.createApiKey({
          id,
          name: `${scope}-viewer`,
          scope,
          hash,
          created_at: new Date().toISOString(),
        });
        return cookieOf(await login(key));
      },
      get: async (path, cookie) =>
        await app.request(`${ORIGIN}${path}`, { headers: cookie ? { cookie } : {} }),
      post,
    });
  } finally {
    await store.close();
    await Deno.remove(home, { recursive: true });
  }
}

/** The `name=value` part of a Set-Cookie header. */
export function cookieOf(res: Response): string {
  const header = res.headers.get("set-cookie");
  assert(header, "a session cookie was set");
  return header.split(";")[0]!;
}

/** The csrf token in a page's forms. */
export function csrfOf(html: string): string {
  const csrf = /name="csrf" value="([^"]+)"/.exec(html)?.[1];
  assert(csrf, "the page carries a csrf token");
  return csrf;
}
