/**
 * http_api against a real local HTTP server (Deno.serve on port 0, one per test, shut down in
 * `finally` and by a guard timer so a hung test cannot leave it running).
 */
import { assert, assertEquals, assertMatch } from "../../tests/helpers/assert.ts";
import { httpApi, HttpApiError, type HttpApiOptions } from "./http_api.ts";
import { retryAfterMs } from "./_http_request.ts";
import { errorDetails } from "../_error_details.ts";
import { ConnectorError, type Row } from "./types.ts";

interface Seen {
  method: string;
  /** Path and query, e.g. `/items?page=2`. */
  url: string;
  headers: Headers;
  body: string;
  at: number;
}

type Handler = (req: Request, seen: Seen, n: number) => Response | Promise<Response>;

async function withServer(
  handler: Handler,
  fn: (base: string, seen: Seen[]) => Promise<void>,
): Promise<void> {
  const seen: Seen[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    const url = new URL(req.url);
    const entry = {
      method: req.method,
      url: url.pathname + url.search,
      headers: req.headers,
      body: await req.text(),
      at: performance.now(),
    };
    seen.push(entry);
    return await handler(req, entry, seen.length);
  });
  const guard = setTimeout(() => server.shutdown(), 15_000);
  try {
    await fn(`http://127.0.0.1:${server.addr.port}`, seen);
  } finally {
    clearTimeout(guard);
    await server.shutdown();
  }
}

const json = (value: unknown, init?: ResponseInit) => Response.json(value, init);

/** Fast retries for tests. */
function api(baseUrl: string, extra: Partial<HttpApiOptions> = {}) {
  return httpApi({ baseUrl, retryBaseMs: 2, maxRetryDelayMs: 50, timeoutMs: 2_000, ...extra });
}

async function rejects(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    assert(error instanceof Error);
    return error;
  }
  throw new Error("expected a rejection");
}

function throws(fn: () => unknown): Error {
  try {
    fn();
  } catch (error) {
    assert(error instanceof Error);
    return error;
  }
  throw new Error("expected a throw");
}

const ROWS: Row[] = [1, 2, 3, 4, 5].map((id) => ({ id }));

Deno.test("auth headers: bearer, api_key (default and custom header), basic", async () => {
  const cases: Array<[HttpApiOptions["auth"], string, string]> = [
    [{ type: "bearer", token: "tok-123" }, "authorization", "Bearer tok-123"],
    [{ type: "api_key", value: "key-456" }, "x-api-key", "key-456"],
    [{ type: "api_key", header: "X-Custom-Key", value: "key-789" }, "x-custom-key", "key-789"],
    [
      { type: "basic", username: "ana", password: "pässwörd" },
      "authorization",
      `Basic ${btoa(String.fromCharCode(...new TextEncoder().encode("ana:pässwörd")))}`,
    ],
  ];
  for (const [auth, header, expected] of cases) {
    await withServer(
      (_req, seen) =>
        seen.headers.get(header) === expected && seen.headers.get("x-team") === "data"
          ? json([{ ok: true }])
          : json({ error: "bad credentials" }, { status: 401 }),
      async (base, seen) => {
        await using conn = api(base, { auth, headers: { "X-Team": "data" } });
        assertEquals(await conn.extract({ endpoint: "/me" }), [{ ok: true }]);
        assertEquals(seen[0]?.url, "/me"); // nothing in the query string
        assertEquals(seen[0]?.headers.get("accept"), "application/json");
      },
    );
  }
});

Deno.test("credentials are scrubbed from error messages, even when the server echoes them", async () => {
  await withServer(
    (req) => json({ error: `bad token ${req.headers.get("authorization")}` }, { status: 403 }),
    async (base) => {
      await using conn = api(base, { auth: { type: "bearer", token: "sekrit-token" } });
      const error = await rejects(conn.extract({ endpoint: "/x" }));
      assertMatch(error.message, /403/);
      assertMatch(error.message, /\[REDACTED\]/);
      assert(!error.message.includes("sekrit-token"), error.message);
    },
  );
  const error = throws(() => httpApi({ baseUrl: "https://u:hunter22@h.example/" }));
  assertMatch(error.message, /must not contain a username or password/);
  assert(!error.message.includes("hunter22"));
});

