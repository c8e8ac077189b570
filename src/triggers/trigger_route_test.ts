/**
 * The signed trigger route and the secret routes through `createApp(...).fetch`, with no
 * socket: a real SQLite store and a real RunManager that queues runs without executing them.
 */
import { assert, assertEquals, assertMatch } from "../../tests/helpers/assert.ts";
import { parseConfig } from "../config/config.ts";
import { tauPaths } from "../config/paths.ts";
import { createApp } from "../api/app.ts";
import { adminKeyDigests } from "../api/keys.ts";
import { RunManager } from "../runner/run_manager.ts";
import { validatePipelineConfig } from "../metadata/schema.ts";
import { openStore, type Store } from "../store/mod.ts";
import { signatureHeader } from "./signature.ts";
import { MAX_TRIGGER_BODY_BYTES } from "./delivery.ts";

const ADMIN = "tau_sk_" + "3e".repeat(24);
const BASE = "http://127.0.0.1/api/v1";

interface Answer {
  status: number;
  // deno-lint-ignore no-explicit-any
  json: any;
}

interface Harness {
  store: Store;
  /** An API call with the admin key (or `key`). */
  api(method: string, path: string, key?: string): Promise<Answer>;
  /** A delivery: no API key, the given headers and raw body. */
  deliver(
    name: string,
    body: BodyInit,
    headers?: Record<string, string>,
    query?: string,
  ): Promise<Answer>;
  /** A correctly signed delivery of `body` (signed `ageS` seconds ago). */
  signed(
    name: string,
    secret: string,
    body: string,
    options?: { ageS?: number; eventId?: string },
  ): Promise<Answer>;
}

async function withTriggers(fn: (h: Harness) => Promise<void>): Promise<void> {
  const home = await Deno.makeTempDir({ prefix: "tau_trigger_test_" });
  const paths = tauPaths(home);
  const store = await openStore({ path: paths.database });
  const app = createApp({
    store,
    runs: new RunManager({ store, paths, daemonPorts: [1], execute: false }),
    scheduler: { poke() {} },
    paths,
    config: parseConfig(""),
    adminKeyDigests: adminKeyDigests([ADMIN]),
    connections: new Map(),
    daemon: { pid: Deno.pid, host: "127.0.0.1", port: 1, dashboardPort: 0, startedAt: new Date() },
  });
  const answer = async (res: Response): Promise<Answer> => {
    assertMatch(res.headers.get("content-type") ?? "", /application\/json/);
    return { status: res.status, json: await res.json() };
  };
  const h: Harness = {
    store,
    api: async (method, path, key = ADMIN) =>
      answer(
        await app.fetch(
          new Request(`${BASE}${path}`, { method, headers: { authorization: `Bearer ${key}` } }),
        ),
      ),
    deliver: async (name, body, headers = {}, query = "") =>
      answer(
        await app.fetch(
          new Request(`${BASE}/pipelines/${name}/trigger${query}`, {
            method: "POST",
            headers: { "content-type": "application/json", ...headers },
            body,
          }),
        ),
      ),
    signed: (name, secret, body, options = {}) => {
      const t = Math.floor(Date.now() / 1000) - (options.ageS ?? 0);
      return h.deliver(name, body, {
        "Tau-Signature": signatureHeader(secret, t, body),
        ...(options.eventId ? { "Tau-Event-Id": options.eventId } : {}),
      });
    },
  };
  const config = validatePipelineConfig({ name: "orders" });
  if (!config.ok) throw new Error(JSON.stringify(config.issues));
  try {
    await store.deploy({
      name: "orders",
      code: "export default 1;",
      hash: "h1",
      filename: "orders.ts",
      source_path: null,
      schedule: null,
      metadata: config.metadata as never,
    });
    await fn(h);
  } finally {
    await store.close();
    await Deno.remove(home, { recursive: true });
  }
}

async function runCount(store: Store): Promise<number> {
  return (await store.listRuns("orders", { limit: 1000 })).length;
}

function assertRefused(res: Answer, status: number, code: string, message: RegExp) {
  assertEquals(res.status, status, JSON.stringify(res.json));
  assertEquals(res.json.error.code, code);
  assertMatch(res.json.error.message, message);
  assert(typeof res.json.error.hint === "string" && res.json.error.hint.length > 0);
}

Deno.test("a signed delivery needs no API key and queues an external run with the event", async () => {
  await withTriggers(async ({ api, signed, store }) => {
    const made = await api("POST", "/pipelines/orders/trigger-secret");
    assertEquals(made.status, 201, JSON.stringify(made.json));
    assertMatch(made.json.secret, /^tau_trg_[0-9a-f]{64}$/);
    assertEquals(made.json.endpoint, "/api/v1/pipelines/orders/trigger");

    const res = await signed("orders", made.json.secret, '{"order_id": 42, "tags": ["a"]}');
    assertEquals(res.status, 202, JSON.stringify(res.json));
    assertEquals(res.json.duplicate, false);
    assertEquals(res.json.pipeline, "orders");
    assertEquals(res.json.status, "queued");
    const run = await store.getRun(res.json.run_id);
    assertEquals(run?.trigger, "external");
    assertEquals(run?.params, { event: { order_id: 42, tags: ["a"] } });
  });
});

