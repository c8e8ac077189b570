/**
 * The CLI's plain-connection HTTP client answers as fetch does: the same status and text for
 * every kind of body the daemon's server sends, and what it cannot send is left to fetch.
 */
import { assert, assertEquals } from "../../tests/helpers/assert.ts";
import { requestDirect } from "./http.ts";

const BIG = "é🙂x".repeat(60_000);

/** A server whose answers cover the body framings Deno.serve uses. */
function serve(hostname = "127.0.0.1") {
  const seen: { method: string; headers: Headers; body: string }[] = [];
  const server = Deno.serve({ hostname, port: 0, onListen() {} }, async (req) => {
    const url = new URL(req.url);
    seen.push({ method: req.method, headers: req.headers, body: await req.text() });
    switch (url.pathname) {
      case "/json":
        return Response.json({ ok: true, query: url.search, text: "naïve ☃" });
      case "/big":
        return new Response(BIG);
      case "/stream":
        return new Response(
          new ReadableStream({
            start(c) {
              for (const part of ['{"a":', "[1,2,", "3]}"]) {
                c.enqueue(new TextEncoder().encode(part));
              }
              c.close();
            },
          }),
        );
      case "/empty":
        return new Response(null, { status: 204 });
      case "/echo":
        return Response.json(seen.at(-1)!.body, { status: 201 });
      default:
        return Response.json({ error: { code: "not_found" } }, { status: 404 });
    }
  });
  return { server, seen };
}

async function viaFetch(url: string, method: string, body?: string) {
  const r = await fetch(url, { method, ...(body !== undefined ? { body } : {}) });
  return { status: r.status, ok: r.ok, text: await r.text() };
}

async function direct(url: string, method: string, body?: string) {
  const r = await requestDirect(new URL(url), method, {}, body);
  assert.ok(r, `no answer from ${url}`);
  return { status: r.status, ok: r.ok, text: await r.text() };
}

Deno.test("a plain-connection exchange gives fetch's status and text", async () => {
  const { server, seen } = serve();
  try {
    const base = `http://127.0.0.1:${server.addr.port}`;
    for (
      const [path, method, body] of [
        ["/json?x=1&y=%20", "GET"],
        ["/big", "GET"],
        ["/stream", "GET"],
        ["/empty", "DELETE"],
        ["/missing", "GET"],
        ["/echo", "POST", JSON.stringify({ params: { name: "ü", n: 1 } })],
        ["/echo", "PUT", ""],
        ["/echo", "POST"],
      ] as [string, string, string?][]
    ) {
      assertEquals(
        await direct(base + path, method, body),
        await viaFetch(base + path, method, body),
        `${method} ${path}`,
      );
      assertEquals(seen.at(-1)!.body, seen.at(-2)!.body, `${method} ${path} body sent`);
    }
  } finally {
    await server.shutdown();
  }
});

Deno.test("the daemon of an IPv6 address is asked too", async () => {
  let server;
  try {
    server = serve("::1").server;
  } catch {
    return; // no IPv6 loopback on this machine
  }
  try {
    const url = `http://[::1]:${server.addr.port}/json`;
    assertEquals(await direct(url, "GET"), await viaFetch(url, "GET"));
  } finally {
    await server.shutdown();
  }
});

Deno.test("nothing sent when no one listens: null, so the caller asks fetch", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  assertEquals(await requestDirect(new URL(`http://127.0.0.1:${port}/x`), "POST", {}, "{}"), null);
});

Deno.test("a connection closed without an answer: null for a GET, an error otherwise", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  const closing = (async () => {
    for await (const conn of listener) {
      await conn.read(new Uint8Array(1024));
      conn.close();
    }
  })();
  try {
    const url = new URL(`http://127.0.0.1:${port}/x`);
    assertEquals(await requestDirect(url, "GET", {}), null);
    let failed = false;
    await requestDirect(url, "POST", {}, "{}").catch(() => failed = true);
    assert.ok(failed, "a POST that may have arrived is not sent again");
  } finally {
    listener.close();
    await closing.catch(() => {});
  }
});