Deno.test("page pagination: size known stops on a short page, otherwise on an empty page", async () => {
  const handler: Handler = (req) => {
    const q = new URL(req.url).searchParams;
    const size = Number(q.get("per_page") ?? 2);
    const page = Number(q.get("p"));
    return json({ data: ROWS.slice((page - 1) * size, page * size) });
  };
  await withServer(handler, async (base, seen) => {
    await using conn = api(base);
    const rows = await conn.extract({
      endpoint: "/items",
      params: { status: "open" },
      path: "data",
      pagination: { type: "page", param: "p", sizeParam: "per_page", size: 2 },
    });
    assertEquals(rows, ROWS);
    assertEquals(seen.map((s) => s.url), [
      "/items?status=open&p=1&per_page=2",
      "/items?status=open&p=2&per_page=2",
      "/items?status=open&p=3&per_page=2",
    ]);
  });
  await withServer(handler, async (base, seen) => {
    await using conn = api(base);
    const batches: Row[][] = [];
    for await (
      const batch of conn.extractStream({
        endpoint: "/items",
        path: "$.data",
        pagination: { type: "page", param: "p" },
      })
    ) batches.push(batch);
    assertEquals(batches, [ROWS.slice(0, 2), ROWS.slice(2, 4), ROWS.slice(4)]);
    assertEquals(seen.map((s) => s.url), ["/items?p=1", "/items?p=2", "/items?p=3", "/items?p=4"]);
  });
});

Deno.test("offset pagination advances by rows received (a server cap on limit loses nothing)", async () => {
  await withServer(
    (req) => {
      const q = new URL(req.url).searchParams;
      const offset = Number(q.get("skip"));
      const limit = Math.min(Number(q.get("take")), 2); // the server caps the page at 2 rows
      return json(ROWS.slice(offset, offset + limit));
    },
    async (base, seen) => {
      await using conn = api(base);
      const rows = await conn.extract({
        endpoint: "items",
        pagination: { type: "offset", param: "skip", limitParam: "take", limit: 10 },
      });
      assertEquals(rows, ROWS);
      assertEquals(seen.map((s) => s.url), [
        "/items?skip=0&take=10",
        "/items?skip=2&take=10",
        "/items?skip=4&take=10",
        "/items?skip=5&take=10",
      ]);
    },
  );
});

Deno.test("cursor pagination follows cursorPath until it is null; a stuck cursor throws", async () => {
  const pages: Record<string, { items: Row[]; meta: { next: string | null } }> = {
    "": { items: ROWS.slice(0, 2), meta: { next: "c2" } },
    c2: { items: ROWS.slice(2, 4), meta: { next: "c3" } },
    c3: { items: ROWS.slice(4), meta: { next: null } },
  };
  await withServer(
    (req) => json(pages[new URL(req.url).searchParams.get("after") ?? ""]),
    async (base, seen) => {
      await using conn = api(`${base}/v2`);
      const rows = await conn.extract({
        endpoint: "/events",
        params: { kind: "click" },
        path: "items",
        pagination: { type: "cursor", param: "after", cursorPath: "$.meta.next" },
      });
      assertEquals(rows, ROWS);
      assertEquals(seen.map((s) => s.url), [
        "/v2/events?kind=click",
        "/v2/events?kind=click&after=c2",
        "/v2/events?kind=click&after=c3",
      ]);
    },
  );
  await withServer(() => json({ items: [{ id: 1 }], next: "same" }), async (base, seen) => {
    await using conn = api(base);
    const error = await rejects(
      conn.extract({
        endpoint: "/e",
        path: "items",
        pagination: { type: "cursor", cursorPath: "next" },
      }),
    );
    assertMatch(error.message, /did not change/);
    assertEquals(seen.length, 2);
  });
});

Deno.test("the page cap throws with the way out, unless allowPartial", async () => {
  const endless: Handler = (req) =>
    json([{ page: Number(new URL(req.url).searchParams.get("page")) }]);
  await withServer(endless, async (base, seen) => {
    await using conn = api(base, { maxPages: 3 });
    const batches: Row[][] = [];
    const error = await rejects((async () => {
      for await (const b of conn.extractStream({ endpoint: "/x", pagination: { type: "page" } })) {
        batches.push(b);
      }
    })());
    assert(error instanceof ConnectorError);
    assertMatch(error.message, /page cap \(maxPages = 3\) after 3 rows/);
    assertMatch(error.message, /maxPages: 30.*allowPartial: true/);
    assertEquals(batches.length, 3); // the pages read were delivered before the error
    assertEquals(seen.length, 3);

    const partial = await conn.extract({
      endpoint: "/x",
      pagination: { type: "page" },
      allowPartial: true,
    });
    assertEquals(partial, [{ page: 1 }, { page: 2 }, { page: 3 }]);
  });
  // A walk that ends exactly at the cap is not an error.
  await withServer(
    (req) => json(new URL(req.url).searchParams.get("page") === "1" ? [{ a: 1 }] : []),
    async (base) => {
      await using conn = api(base, { maxPages: 2 });
      assertEquals(await conn.extract({ endpoint: "/x", pagination: { type: "page" } }), [{
        a: 1,
      }]);
    },
  );
});

