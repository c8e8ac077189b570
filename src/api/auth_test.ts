/**
 * The API's doors, through `createApp(...).fetch` with no socket: scopes per route, key
 * management, keys in URLs, and a JSON error for every refusal. A real SQLite store on a temp
 * file; runs are recorded by a stand-in run manager (nothing executes).
 */
import { DatabaseSync } from "node:sqlite";
import { assert, assertEquals, assertMatch } from "../../tests/helpers/assert.ts";
import { configSchema } from "../config/config.ts";
import { ensureApiKey } from "../config/api_key.ts";
import { tauPaths } from "../config/paths.ts";
import { newRunId } from "../core/ids.ts";
import type { RunManager } from "../runner/run_manager.ts";
import { type Json, openStore, requirePipeline, type Store } from "../store/mod.ts";
import { createApp } from "./app.ts";
import { MAX_BODY_BYTES } from "./_body.ts";
import { findRule, ROUTE_SCOPES, SIGNED_ROUTES } from "./auth.ts";
import { adminKeyDigests, hashApiKey } from "./keys.ts";

const ADMIN = "tau_sk_" + "5a".repeat(24);
const BASE = "http://127.0.0.1/api/v1";

interface Harness {
  app: ReturnType<typeof createApp>;
  store: Store;
  dbPath: string;
  call(method: string, path: string, options?: { key?: string | null; body?: unknown }): Promise<{
    status: number;
    // deno-lint-ignore no-explicit-any
    json: any;
  }>;
  /** Creates a key through the API with the admin key; returns the key. */
  newKey(scope: string, name?: string): Promise<string>;
}

/** A stand-in for the run manager: records runs in the store, never starts one. */
function recordingRuns(store: Store) {
  return {
    activeCount: 0,
    warmPoolStatus: () => null,
    async submit(name: string, request: { params?: Record<string, Json> } = {}) {
      const p = await requirePipeline(store, name);
      return store.createRun({
        run_id: newRunId(),
        pipeline: p.name,
        version: p.current_version,
        trigger: "manual",
        params: request.params ?? {},
        max_attempts: 1,
        permissions: null,
      });
    },
    waitFor: () => Promise.resolve(),
    async cancel(runId: string) {
      return (await store.updateRun(runId, { status: "cancelled" }))!;
    },
  } as unknown as RunManager;
}

async function withApi(fn: (h: Harness) => void | Promise<void>): Promise<void> {
  const home = await Deno.makeTempDir({ prefix: "tau_auth_test_" });
  const paths = tauPaths(home);
  const store = await openStore({ path: paths.database });
  const app = createApp({
    store,
    runs: recordingRuns(store),
    scheduler: { poke() {} },
    paths,
    config: configSchema.parse({}),
    adminKeyDigests: adminKeyDigests([ADMIN]),
    connections: new Map(),
    daemon: {
      pid: Deno.pid,
      host: "127.0.0.1",
      port: 8400,
      dashboardPort: 0,
      startedAt: new Date(),
    },
  });
  const call: Harness["call"] = async (method, path, options = {}) => {
    const key = options.key === undefined ? ADMIN : options.key;
    const headers: Record<string, string> = key ? { authorization: `Bearer ${key}` } : {};
    const body = options.body === undefined
      ? undefined
      : typeof options.body === "string"
      ? options.body
      : JSON.stringify(options.body);
    const res = await app.fetch(new Request(`${BASE}${path}`, { method, headers, body }));
    assertMatch(res.headers.get("content-type") ?? "", /application\/json/);
    return { status: res.status, json: await res.json() };
  };
  const newKey = async (scope: string, name?: string) => {
    const res = await call("POST", "/keys", { body: { scope, ...(name ? { name } : {}) } });
    assertEquals(res.status, 201, JSON.stringify(res.json));
    return res.json.key as string;
  };
  try {
    await fn({ app, store, dbPath: paths.database, call, newKey });
  } finally {
    await store.close();
    await Deno.remove(home, { recursive: true });
  }
}

/** A pipeline in the store (deployed without the deploy checks), with an interval schedule. */
async function seedPipeline(store: Store, name = "orders") {
  await store.deploy({
    name,
    code: "export default 1;",
    hash: "h1",
    filename: `${name}.ts`,
    source_path: null,
    schedule: null,
    metadata: { description: "Orders", tags: [] },
  });
  await store.setSchedule(name, { cron: null, every_s: 60, timezone: null }, new Date());
}