Deno.test("trigger with a bad signature, an old timestamp and a replayed event id refused", async () => {
  await withTriggers(async ({ api, signed, deliver, store }) => {
    const { secret } = (await api("POST", "/pipelines/orders/trigger-secret")).json;
    const body = '{"id": 1}';
    const t = Math.floor(Date.now() / 1000);
    // Signed with another secret; signed over other bytes; a truncated signature.
    const wrong = await signed("orders", "tau_trg_" + "0".repeat(64), body);
    assertRefused(wrong, 401, "unauthorized", /signature does not match/);
    const other = signatureHeader(secret, t, '{"id": 2}');
    assertRefused(
      await deliver("orders", body, { "Tau-Signature": other }),
      401,
      "unauthorized",
      /does not match/,
    );
    for (const header of [undefined, "", `t=${t}`, `t=${t},v1=abc`, "v1=" + "a".repeat(64)]) {
      const res = await deliver(
        "orders",
        body,
        header === undefined ? {} : {
          "Tau-Signature": header,
        },
      );
      assertRefused(res, 401, "unauthorized", /Missing or malformed Tau-Signature/);
    }
    // Six minutes old, and six minutes ahead.
    assertRefused(
      await signed("orders", secret, body, { ageS: 360 }),
      401,
      "unauthorized",
      /timestamp is more than 5 minutes/,
    );
    assertRefused(
      await signed("orders", secret, body, { ageS: -360 }),
      401,
      "unauthorized",
      /more than 5 minutes/,
    );
    assertEquals(await runCount(store), 0, "no refused delivery made a run");

    // Within the window: accepted (4 minutes old).
    const first = await signed("orders", secret, body, { ageS: 240, eventId: "evt_1" });
    assertEquals(first.status, 202);
    // A retry of the event, re-signed now: the first run, no second one.
    const retry = await signed("orders", secret, '{"id": 1, "retry": true}', { eventId: "evt_1" });
    assertEquals(retry.status, 200);
    assertEquals(retry.json, {
      run_id: first.json.run_id,
      pipeline: "orders",
      status: "queued",
      duplicate: true,
    });
    // The same signed bytes replayed, without an event id or under a new one.
    const header = signatureHeader(secret, t, '{"id": 3}');
    const once = await deliver("orders", '{"id": 3}', { "Tau-Signature": header });
    assertEquals(once.status, 202);
    for (const extra of [{}, { "Tau-Event-Id": "evt_forged" }] as Record<string, string>[]) {
      const replay = await deliver("orders", '{"id": 3}', { "Tau-Signature": header, ...extra });
      assertEquals([replay.status, replay.json.duplicate], [200, true]);
      assertEquals(replay.json.run_id, once.json.run_id);
    }
    assertEquals(await runCount(store), 2);
  });
});

Deno.test("concurrent copies of one event make one run", async () => {
  await withTriggers(async ({ api, signed, store }) => {
    const { secret } = (await api("POST", "/pipelines/orders/trigger-secret")).json;
    const answers = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        signed("orders", secret, `{"copy": ${i}}`, {
          eventId: "evt_same",
        })),
    );
    assertEquals(answers.filter((a) => a.status === 202).length, 1);
    assertEquals(answers.filter((a) => a.json.duplicate === true).length, 7);
    assertEquals(new Set(answers.map((a) => a.json.run_id)).size, 1);
    assertEquals(await runCount(store), 1);
  });
});

