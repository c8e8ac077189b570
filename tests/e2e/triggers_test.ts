/**
 * External triggers through a real daemon and the real CLI: `tau trigger` makes the secret, the
 * recipes of docs/triggers.md (curl + openssl, and the TypeScript sender), run as printed there,
 * start runs of the pipeline docs/triggers.md shows, which return what they read from
 * `ctx.params.event`; forged, stale, oversized, duplicate and secretless deliveries make no run.
 */
import { assert, assertEquals, assertMatch } from "../helpers/assert.ts";
import { startDaemon, type TestDaemon } from "../helpers/daemon.ts";
import { signatureHeader } from "../../src/triggers/signature.ts";

const DOC = await Deno.readTextFile(new URL("../../docs/triggers.md", import.meta.url));

/** The code block that follows `<!-- recipe:NAME -->` in docs/triggers.md, as printed. */
function recipe(name: string): string {
  const match = new RegExp(`<!-- recipe:${name} -->\\s*\`\`\`\\w+\\n([\\s\\S]*?)\`\`\``).exec(DOC);
  assert(match, `docs/triggers.md has no recipe:${name} block`);
  return match[1]!;
}

interface Answer {
  status: number;
  // deno-lint-ignore no-explicit-any
  json: any;
}

async function post(url: string, body: BodyInit, headers: Record<string, string>): Promise<Answer> {
  const res = await fetch(url, { method: "POST", headers, body });
  return { status: res.status, json: await res.json() };
}

/** A delivery signed with `secret`, `ageS` seconds ago. */
function signed(url: string, secret: string, body: string, ageS = 0, eventId?: string) {
  const t = Math.floor(Date.now() / 1000) - ageS;
  return post(url, body, {
    "Content-Type": "application/json",
    "Tau-Signature": signatureHeader(secret, t, body),
    ...(eventId ? { "Tau-Event-Id": eventId } : {}),
  });
}

/** The run once it ended, read through the API with the local key. */
// deno-lint-ignore no-explicit-any
async function finished(d: TestDaemon, runId: string): Promise<any> {
  const key = (await Deno.readTextFile(`${d.home}/api_key`)).trim();
  for (let i = 0; i < 20; i++) {
    const res = await fetch(`http://127.0.0.1:${d.port}/api/v1/runs/${runId}?wait_ms=5000`, {
      headers: { authorization: `Bearer ${key}` },
    });
    const run = await res.json();
    if (!["queued", "running"].includes(run.status)) return run;
  }
  throw new Error(`run ${runId} did not end`);
}

async function runCount(d: TestDaemon): Promise<number> {
  const out = await d.tau("runs", "orders", "--last", "100");
  assertEquals(out.code, 0, out.stdout);
  return out.json.count;
}