function assertError(res: { status: number; json: unknown }, status: number, code: string) {
  assertEquals(res.status, status, JSON.stringify(res.json));
  const error = (res.json as { error?: { code?: unknown; message?: unknown } }).error;
  assertEquals(error?.code, code, JSON.stringify(res.json));
  assertEquals(typeof error?.message, "string");
}

const DEPLOY = { code: "export default 1;", filename: "x.ts" };

Deno.test("a read key can GET but is forbidden to run, deploy or manage keys", async () => {
  await withApi(async ({ store, call, newKey }) => {
    await seedPipeline(store);
    const key = await newKey("read");
    assertEquals((await call("GET", "/status", { key })).status, 200);
    assertEquals((await call("GET", "/pipelines", { key })).json.count, 1);
    assertEquals((await call("GET", "/dag", { key })).status, 200);

    const run = await call("POST", "/pipelines/orders/runs", { key, body: {} });
    assertError(run, 403, "forbidden");
    assertMatch(run.json.error.message, /has scope read: POST \/api\/v1\/pipelines\/orders\/runs/);
    assertMatch(run.json.error.hint, /tau keys create --scope operate/);
    assertEquals(run.json.error.details, { scope: "read", required: "operate" });
    assertError(await call("POST", "/pipelines", { key, body: DEPLOY }), 403, "forbidden");
    assertError(await call("GET", "/keys", { key }), 403, "forbidden");
    assertError(await call("POST", "/keys", { key, body: { scope: "read" } }), 403, "forbidden");
    assertEquals((await store.listRuns("orders")).length, 0);
  });
});

Deno.test("an operate key runs, cancels and toggles schedules, but cannot deploy or rewire", async () => {
  await withApi(async ({ store, call, newKey }) => {
    await seedPipeline(store);
    await seedPipeline(store, "upstream");
    const key = await newKey("operate", "ci");
    const run = await call("POST", "/pipelines/orders/runs", { key, body: { params: {} } });
    assertEquals(run.status, 201, JSON.stringify(run.json));
    const cancel = await call("POST", `/runs/${run.json.run_id}/cancel`, { key });
    assertEquals([cancel.status, cancel.json.status], [200, "cancelled"]);
    const off = await call("PUT", "/pipelines/orders/schedule", { key, body: { enabled: false } });
    assertEquals([off.status, off.json.enabled], [200, false]);
    assertError(
      await call("POST", "/connections/warehouse/test", { key }),
      404,
      "not_found", // allowed through: this app has no connections
    );

    assertError(await call("POST", "/pipelines", { key, body: DEPLOY }), 403, "forbidden");
    assertError(await call("DELETE", "/pipelines/orders", { key }), 403, "forbidden");
    assertError(
      await call("PUT", "/pipelines/orders/schedule", { key, body: { every: 30 } }),
      403,
      "forbidden",
    );
    assertError(
      await call("PUT", "/pipelines/orders/schedule", {
        key,
        body: { enabled: true, cron: "0 6 * * *" },
      }),
      403,
      "forbidden",
    );
    assertError(
      await call("PUT", "/pipelines/orders/depends", { key, body: { on: ["upstream"] } }),
      403,
      "forbidden",
    );
    assertError(await call("DELETE", "/keys/whatever", { key }), 403, "forbidden");
    assertEquals((await store.getSchedule("orders"))?.every_s, 60);
  });
});

Deno.test("an admin creates, lists and revokes keys; the key is shown only once", async () => {
  await withApi(async ({ call, newKey }) => {
    const created = await call("POST", "/keys", { body: { scope: "operate", name: "ci" } });
    assertEquals(created.status, 201);
    const { key, ...record } = created.json;
    assertMatch(key, /^tau_[0-9a-f]{12}_[A-Za-z0-9_-]{43}$/);
    assertEquals(Object.keys(record).sort(), [
      "created_at",
      "id",
      "last_used_at",
      "name",
      "revoked_at",
      "scope",
    ]);
    assertEquals([record.name, record.scope, record.revoked_at], ["ci", "operate", null]);

    const admin2 = await newKey("admin");
    const listed = await call("GET", "/keys", { key: admin2 });
    assertEquals(listed.status, 200);
    assertEquals(listed.json.count, 2);
    // Both keys may be created in one millisecond: find each by its id, not by its place.
    const byId = (id: string) => listed.json.keys.find((k: { id: string }) => k.id === id);
    assertEquals(byId(record.id), { ...record, last_used_at: null });
    const text = JSON.stringify(listed.json);
    assert(!text.includes(key) && !text.includes(admin2) && !text.includes("hash"));
    assert(byId(admin2.split("_")[1]!).last_used_at !== null, "the key in use is touched");

    const revoked = await call("DELETE", `/keys/${record.id}`, { key: admin2 });
    assertEquals(revoked.status, 200);
    assertEquals(Object.keys(revoked.json).sort(), ["name", "revoked", "revoked_at", "scope"]);
    assertEquals(revoked.json.revoked, record.id);
    assertError(await call("DELETE", "/keys/nope"), 404, "not_found");
  });
});