Deno.test("429 with Retry-After waits that long, capped by maxRetryDelayMs", async () => {
  await withServer(
    (_req, _seen, n) =>
      n === 1
        ? new Response("slow down", { status: 429, headers: { "retry-after": "0.3" } })
        : json([{ ok: 1 }]),
    async (base, seen) => {
      await using conn = api(base, { retryBaseMs: 1, maxRetryDelayMs: 5_000 });
      assertEquals(await conn.extract({ endpoint: "/r" }), [{ ok: 1 }]);
      assertEquals(seen.length, 2);
      const gap = seen[1]!.at - seen[0]!.at;
      assert(gap >= 280, `waited only ${gap} ms`);
    },
  );
  await withServer(
    (_req, _seen, n) =>
      n === 1
        ? new Response("", { status: 429, headers: { "retry-after": "30" } })
        : json([{ ok: 1 }]),
    async (base, seen) => {
      await using conn = api(base, { retryBaseMs: 1, maxRetryDelayMs: 150 });
      assertEquals(await conn.extract({ endpoint: "/r" }), [{ ok: 1 }]);
      const gap = seen[1]!.at - seen[0]!.at;
      assert(gap >= 140 && gap < 2_000, `gap ${gap} ms`);
    },
  );
});

Deno.test("Retry-After as seconds or an HTTP date", () => {
  const now = Date.parse("2025-01-01T00:00:00Z");
  assertEquals(retryAfterMs("2", now), 2_000);
  assertEquals(retryAfterMs("Wed, 01 Jan 2025 00:00:05 GMT", now), 5_000);
  assertEquals(retryAfterMs("Tue, 31 Dec 2024 23:00:00 GMT", now), 0);
  assertEquals(retryAfterMs("soon", now), null);
  assertEquals(retryAfterMs(null, now), null);
});

Deno.test("503 is retried then succeeds; a lasting 503 fails with status and body excerpt", async () => {
  await withServer(
    (_req, _seen, n) => n <= 2 ? new Response("busy", { status: 503 }) : json([{ ok: 1 }]),
    async (base, seen) => {
      await using conn = api(base);
      assertEquals(await conn.extract({ endpoint: "/s" }), [{ ok: 1 }]);
      assertEquals(seen.length, 3);
    },
  );
  await withServer(
    () => new Response("upstream down\n  try later", { status: 503 }),
    async (base, seen) => {
      await using conn = api(base, { maxRetries: 2 });
      const error = await rejects(conn.extract({ endpoint: "/s", params: { token: "q" } }));
      assert(error instanceof HttpApiError);
      assertEquals([error.status, error.attempts, seen.length], [503, 3, 3]);
      assertMatch(
        error.message,
        /GET http:\/\/127\.0\.0\.1:\d+\/s → 503 .*after 3 attempts: upstream down try later$/,
      );
    },
  );
});

Deno.test("404 and other 4xx are not retried", async () => {
  await withServer(() => json({ error: "no such thing" }, { status: 404 }), async (base, seen) => {
    await using conn = api(base);
    const error = await rejects(conn.extract({ endpoint: "/missing" }));
    assert(error instanceof HttpApiError);
    assertEquals([error.status, error.attempts, seen.length], [404, 1, 1]);
    assertMatch(error.message, /404 Not Found: \{"error":"no such thing"\}/);
  });
});

Deno.test("a slow answer times out per attempt and is retried", async () => {
  const gate = Promise.withResolvers<void>();
  await withServer(
    async () => {
      await gate.promise; // answers only once the test is done
      return json([]);
    },
    async (base, seen) => {
      await using conn = api(base, { timeoutMs: 100, maxRetries: 1 });
      const started = performance.now();
      const error = await rejects(conn.extract({ endpoint: "/slow" }));
      assert(error instanceof HttpApiError);
      assertMatch(error.message, /failed after 2 attempts: timed out after 100 ms/);
      assertEquals([error.status, seen.length], [null, 2]);
      assert(performance.now() - started < 900);
      gate.resolve();
    },
  );
});