Deno.test("bodies: oversized is 413 before parsing, not an object is 400, bad event ids 400", async () => {
  await withTriggers(async ({ api, signed, deliver, store }) => {
    const { secret } = (await api("POST", "/pipelines/orders/trigger-secret")).json;
    const big = JSON.stringify({ pad: "x".repeat(MAX_TRIGGER_BODY_BYTES) });
    assertRefused(await signed("orders", secret, big), 413, "payload_too_large", /at most 65536/);
    // Without a Content-Length (a stream), the read stops at the bound just the same.
    const stream = new ReadableStream<Uint8Array>({
      pull(c) {
        c.enqueue(new Uint8Array(16 * 1024).fill(0x20));
      },
    });
    assertRefused(await deliver("orders", stream), 413, "payload_too_large", /at most/);
    // Re-encoded, `1e9` grows: params keep their own bound.
    const growing = `{"n": [${Array(13_000).fill("1e20").join(",")}]}`;
    const tooBig = await signed("orders", secret, growing);
    assertRefused(tooBig, 413, "payload_too_large", /as the run's params/);

    for (const body of ["[1, 2]", '"text"', "null", "", "{not json", '{"a": 1'] as const) {
      const res = await signed("orders", secret, body);
      assertRefused(res, 400, "invalid_request", /not valid UTF-8 JSON|must be a JSON object/);
    }
    const deep = "[".repeat(70) + "]".repeat(70);
    assertRefused(
      await signed("orders", secret, `{"d": ${deep}}`),
      400,
      "invalid_params",
      /nested deeper/,
    );
    for (const id of ["has space", "x".repeat(201), "é"]) {
      const res = await signed("orders", secret, "{}", { eventId: id });
      assertRefused(res, 400, "invalid_request", /Tau-Event-Id must be/);
    }
    assertEquals(await runCount(store), 0);
  });
});

Deno.test("no secret and no pipeline look alike; a key in the URL is still refused", async () => {
  await withTriggers(async ({ signed, deliver }) => {
    const secret = "tau_trg_" + "1".repeat(64);
    const none = await signed("orders", secret, "{}");
    assertRefused(none, 404, "not_found", /Pipeline orders takes no external triggers/);
    assertMatch(none.json.error.hint, /tau trigger orders --create/);
    const missing = await signed("ghost", secret, "{}");
    assertRefused(missing, 404, "not_found", /Pipeline ghost takes no external triggers/);
    const keyed = await deliver("orders", "{}", {}, "?api_key=abc");
    assertRefused(keyed, 400, "invalid_request", /not accepted in the URL/);
  });
});

Deno.test("secrets: shown once, status never shows it, rotation and deletion take effect at once", async () => {
  await withTriggers(async ({ api, signed, store }) => {
    const status0 = await api("GET", "/pipelines/orders/trigger-secret");
    assertEquals(status0.json, {
      pipeline: "orders",
      exists: false,
      created_at: null,
      endpoint: "/api/v1/pipelines/orders/trigger",
    });
    const made = await api("POST", "/pipelines/orders/trigger-secret");
    assertRefused(
      await api("POST", "/pipelines/orders/trigger-secret"),
      409,
      "conflict",
      /has a trigger secret already/,
    );
    const status = await api("GET", "/pipelines/orders/trigger-secret");
    assertEquals([status.json.exists, status.json.created_at], [true, made.json.created_at]);
    assert(!JSON.stringify(status.json).includes(made.json.secret));
    assert(!("secret" in status.json));

    const rotated = await api("POST", "/pipelines/orders/trigger-secret/rotate");
    assertEquals(rotated.status, 200);
    assert(rotated.json.secret !== made.json.secret);
    assertRefused(await signed("orders", made.json.secret, "{}"), 401, "unauthorized", /match/);
    assertEquals((await signed("orders", rotated.json.secret, "{}")).status, 202);

    assertEquals((await api("DELETE", "/pipelines/orders/trigger-secret")).json, {
      pipeline: "orders",
      deleted: true,
    });
    assertRefused(await signed("orders", rotated.json.secret, '{"a":1}'), 404, "not_found", /no/);
    assertRefused(
      await api("DELETE", "/pipelines/orders/trigger-secret"),
      404,
      "not_found",
      /no trigger secret/,
    );
    assertRefused(
      await api("POST", "/pipelines/orders/trigger-secret/rotate"),
      404,
      "not_found",
      /no trigger secret to rotate/,
    );
    assertRefused(await api("GET", "/pipelines/ghost/trigger-secret"), 404, "not_found", /ghost/);
    assertEquals(await runCount(store), 1);
  });
});

Deno.test("managing secrets needs an admin key; reading whether one exists needs read", async () => {
  await withTriggers(async ({ api, store }) => {
    const { generateApiKey } = await import("../api/keys.ts");
    const keys: Record<string, string> = {};
    for (const scope of ["read", "operate"] as const) {
      const { id, key, hash } = generateApiKey();
      await store.createApiKey({
        id,
        name: null,
        scope,
        hash,
        created_at: new Date().toISOString(),
      });
      keys[scope] = key;
    }
    assertEquals((await api("GET", "/pipelines/orders/trigger-secret", keys.read)).status, 200);
    for (
      const [method, path] of [
        ["POST", "/pipelines/orders/trigger-secret"],
        ["POST", "/pipelines/orders/trigger-secret/rotate"],
        ["DELETE", "/pipelines/orders/trigger-secret"],
      ]
    ) {
      const res = await api(method!, path!, keys.operate);
      assertRefused(res, 403, "forbidden", /needs admin/);
    }
    assertEquals(await store.getTriggerSecret("orders"), null);
  });
});