Deno.test("a revoked key is refused as unauthorized, saying it was revoked", async () => {
  await withApi(async ({ call, newKey }) => {
    const key = await newKey("read");
    assertEquals((await call("GET", "/status", { key })).status, 200);
    const id = key.split("_")[1];
    assertEquals((await call("DELETE", `/keys/${id}`)).status, 200);
    const res = await call("GET", "/status", { key });
    assertError(res, 401, "unauthorized");
    assertMatch(res.json.error.message, /revoked/);
    assertError(await call("GET", "/status", { key: key.slice(0, -1) + "x" }), 401, "unauthorized");
  });
});

Deno.test("creating a key with an unknown or missing scope is invalid_params", async () => {
  await withApi(async ({ call }) => {
    for (const body of [{ scope: "root" }, {}, { scope: 2 }]) {
      const res = await call("POST", "/keys", { body });
      assertError(res, 400, "invalid_params");
      assertMatch(res.json.error.hint, /read, operate, admin/);
    }
    assertError(
      await call("POST", "/keys", { body: { scope: "read", extra: 1 } }),
      400,
      "invalid_request",
    );
  });
});

Deno.test("only the digest of a key is stored", async () => {
  await withApi(async ({ dbPath, newKey }) => {
    const key = await newKey("admin", "laptop");
    const db = new DatabaseSync(dbPath, { readOnly: true });
    try {
      const rows = db.prepare("SELECT * FROM api_keys").all().map((r) => ({ ...r }));
      assertEquals(rows.length, 1);
      assertEquals(rows[0]?.hash, hashApiKey(key));
      assert(!JSON.stringify(rows).includes(key.split("_").slice(2).join("_")));
    } finally {
      db.close();
    }
  });
});

Deno.test("a key in the query string is refused before authentication", async () => {
  await withApi(async ({ call }) => {
    for (const query of ["api_key=x", "key=x", "token=x", "access_token=x", "Access_Token=x"]) {
      for (const key of [null, ADMIN]) {
        const res = await call("GET", `/status?${query}`, { key });
        assertError(res, 400, "invalid_request");
        assertMatch(res.json.error.hint, /Authorization: Bearer <key>; keys in URLs leak/);
      }
    }
    assertError(await call("GET", "/../dashboard?token=x", { key: null }), 400, "invalid_request");
    assertEquals((await call("GET", "/status?verbose=1")).status, 200);
  });
});

Deno.test("oversized deploys and bodies are refused with JSON", async () => {
  await withApi(async ({ call }) => {
    const code = "//" + "x".repeat(1024 * 1024);
    const deploy = await call("POST", "/pipelines", { body: { code, filename: "big.ts" } });
    assertError(deploy, 413, "payload_too_large");
    assertMatch(deploy.json.error.message, /Pipeline file is larger than 1048576 bytes/);
    assert(deploy.json.error.hint);

    const huge = JSON.stringify({ code: "x".repeat(MAX_BODY_BYTES), filename: "big.ts" });
    assertError(await call("POST", "/pipelines", { body: huge }), 413, "payload_too_large");
    // A route whose scope depends on its body is size-checked before the body is read.
    assertError(
      await call("PUT", "/pipelines/x/schedule", { body: huge }),
      413,
      "payload_too_large",
    );
  });
});

Deno.test("unknown routes, wrong methods, bad JSON and bad keys all get JSON errors", async () => {
  await withApi(async ({ store, call, newKey }) => {
    await seedPipeline(store);
    assertError(await call("GET", "/nope"), 404, "not_found");
    assertError(await call("GET", "/../elsewhere"), 404, "not_found");
    assertError(await call("PATCH", "/pipelines/orders"), 404, "not_found");
    assertError(await call("DELETE", "/status"), 404, "not_found");
    assertError(
      await call("PUT", "/pipelines/orders/depends", { body: "{not json" }),
      400,
      "invalid_request",
    );
    const read = await newKey("read");
    assertError(await call("DELETE", "/status", { key: read }), 403, "forbidden");
    assertError(await call("GET", "/status", { key: null }), 401, "unauthorized");
    assertError(await call("GET", "/status", { key: "wrong-key" }), 401, "unauthorized");
    assertError(await call("GET", "/nope", { key: null }), 401, "unauthorized");
  });
});

