/**
 * Webhooks against a local receiver (Deno.serve on 127.0.0.1, hence allow_private): signatures
 * checked with the recipe docs/webhooks.md prints, retries with growing gaps, nothing lost or
 * doubled across a kill -9, private addresses refused.
 */
import { assert, assertEquals } from "../helpers/assert.ts";
import { startDaemon, type TestDaemon } from "../helpers/daemon.ts";

const SECRET = "whsec-test-0123456789abcdef";

interface Received {
  at: number;
  headers: Headers;
  body: string;
  status: number;
}

/** A receiver answering request n (1-based) with `answer(n)`. */
function receiver(answer: (n: number) => number = () => 200) {
  const got: Received[] = [];
  const state = { answer };
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (req) => {
    const body = await req.text();
    const status = state.answer(got.length + 1);
    got.push({ at: Date.now(), headers: req.headers, body, status });
    return new Response(status < 300 ? "ok" : "try later", { status });
  });
  return {
    url: `http://127.0.0.1:${server.addr.port}/hook`,
    got,
    state,
    close: () => server.shutdown(),
  };
}

/** The verification recipe exactly as docs/webhooks.md prints it. */
async function documentedRecipe(): Promise<
  (secret: string, header: string, body: string) => boolean
> {
  const doc = await Deno.readTextFile(new URL("../../docs/webhooks.md", import.meta.url));
  const section = doc.slice(doc.indexOf("## Verifying a delivery"));
  const code = /```ts\n([\s\S]*?)```/.exec(section)?.[1];
  assert(code?.includes("export function verifyTauSignature"), "recipe block not found");
  const file = await Deno.makeTempFile({ suffix: ".ts" });
  await Deno.writeTextFile(file, code!);
  try {
    return (await import(`file://${file}`)).verifyTauSignature;
  } finally {
    await Deno.remove(file);
  }
}

