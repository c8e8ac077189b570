/**
 * Hostile pipelines, round two: no secret reaches storage in any shape the child can choose,
 * every failure names its true cause, and a run learns nothing of where Tau lives. The whole
 * database file and every API response are searched for each secret in several encodings.
 */
import { assert, assertEquals, assertMatch } from "../helpers/assert.ts";
import { EXAMPLES, startDaemon, type TestDaemon } from "../helpers/daemon.ts";
import { standIn } from "../helpers/http_standin.ts";
import {
  api,
  assertFailed,
  assertNoSecret,
  assertServing,
  databaseBytes,
  deployFixture,
  run,
  type RunJson,
} from "../helpers/hostile.ts";

const SECRET = `r2s${crypto.randomUUID().replaceAll("-", "")}`;
const PEM = [
  "-----BEGIN PRIVATE KEY-----",
  btoa(crypto.randomUUID() + crypto.randomUUID()),
  btoa(crypto.randomUUID()),
  "-----END PRIVATE KEY-----",
].join("\n");
/** The parts of the PEM that are secret (its armour lines are not). */
const PEM_SECRETS = PEM.split("\n").slice(1, 3);
const ROOT = new URL("../../", import.meta.url).pathname.replace(/\/$/, "");

/** Everything the API serves about a run: its record, its logs, the lists that show it. */
async function everythingServed(d: TestDaemon, res: RunJson, name: string): Promise<string> {
  const parts = await Promise.all([
    api(d, "GET", `/runs/${res.run_id}`),
    api(d, "GET", `/runs/${res.run_id}/logs`),
    api(d, "GET", `/pipelines/${name}/runs?last=50`),
    api(d, "GET", `/pipelines/${name}`),
    api(d, "GET", "/errors?limit=100"),
  ]);
  return parts.map((p) => JSON.stringify(p.json)).join("\n");
}

Deno.test("no secret reaches storage; errors name their true cause; paths stay neutral", async (t) => {
  const d = await startDaemon({ ROUND2_SECRET: SECRET, ROUND2_PEM: PEM });
  const redirector = standIn(() =>
    new Response(null, {
      status: 302,
      headers: { location: `http://127.0.0.1:${d.port}/api/v1/status` },
    })
  );
  const redirectPort = new URL(redirector.url).port;
  try {
    assertEquals((await d.tau("deploy", `${EXAMPLES}hello_pipeline.ts`)).code, 0);
    await Promise.all([
      d.deployAll([
        "hostile2/secret_spots.ts",
        "hostile2/dns_lookup.ts",
        "hostile2/nul_bytes.ts",
        "hostile2/path_probe.ts",
        "hostile/real_nonce_result.ts",
      ]),
      deployFixture(d, "hostile2/never_allowed.ts", { REDIRECTOR: redirectPort }),
    ]);

    await t.step("a secret placed everywhere a run can reach is stored nowhere", async () => {
      const res = await run(d, "secret_spots");
      assertFailed(res, "exception");
      const stored = await run(d, "secret_spots", { mode: "result" });
      assertEquals(stored.status, "success");
      const secrets = [SECRET, ...PEM_SECRETS];
      for (const r of [res, stored]) {
        assertNoSecret(await everythingServed(d, r, "secret_spots"), secrets, "the API");
      }
      assertNoSecret(await databaseBytes(d), secrets, "the database file");
      // What was stored is there, redacted: the attack really reached each place.
      const text = res.logs.map((l: { message: string }) => l.message).join("\n");
      for (
        const seen of [
          "console [REDACTED:ROUND2_SECRET]",
          '"key":"[REDACTED:ROUND2_SECRET]"',
          "stderr [REDACTED:ROUND2_SECRET]",
        ]
      ) assert.ok(text.includes(seen), seen);
      assert.ok(res.steps.some((s: { name: string }) => s.name.startsWith("nnnnn")));
      assert.ok(res.access.outside.some((o: { target: string }) => o.target.includes("REDACTED")));
      assertEquals(stored.result.plain, "[REDACTED:ROUND2_SECRET]");
    });

    await t.step("times are stamped by the daemon, never taken from the run", async () => {
      const res = (await api(d, "GET", `/pipelines/secret_spots/runs?last=2`)).json;
      const failed = res.runs.find((r: RunJson) => r.status === "failed");
      const detail = (await api(d, "GET", `/runs/${failed.run_id}`)).json;
      const timed = detail.steps.find((s: { name: string }) => s.name === "timed");
      for (const ts of [timed.started_at, timed.finished_at]) {
        assert.ok(!Number.isNaN(Date.parse(ts)), ts);
      }
      const logs = (await api(d, "GET", `/runs/${failed.run_id}/logs`)).json.logs;
      assert.ok(logs.every((l: { ts: string }) => !Number.isNaN(Date.parse(l.ts))));
    });

    await t.step("an early result on the real channel keeps the real exception", async () => {
      const res = await run(d, "real_nonce_result");
      assertFailed(res, "exception");
      assertEquals(res.error.message, "the real failure");
    });

    await t.step("the daemon's port after a redirect is never allowed, and says so", async () => {
      const res = await run(d, "never_allowed", { via: "redirect" });
      assertFailed(res, "permission_denied");
      assertEquals(res.error.target, `127.0.0.1:${d.port}`);
      assertMatch(res.error.hint, /the Tau daemon's own port, which no run may reach/);
      assert.ok(!res.error.hint.includes("net: ["), res.error.hint);
    });

    await t.step("the metadata address is never allowed, and says so", async () => {
      const res = await run(d, "never_allowed", { via: "metadata" });
      assertFailed(res, "permission_denied");
      assertEquals(res.error.target, "169.254.169.254:80");
      assertMatch(res.error.hint, /cloud metadata address, which no run may reach/);
    });

    await t.step("a node:dns lookup refused by the sandbox is permission_denied", async () => {
      const res = await run(d, "dns_lookup");
      assertFailed(res, "permission_denied");
      assertEquals([res.error.permission, res.error.target], ["net", "evil.example"]);
    });

    await t.step("NUL bytes are stored escaped, never cutting a line", async () => {
      const res = await run(d, "nul_bytes");
      assertEquals(res.status, "success");
      const messages = res.logs.map((l: { message: string }) => l.message);
      assert.ok(messages.includes("raw before\\u0000raw after"), JSON.stringify(messages));
      assert.ok(messages.includes("log before\\u0000log after"), JSON.stringify(messages));
      assertEquals(res.steps[0].name, "step\\u0000name");
    });

    await t.step("a run sees neutral paths, never where Tau and its home are", async () => {
      const res = await run(d, "path_probe");
      assertEquals(res.status, "success", JSON.stringify(res.error));
      const seen = JSON.stringify(res.result);
      for (const host of [d.home, ROOT, Deno.execPath()]) {
        assert.ok(!seen.includes(host), `the run saw ${host}: ${seen}`);
      }
      if (Deno.build.os === "linux") {
        assertEquals(res.result.url, "file:///tau/code/pipeline.ts");
        assertEquals(res.result.sdk, "file:///tau/sdk/mod.ts");
        assertEquals(res.result.cwd, "/tau/scratch");
      }
    });

    await t.step("the daemon still serves", async () => {
      await assertServing(d);
    });
  } finally {
    await redirector.close();
    await d.stop();
  }
});