/** Runs the curl + openssl recipe with bash, as printed; returns curl's output as JSON. */
async function curlRecipe(secret: string, url: string): Promise<Answer["json"]> {
  const out = await new Deno.Command("bash", {
    args: ["-euo", "pipefail", "-c", recipe("curl")],
    env: { SECRET: secret, URL: url },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stdout = new TextDecoder().decode(out.stdout);
  assertEquals(out.code, 0, `${stdout}\n${new TextDecoder().decode(out.stderr)}`);
  return JSON.parse(stdout);
}

Deno.test("external triggers: secrets, the documented recipes, refusals and duplicates", async (t) => {
  const d = await startDaemon();
  const dir = await Deno.makeTempDir({ prefix: "tau_triggers_" });
  try {
    await Deno.writeTextFile(`${dir}/orders.ts`, recipe("pipeline"));
    const deployed = await d.tau("deploy", `${dir}/orders.ts`);
    assertEquals(deployed.code, 0, deployed.stdout);
    let secret = "";
    let url = "";

    await t.step("tau trigger: none yet, then created and shown once", async () => {
      const none = await d.tau("trigger", "orders");
      assertEquals(none.code, 0, none.stdout);
      assertEquals([none.json.exists, none.json.created_at], [false, null]);
      const made = await d.tau("trigger", "orders", "--create");
      assertEquals(made.code, 0, made.stdout);
      assertMatch(made.json.secret, /^tau_trg_[0-9a-f]{64}$/);
      assertEquals(made.json.url, `http://127.0.0.1:${d.port}/api/v1/pipelines/orders/trigger`);
      ({ secret, url } = made.json);
      const status = await d.tau("trigger", "orders");
      assertEquals([status.json.exists, status.json.created_at], [true, made.json.created_at]);
      assert(!status.stdout.includes(secret), "status never prints the secret");
      const again = await d.tau("trigger", "orders", "--create");
      assertEquals([again.code, again.json.error.code], [1, "conflict"]);
      assertMatch(again.json.error.hint, /tau trigger orders --rotate/);
      const both = await d.tau("trigger", "orders", "--create", "--delete");
      assertEquals([both.code, both.json.error.code], [1, "invalid_params"]);
    });

    await t.step("the curl + openssl recipe starts a run that reads ctx.params.event", async () => {
      const answer = await curlRecipe(secret, url);
      assertEquals([answer.pipeline, answer.duplicate], ["orders", false]);
      const run = await finished(d, answer.run_id);
      assertEquals(run.status, "success", JSON.stringify(run.error));
      assertEquals(run.trigger, "external");
      assertEquals(run.params, { event: { order_id: 42, status: "paid" } });
      assertEquals(run.result, { order_id: 42 });
      // Sent again as printed (same event id): the first run, no second one.
      const again = await curlRecipe(secret, url);
      assertEquals([again.run_id, again.duplicate], [answer.run_id, true]);
      assertEquals(await runCount(d), 1);
    });

    await t.step("the TypeScript sender of the docs works as printed", async () => {
      await Deno.writeTextFile(`${dir}/send.ts`, recipe("ts"));
      const { sendTrigger } = await import(`file://${dir}/send.ts`);
      const sent = await sendTrigger(url, secret, { order_id: 7 }, "order-7");
      assertEquals([sent.status, sent.answer.duplicate], [202, false]);
      const run = await finished(d, sent.answer.run_id);
      assertEquals([run.status, run.result], ["success", { order_id: 7 }]);
      const retry = await sendTrigger(url, secret, { order_id: 7, retry: 1 }, "order-7");
      assertEquals([retry.status, retry.answer.run_id, retry.answer.duplicate], [
        200,
        sent.answer.run_id,
        true,
      ]);
      assertEquals(await runCount(d), 2);
    });

    await t.step(
      "trigger with a bad signature, an old timestamp and a replayed event id refused",
      async () => {
        const bad = await signed(url, "tau_trg_" + "0".repeat(64), '{"order_id": 1}');
        assertEquals([bad.status, bad.json.error.code], [401, "unauthorized"]);
        assertMatch(bad.json.error.message, /signature does not match/);
        const old = await signed(url, secret, '{"order_id": 2}', 360);
        assertEquals([old.status, old.json.error.code], [401, "unauthorized"]);
        assertMatch(old.json.error.message, /more than 5 minutes/);
        const unsigned = await post(url, "{}", { "Content-Type": "application/json" });
        assertEquals(unsigned.status, 401);
        const replayed = await signed(url, secret, '{"order_id": 3}', 0, "order-7");
        assertEquals([replayed.status, replayed.json.duplicate], [200, true]);
        const big = await signed(url, secret, JSON.stringify({ pad: "x".repeat(70_000) }));
        assertEquals([big.status, big.json.error.code], [413, "payload_too_large"]);
        assertEquals(await runCount(d), 2, "none of them made a run");
      },
    );

    await t.step("a crash and restart keep the secret and the event ids", async () => {
      assert(!d.log().includes("tau_trg_"), "a trigger secret is in the daemon's log");
      await d.kill();
      await d.restart();
      url = url.replace(/:\d+\//, `:${d.port}/`);
      const replayed = await signed(url, secret, '{"order_id": 7}', 0, "order-7");
      assertEquals([replayed.status, replayed.json.duplicate], [200, true]);
      const fresh = await signed(url, secret, '{"order_id": 8}', 0, "order-8");
      assertEquals(fresh.status, 202, JSON.stringify(fresh.json));
      assertEquals((await finished(d, fresh.json.run_id)).result, { order_id: 8 });
    });

    await t.step("after a rotation the old secret is refused at once", async () => {
      const rotated = await d.tau("trigger", "orders", "--rotate");
      assertEquals(rotated.code, 0, rotated.stdout);
      assert(rotated.json.secret !== secret);
      const old = await signed(url, secret, '{"order_id": 9}');
      assertEquals([old.status, old.json.error.code], [401, "unauthorized"]);
      const fresh = await signed(url, rotated.json.secret, '{"order_id": 9}');
      assertEquals(fresh.status, 202);
      secret = rotated.json.secret;
    });

    await t.step("a pipeline without a secret answers 404 with a hint", async () => {
      const deleted = await d.tau("trigger", "orders", "--delete");
      assertEquals(deleted.json, { pipeline: "orders", deleted: true });
      const res = await signed(url, secret, '{"order_id": 10}');
      assertEquals([res.status, res.json.error.code], [404, "not_found"]);
      assertMatch(res.json.error.hint, /tau trigger orders --create/);
      assertEquals(await runCount(d), 4);
    });

    await t.step("the daemon's log never holds a secret", () => {
      assert(!d.log().includes("tau_trg_"), "a trigger secret is in the daemon's log");
    });
  } finally {
    await d.stop();
    await Deno.remove(dir, { recursive: true });
  }
});
