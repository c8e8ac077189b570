/**
 * How the CLI finds its daemon, against real sockets: it never falls back to a guessed address,
 * and when no daemon answers it says which address it tried, where that came from, and why.
 */
import { assert, assertEquals, assertMatch } from "../../tests/helpers/assert.ts";
import { TauError } from "../core/errors.ts";
import { connect, RemoteError } from "./client.ts";

function env(vars: Record<string, string>) {
  return { get: (name: string) => vars[name] };
}

/** A port nothing listens on (bound, then closed). */
function closedPort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

async function failure(promise: Promise<unknown>): Promise<TauError> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof TauError, String(err));
    return err;
  }
  throw new Error("expected a TauError");
}

async function withHome(fn: (home: string) => Promise<void>) {
  const home = await Deno.makeTempDir({ prefix: "tau_client_" });
  try {
    await fn(home);
  } finally {
    await Deno.remove(home, { recursive: true });
  }
}

const state = (home: string, pid: number, port: number) =>
  Deno.writeTextFile(
    `${home}/taud.json`,
    JSON.stringify({ pid, host: "127.0.0.1", port, home, started_at: "2026-01-01T00:00:00Z" }),
  );

/** A pid no process has (above Linux's pid_max). */
const DEAD_PID = 2 ** 30;

Deno.test("without taud.json or TAU_HOST the CLI asks no one, not even a daemon on TAU_PORT", async () => {
  let asked = 0;
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, () => {
    asked++;
    return Response.json({ error: { code: "unauthorized", message: "no" } }, { status: 401 });
  });
  try {
    await withHome(async (home) => {
      const err = await failure(
        connect(env({ TAU_HOME: home, TAU_PORT: String(server.addr.port) })),
      );
      assertEquals(err.code, "daemon_unreachable");
      assertMatch(err.message, new RegExp(`${home}/taud\\.json does not exist`));
      assertMatch(err.message, /TAU_HOST is not set/);
      assertMatch(err.hint ?? "", /start the daemon with taud/);
      assertMatch(err.hint ?? "", /TAU_HOST and TAU_API_KEY/);
      assertEquals(asked, 0);
    });
  } finally {
    await server.shutdown();
  }
});

Deno.test("a taud.json whose daemon is gone is reported as stale, with the refused address", async () => {
  await withHome(async (home) => {
    const port = closedPort();
    await state(home, DEAD_PID, port);
    const client = await connect(env({ TAU_HOME: home }));
    const err = await failure(client.request("GET", "/status"));
    assertEquals(err.code, "daemon_unreachable");
    assertMatch(err.message, new RegExp(`http://127\\.0\\.0\\.1:${port}`));
    assertMatch(err.message, /connection refused/);
    assertMatch(err.message, /is not running, so that file is stale/);
    assertMatch(err.hint ?? "", /start the daemon again with taud/);
    assertEquals((err.details as { stale: boolean }).stale, true);

    // The same file naming a live process: not stale, and the log is where to look.
    await state(home, Deno.pid, port);
    const alive = await failure((await connect(env({ TAU_HOME: home }))).request("GET", "/"));
    assertMatch(alive.message, new RegExp(`pid ${Deno.pid} is alive`));
    assertMatch(alive.hint ?? "", /taud\.log/);
  });
});

Deno.test("TAU_HOST that does not answer is named as the source of the address", async () => {
  await withHome(async (home) => {
    const port = closedPort();
    const client = await connect(env({ TAU_HOME: home, TAU_HOST: `127.0.0.1:${port}` }));
    const err = await failure(client.request("GET", "/status"));
    assertEquals(err.code, "daemon_unreachable");
    assertEquals(
      err.message,
      `Cannot reach taud at http://127.0.0.1:${port} (from TAU_HOST): connection refused`,
    );
    assertMatch(err.hint ?? "", /unset TAU_HOST/);
  });
});

Deno.test("a local daemon that serves no API says so", async () => {
  await withHome(async (home) => {
    await Deno.writeTextFile(
      `${home}/taud.json`,
      JSON.stringify({ pid: Deno.pid, host: "127.0.0.1", port: 0, home, roles: ["worker"] }),
    );
    const err = await failure(connect(env({ TAU_HOME: home })));
    assertEquals(err.code, "daemon_unreachable");
    assertMatch(err.message, /roles worker\) serves no API/);
  });
});

Deno.test("a 401 to a request sent without any key says no key was sent", async () => {
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, () =>
    Response.json({
      error: { code: "unauthorized", message: "Missing API key", hint: "check TAU_API_KEY" },
    }, { status: 401 }));
  try {
    await withHome(async (home) => {
      const url = `http://127.0.0.1:${server.addr.port}`;
      const client = await connect(env({ TAU_HOME: home, TAU_HOST: url }));
      try {
        await client.request("GET", "/status");
        throw new Error("expected a 401");
      } catch (err) {
        assert.ok(err instanceof RemoteError, String(err));
        const body = err.body as { error: { code: string; message: string; hint: string } };
        assertEquals(body.error.code, "unauthorized");
        assertMatch(body.error.message, /none was sent: TAU_API_KEY is not set/);
        assertMatch(body.error.message, new RegExp(`${home}/api_key does not exist`));
      }
    });
  } finally {
    await server.shutdown();
  }
});

Deno.test("a TAU_HOST that is not a URL is refused before any request", async () => {
  const err = await failure(connect(env({ TAU_HOST: "http://[bad" })));
  assertEquals(err.code, "invalid_params");
  assertMatch(err.message, /TAU_HOST is not a URL/);
});