Deno.test("path selection: errors name the keys seen; scalars become { value } rows", async () => {
  await withServer(
    () => json({ data: { items: [{ a: 1 }, 7], total: 2 }, meta: {} }),
    async (base) => {
      await using conn = api(base);
      const e1 = await rejects(conn.extract({ endpoint: "/p" }));
      assertMatch(
        e1.message,
        /response is an object, not an array; set path .*keys seen: data, meta/,
      );
      const e2 = await rejects(conn.extract({ endpoint: "/p", path: "data.rows" }));
      assertMatch(
        e2.message,
        /path "data.rows" not found .*nothing at data \(keys seen: items, total\)/,
      );
      const e3 = await rejects(conn.extract({ endpoint: "/p", path: "data" }));
      assertMatch(
        e3.message,
        /path "data" selects an object, not an array \(keys seen: items, total\)/,
      );
      assertEquals(await conn.extract({ endpoint: "/p", path: "$.data.items" }), [{ a: 1 }, {
        value: 7,
      }]);
    },
  );
  await withServer(() => new Response("<html>oops</html>"), async (base) => {
    await using conn = api(base);
    assertMatch((await rejects(conn.extract({ endpoint: "/h" }))).message, /not JSON: <html>oops/);
  });
});

Deno.test("load posts JSON arrays in batches and counts rows; refuses replace/upsert", async () => {
  await withServer(() => new Response(null, { status: 201 }), async (base, seen) => {
    await using conn = api(base);
    assertEquals(
      (await conn.load(ROWS, { endpoint: "/ingest", batchSize: 2, table: "ignored" })).rows,
      5,
    );
    assertEquals(seen.map((s) => [s.method, s.url, JSON.parse(s.body).length]), [
      ["POST", "/ingest", 2],
      ["POST", "/ingest", 2],
      ["POST", "/ingest", 1],
    ]);
    assertEquals(seen[0]?.headers.get("content-type"), "application/json");
    assertEquals(JSON.parse(seen[2]!.body), [{ id: 5 }]);

    async function* source() {
      yield ROWS.slice(0, 3);
      yield ROWS.slice(3);
    }
    seen.length = 0;
    assertEquals(
      await conn.load(source(), { endpoint: "/ingest", batchSize: 2, method: "PUT" }),
      { rows: 5, schema_changes: null },
    );
    assertEquals(seen.map((s) => [s.method, JSON.parse(s.body).length]), [
      ["PUT", 2],
      ["PUT", 1],
      ["PUT", 2],
    ]);
    assertEquals((await conn.load([], { endpoint: "/ingest" })).rows, 0);
    assertMatch(
      (await rejects(conn.load(ROWS, { endpoint: "/ingest", table: "t", mode: "upsert" }))).message,
      /mode "append" only/,
    );
  });
  await withServer(
    (_req, _seen, n) => n === 2 ? new Response("bad row", { status: 422 }) : new Response(null),
    async (base) => {
      await using conn = api(base);
      const error = await rejects(conn.load(ROWS, { endpoint: "/ingest", batchSize: 2 }));
      assertMatch(error.message, /422 .*bad row \(2 rows were sent before this batch\)/);
    },
  );
});

Deno.test("endpoints join under the base path; other origins are refused before any request", async () => {
  await withServer((req) => json([{ url: new URL(req.url).pathname }]), async (base, seen) => {
    await using conn = api(`${base}/api/v1`);
    assertEquals(await conn.extract({ endpoint: "/users" }), [{ url: "/api/v1/users" }]);
    assertEquals(await conn.extract({ endpoint: "items:batchGet" }), [{
      url: "/api/v1/items:batchGet",
    }]);
    assertEquals(await conn.extract({ endpoint: `${base}/other` }), [{ url: "/other" }]);
    for (const endpoint of ["https://evil.example/x", "//evil.example/x", "\\\\evil.example/x"]) {
      const error = await rejects(conn.extract({ endpoint }));
      assert(error instanceof ConnectorError);
      assertMatch(
        error.message,
        /not to the baseUrl origin http:\/\/127\.0\.0\.1:\d+; a connection only calls/,
      );
    }
    const localhost = base.replace("127.0.0.1", "localhost");
    await rejects(conn.load(ROWS, { endpoint: `${localhost}/x` }));
    await rejects(conn.execute(`${localhost}/x`));
    assertEquals(seen.length, 3);
  });
});