async function waitFor(what: string, ok: () => boolean | Promise<boolean>, ms = 30_000) {
  const deadline = Date.now() + ms;
  while (!(await ok())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function config(url: string, name: string, events: string[], extra = "") {
  return `
[webhooks_delivery]
backoff_base_ms = 300

[[webhooks]]
name = "${name}"
url = "${url}"
events = ${JSON.stringify(events)}
secret_env = "TAU_TEST_HOOK_SECRET"
allow_private = true
${extra}
`;
}

async function deliveries(d: TestDaemon, ...args: string[]) {
  const out = await d.tau("webhooks", "deliveries", ...args);
  assertEquals(out.code, 0, out.stdout);
  return out.json.deliveries as {
    id: string;
    event: string;
    subject: string;
    status: string;
    attempts: number;
    attempt_log: { n: number; status_code: number | null; error: string | null }[];
  }[];
}

Deno.test("a failed run is delivered signed (the documented recipe verifies it), then recovered", async () => {
  const verify = await documentedRecipe();
  const r = receiver();
  const d = await startDaemon({ TAU_TEST_HOOK_SECRET: SECRET }, {
    config: config(r.url, "local", ["run.failed", "run.recovered"]),
  });
  try {
    await d.deploy("fail_on_param.ts", "--name", "hooked");
    const failed = await d.tau("run", "hooked", "--params", '{"fail": true}');
    assertEquals(failed.json.status, "failed");
    await waitFor("the run.failed delivery", () => r.got.length === 1);
    const [first] = r.got;
    assertEquals(first!.headers.get("tau-event"), "run.failed");
    assert(verify(SECRET, first!.headers.get("tau-signature") ?? "", first!.body), "signature");
    assert(!verify("wrong-secret", first!.headers.get("tau-signature") ?? "", first!.body));
    assert(!verify(SECRET, first!.headers.get("tau-signature") ?? "", first!.body + "x"));
    const body = JSON.parse(first!.body);
    assertEquals(body.id, first!.headers.get("tau-delivery"));
    assertEquals([body.event, body.run.run_id, body.run.status], [
      "run.failed",
      failed.json.run_id,
      "failed",
    ]);
    assertEquals(body.run.error.step, "work");
    assertEquals(body.links.run, `http://127.0.0.1:${d.port}/api/v1/runs/${failed.json.run_id}`);
    assert(!first!.body.includes(SECRET));

    // A success after it recovers; a second success sends nothing (not subscribed).
    const ok = await d.tau("run", "hooked");
    assertEquals(ok.json.status, "success");
    await waitFor("the run.recovered delivery", () => r.got.length === 2);
    assertEquals(r.got[1]!.headers.get("tau-event"), "run.recovered");
    assertEquals(JSON.parse(r.got[1]!.body).run.run_id, ok.json.run_id);
    assertEquals((await d.tau("run", "hooked")).json.status, "success");
    await new Promise((r) => setTimeout(r, 2500));
    assertEquals(r.got.length, 2);

    const list = await deliveries(d, "local");
    assertEquals(list.map((x) => [x.event, x.status, x.attempts]), [
      ["run.recovered", "delivered", 1],
      ["run.failed", "delivered", 1],
    ]);
    assertEquals(list[1]!.attempt_log.map((a) => [a.n, a.status_code, a.error]), [[1, 200, null]]);

    // tau.toml's webhook is listed with its origin, and cannot be removed from the CLI.
    const hooks = await d.tau("webhooks", "list");
    assertEquals(
      hooks.json.webhooks.map((
        h: { name: string; origin: string; secret_env: string },
      ) => [h.name, h.origin, h.secret_env]),
      [["local", "config", "TAU_TEST_HOOK_SECRET"]],
    );
    assert(!hooks.stdout.includes(SECRET));
    const remove = await d.tau("webhooks", "remove", "local");
    assertEquals([remove.code, remove.json.error.code], [1, "conflict"]);
    assert(/tau\.toml/.test(remove.json.error.hint));
  } finally {
    await d.stop();
    await r.close();
  }
});

Deno.test("a receiver answering 500 twice gets a third attempt, with growing gaps", async () => {
  const r = receiver((n) => n <= 2 ? 500 : 200);
  const d = await startDaemon({ TAU_TEST_HOOK_SECRET: SECRET }, {
    config: "[webhooks_delivery]\nbackoff_base_ms = 300\n",
  });
  try {
    // A private address is refused unless the webhook allows it.
    for (const url of [r.url, "http://10.0.0.7/hook", "http://[::ffff:169.254.169.254]/"]) {
      const refused = await d.tau(
        "webhooks",
        "add",
        "flaky",
        "--url",
        url,
        "--events",
        "run.failed",
      );
      assertEquals([refused.code, refused.json.error.code], [1, "invalid_params"], url);
      assert(/--allow-private/.test(refused.json.error.hint), refused.stdout);
    }
    const bad = await d.tau("webhooks", "add", "x", "--url", r.url, "--events", "run.exploded");
    assertEquals([bad.code, bad.json.error.code], [1, "invalid_params"]);
    const added = await d.tau(
      "webhooks",
      "add",
      "flaky",
      "--url",
      r.url,
      "--events",
      "run.failed",
      "--secret-env",
      "TAU_TEST_HOOK_SECRET",
      "--allow-private",
    );
    assertEquals(added.code, 0, added.stdout);
    assertEquals([added.json.webhook.name, added.json.webhook.origin], ["flaky", "store"]);
    await d.deploy("failing_step.ts");
    const run = await d.tau("run", "failing_step");
    assertEquals(run.json.status, "failed");
    await waitFor("three attempts", () => r.got.length === 3);
    assertEquals(r.got.map((g) => g.status), [500, 500, 200]);
    assertEquals(new Set(r.got.map((g) => g.headers.get("tau-delivery"))).size, 1);
    const gap1 = r.got[1]!.at - r.got[0]!.at;
    const gap2 = r.got[2]!.at - r.got[1]!.at;
    assert(gap1 >= 300 && gap2 >= 1800 && gap2 > gap1, `gaps ${gap1} ms, ${gap2} ms`);
    await waitFor(
      "the third attempt recorded",
      async () => (await deliveries(d, "flaky"))[0]?.status === "delivered",
    );
    const [record] = await deliveries(d, "flaky");
    assertEquals(record!.attempt_log.map((a) => a.status_code), [500, 500, 200]);
    assertEquals(record!.attempt_log[0]!.error, "HTTP 500: try later");
    assertEquals(record!.subject, run.json.run_id);

    // tau webhooks test sends now and reports the attempt; remove removes a stored one.
    const test = await d.tau("webhooks", "test", "flaky");
    assertEquals([test.code, test.json.delivered, test.json.attempt.status_code], [0, true, 200]);
    assertEquals(r.got.at(-1)!.headers.get("tau-event"), "webhook.test");
    assertEquals((await deliveries(d, "--status", "pending")).length, 0);
    assertEquals((await d.tau("webhooks", "remove", "flaky")).json, { removed: "flaky" });
    assertEquals((await d.tau("webhooks", "list")).json.count, 0);
  } finally {
    await d.stop();
    await r.close();
  }
});

Deno.test("a delivery pending when taud is killed -9 arrives once after the restart", async () => {
  const r = receiver(() => 503);
  const d = await startDaemon({ TAU_TEST_HOOK_SECRET: SECRET }, {
    config: config(r.url, "durable", ["run.failed"]),
  });
  try {
    await d.deploy("failing_step.ts");
    const run = await d.tau("run", "failing_step");
    assertEquals(run.json.status, "failed");
    await waitFor("a first, failed attempt", () => r.got.length >= 1);
    await d.kill();
    r.state.answer = () => 200;
    const before = r.got.length;
    await d.restart();
    await waitFor("the delivery after the restart", () => r.got.some((g) => g.status === 200));
    await new Promise((r) => setTimeout(r, 2500));
    const ok = r.got.filter((g) => g.status === 200);
    assertEquals(ok.length, 1);
    assert(r.got.length === before + 1, `${r.got.length - before} requests after the restart`);
    assertEquals(JSON.parse(ok[0]!.body).run.run_id, run.json.run_id);
    const list = await deliveries(d, "durable");
    assertEquals(list.length, 1);
    assertEquals([list[0]!.status, list[0]!.attempts], ["delivered", before + 1]);
  } finally {
    await d.stop();
    await r.close();
  }
});