Deno.test("every mutating route is named in ROUTE_SCOPES; reads need read", async () => {
  await withApi(({ app }) => {
    const routes = app.routes.filter((r) => r.method !== "ALL" && r.path.startsWith("/api/v1/"));
    assert(routes.length > 15, `found ${routes.length} routes`);
    for (const route of routes) {
      const path = route.path.slice("/api/v1".length);
      // Signed routes take no key (their own test refuses them unsigned): named, never scoped.
      if (findRule(SIGNED_ROUTES.map((r) => ({ ...r, scope: "admin" })), route.method, path)) {
        assert(!findRule(ROUTE_SCOPES, route.method, path), `${path} is signed and scoped`);
        continue;
      }
      const rule = findRule(ROUTE_SCOPES, route.method, path);
      if (route.method === "GET") {
        assertEquals(rule?.scope ?? "read", path === "/keys" ? "admin" : "read", path);
      } else {
        assert(rule, `${route.method} ${path} is not in ROUTE_SCOPES`);
      }
    }
    for (const rule of ROUTE_SCOPES) {
      const served = routes.some((r) =>
        r.method === rule.method && `/api/v1${rule.path}` === r.path
      );
      assert(served, `ROUTE_SCOPES names ${rule.method} ${rule.path}, which no route serves`);
    }
    for (const rule of SIGNED_ROUTES) {
      const served = routes.some((r) =>
        r.method === rule.method && `/api/v1${rule.path}` === r.path
      );
      assert(served, `SIGNED_ROUTES names ${rule.method} ${rule.path}, which no route serves`);
    }
  });
});

Deno.test("the local key file is created 0600, narrowed to 0600, and refused when empty", async () => {
  const home = await Deno.makeTempDir({ prefix: "tau_auth_test_" });
  try {
    const paths = tauPaths(home);
    const key = await ensureApiKey(paths);
    assertMatch(key, /^tau_sk_[0-9a-f]{48}$/);
    assertEquals((await Deno.stat(paths.apiKey)).mode! & 0o777, 0o600);
    await Deno.chmod(paths.apiKey, 0o644);
    assertEquals(await ensureApiKey(paths), key);
    assertEquals((await Deno.stat(paths.apiKey)).mode! & 0o777, 0o600);
    await Deno.writeTextFile(paths.apiKey, "\n");
    await assert.rejects(ensureApiKey(paths), /holds no usable API key/);
  } finally {
    await Deno.remove(home, { recursive: true });
  }
});

Deno.test("create asks with an operate key; deploying what it wrote needs admin", async () => {
  await withApi(async ({ call, newKey }) => {
    const operate = await newKey("operate");
    const read = await newKey("read");
    const body = { intent: "copy orders" };
    // Through the scope check: this app has no [ai], so the route itself refuses.
    assertError(await call("POST", "/create", { key: operate, body }), 503, "ai_not_configured");
    assertError(
      await call("POST", "/create", { key: operate, body: { ...body, deploy: true } }),
      403,
      "forbidden",
    );
    assertError(await call("POST", "/create", { key: read, body }), 403, "forbidden");
    assertError(
      await call("POST", "/create", { body: { ...body, deploy: true } }),
      503,
      "ai_not_configured",
    );
  });
});

Deno.test("rollback needs an operate key", async () => {
  await withApi(async ({ store, call, newKey }) => {
    await seedPipeline(store);
    const read = await newKey("read");
    assertError(await call("POST", "/pipelines/orders/rollback", { key: read }), 403, "forbidden");
    // Let through with operate: refused only because there is nothing to roll back to.
    const operate = await newKey("operate");
    const res = await call("POST", "/pipelines/orders/rollback", { key: operate });
    assertError(res, 409, "conflict");
    assertMatch(res.json.error.message, /no earlier version/);
  });
});

Deno.test("heal --auto needs an operate key; the heals are read", async () => {
  await withApi(async ({ store, call, newKey }) => {
    await seedPipeline(store);
    const read = await newKey("read");
    assertError(await call("POST", "/pipelines/orders/heal", { key: read }), 403, "forbidden");
    assertEquals((await call("GET", "/pipelines/orders/heals", { key: read })).status, 200);
    // Let through with operate: refused only because no model is configured.
    const operate = await newKey("operate");
    const res = await call("POST", "/pipelines/orders/heal", { key: operate, body: {} });
    assertError(res, 503, "ai_not_configured");
  });
});