Deno.test("redirects: same origin followed, another origin refused", async () => {
  await withServer(
    (req) => {
      const url = new URL(req.url);
      if (url.pathname === "/old") return Response.redirect(new URL("/new", url), 301);
      if (url.pathname === "/away") {
        return Response.redirect(url.href.replace("127.0.0.1", "localhost"), 302);
      }
      return json([{ at: url.pathname }]);
    },
    async (base, seen) => {
      await using conn = api(base, { auth: { type: "bearer", token: "t0ken" } });
      assertEquals(await conn.extract({ endpoint: "/old" }), [{ at: "/new" }]);
      const error = await rejects(conn.extract({ endpoint: "/away" }));
      assertMatch(
        error.message,
        /redirected to another origin \(http:\/\/localhost:\d+\); refused/,
      );
      assertEquals(seen.map((s) => s.url), ["/old", "/new", "/away"]);
    },
  );
});

Deno.test("execute: optional method prefix, params[0] as JSON body, answer as rows", async () => {
  await withServer(
    (req, seen) => json(req.method === "DELETE" ? null : { echo: JSON.parse(seen.body || "null") }),
    async (base, seen) => {
      await using conn = api(base);
      assertEquals(await conn.execute("/jobs", [{ run: true }]), {
        rowCount: 1,
        rows: [{ echo: { run: true } }],
      });
      assertEquals(await conn.execute("DELETE /jobs/7"), { rowCount: 1, rows: [{ value: null }] });
      assertEquals(seen.map((s) => `${s.method} ${s.url}`), ["POST /jobs", "DELETE /jobs/7"]);
      await rejects(conn.execute("/jobs", [1, 2]));
    },
  );
});

Deno.test("ping: any answer below 500 is reachable; 5xx and no server are not", async () => {
  let status = 404;
  let port = 0;
  await withServer(() => new Response("x", { status }), async (base, seen) => {
    port = Number(new URL(base).port);
    await using conn = api(base);
    await conn.ping();
    status = 503;
    assertMatch((await rejects(conn.ping())).message, /503/);
    assertEquals(seen.length, 2); // ping never retries
  });
  await using gone = api(`http://127.0.0.1:${port}`, { maxRetries: 0 });
  assert((await rejects(gone.ping())) instanceof HttpApiError);
});

Deno.test("a request that never got an answer says why, and keeps fetch's error as cause", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  await using conn = api(`http://127.0.0.1:${port}`, { maxRetries: 0 });
  const error = await rejects(conn.extract({ endpoint: "/users" }));
  assert(error instanceof HttpApiError);
  assertMatch(error.message, /failed after 1 attempt: fetch failed: .*Connection refused/);
  assertEquals(errorDetails(error)?.code, "ECONNREFUSED");
  assertEquals(errorDetails(error)?.target, `127.0.0.1:${port}`);
});

Deno.test("bad options are refused with the key named", async () => {
  await withServer(() => json([]), async (base, seen) => {
    await using conn = api(base);
    const typo = { endpoint: "/x", paginaton: { type: "page" } } as never;
    assertMatch((await rejects(conn.extract(typo))).message, /unknown extract option "paginaton"/);
    const sql = { query: "select 1" } as never;
    assertMatch((await rejects(conn.extract(sql))).message, /"query" \(http_api reads an endpoint/);
    const bad = { endpoint: "/x", pagination: { type: "cursor" } } as never;
    assertMatch((await rejects(conn.extract(bad))).message, /cursorPath is required/);
    assertMatch(
      (await rejects(conn.extract({ endpoint: "/x", params: [1] }))).message,
      /params must be an object/,
    );
    assertEquals(seen.length, 0);
  });
  for (const baseUrl of ["not a url", "ftp://h/", "https://h/?key=1"]) {
    assert(throws(() => httpApi({ baseUrl })) instanceof ConnectorError);
  }
  const auth = { type: "bearer", token: "" } as const;
  assertMatch(
    throws(() => httpApi({ baseUrl: "https://h", auth })).message,
    /auth.token/,
  );
});

Deno.test("close aborts work in flight and refuses new calls", async () => {
  const gate = Promise.withResolvers<void>();
  await withServer(
    async () => {
      await gate.promise; // answers only once the test is done
      return json([]);
    },
    async (base) => {
      const conn = api(base);
      const pending = rejects(conn.extract({ endpoint: "/slow" }));
      await new Promise((r) => setTimeout(r, 50));
      await conn.close();
      assertMatch((await pending).message, /connection closed/);
      assertMatch((await rejects(conn.extract({ endpoint: "/x" }))).message, /connection closed/);
      gate.resolve();
    },
  );
});
