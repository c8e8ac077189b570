/**
 * `tau create` end to end: the real daemon asks the model stand-in through each provider's
 * official client, feeds a type error back, deploys the file that passes, and leaks neither the
 * model key nor a connection's credentials.
 */
import { assert, assertEquals } from "../helpers/assert.ts";
import { startDaemon, storeBytes } from "../helpers/daemon.ts";
import { fenced, modelStandIn } from "../helpers/model_standin.ts";

const KEY = "sk-model-key-7c1e0d9a4b";
const PASSWORD = "pg-pass-5e8f2a";

const BROKEN = `import { pipeline } from "tau";

export default pipeline({ name: "hello_ai" }, (ctx) => {
  const n: number = "one";
  ctx.log(\`n = \${n}\`);
});
`;
const FIXED = `import { pipeline } from "tau";

export default pipeline({ name: "hello_ai" }, (ctx) => {
  const n: number = 1;
  ctx.log(\`n = \${n}\`);
  return { n };
});
`;

function config(provider: "anthropic" | "openai", url: string): string {
  return `[ai]
provider = "${provider}"
model = "standin-1"
base_url = "${url}"
api_key_env = "MODEL_KEY_FOR_TEST"

[connections.warehouse]
type = "postgres"
dsn = "postgres://postgres:${PASSWORD}@127.0.0.1:5432/test"
`;
}

for (const provider of ["anthropic", "openai"] as const) {
  Deno.test(`tau create --deploy --run through ${provider}, after one feedback round`, async () => {
    const model = modelStandIn([{ text: fenced(BROKEN) }, { tool: { code: FIXED } }]);
    const url = provider === "anthropic" ? model.anthropicUrl : model.openaiUrl;
    const daemon = await startDaemon({ MODEL_KEY_FOR_TEST: KEY }, {
      config: config(provider, url),
    });
    const out = await Deno.makeTempDir({ prefix: "tau_create_" });
    try {
      const file = `${out}/hello_ai.ts`;
      const created = await daemon.tau(
        "create",
        "log a number",
        "--name",
        "hello_ai",
        "--out",
        file,
        "--deploy",
        "--run",
      );
      assertEquals(created.code, 0, created.stdout);
      const doc = created.json;
      assertEquals(doc.name, "hello_ai");
      assertEquals(doc.code, FIXED);
      assertEquals(doc.deployed, true);
      assertEquals(doc.version, 1);
      assertEquals(doc.run.status, "success");
      assertEquals(await Deno.readTextFile(file), FIXED);
      assertEquals(doc.attempts.map((a: { outcome: string }) => a.outcome), [
        "type_error",
        "success",
      ]);
      assertEquals(doc.attempts[0].error.code, "invalid_pipeline");
      assertEquals(doc.attempts[0].error.location.line, 4);
      assert.ok(doc.usage.input_tokens > 0 && doc.usage.output_tokens > 0);

      // Both requests streamed; the second carries the first candidate's type error and line.
      assertEquals(model.requests.map((r) => r.streamed), [true, true]);
      const second = model.requests[1]!.json.messages as { content: string }[];
      const feedback = second.at(-1)!.content;
      assert.ok(feedback.includes("line 4, column"), feedback);
      assert.ok(feedback.includes("is not assignable to type 'number'"), feedback);
      assert.ok(feedback.includes('>4 |   const n: number = "one";'), feedback);
      const first = JSON.stringify(model.requests[0]!.json);
      assert.ok(first.includes("warehouse (type postgres)"), "connections by name and type");
      assert.ok(first.includes("ctx.step"), "the SDK guide is in the prompt");

      // The deployed version is the file, recorded as made by create, and its run used it.
      const versions = await daemon.tau("versions", "hello_ai");
      assertEquals(versions.code, 0, versions.stdout);
      assertEquals(versions.json.versions.map((v: { source: string }) => v.source), ["create"]);
      const inspected = await daemon.tau("inspect", "hello_ai");
      assertEquals(inspected.json.version, 1);
      assertEquals(inspected.json.result, { n: 1 });

      // Leaks: the key only in the provider's auth header; the password nowhere.
      for (const request of model.requests) {
        const auth = request.headers["authorization"] ?? request.headers["x-api-key"] ?? "";
        assert.ok(auth.includes(KEY), "the provider gets the key");
        const rest = JSON.stringify({
          ...request,
          headers: { ...request.headers, authorization: "", "x-api-key": "" },
        });
        assert.ok(!rest.includes(KEY), "the key only in the auth header");
        assert.ok(!JSON.stringify(request).includes(PASSWORD), "no connection credentials");
      }
      const stored = await storeBytes(daemon.home);
      assert.ok(stored.includes("const n: number = 1;"), "the scan reads the stored versions");
      assert.ok(!stored.includes(KEY) && !stored.includes(PASSWORD), "nothing secret stored");
      assert.ok(!daemon.log().includes(KEY), "the key is not logged");
    } finally {
      await daemon.stop();
      await model.close();
      await Deno.remove(out, { recursive: true });
    }
  });
}

Deno.test("tau create refuses to overwrite, and fails cleanly without [ai]", async () => {
  const daemon = await startDaemon();
  const out = await Deno.makeTempDir({ prefix: "tau_create_" });
  try {
    const noAi = await daemon.tau("create", "anything", "--out", `${out}/x.ts`);
    assertEquals(noAi.code, 1);
    assertEquals(noAi.json.error.code, "ai_not_configured");
    assert.ok(noAi.json.error.hint.includes('[ai] provider = "anthropic"'), noAi.stdout);

    await Deno.writeTextFile(`${out}/x.ts`, "keep me\n");
    const exists = await daemon.tau("create", "anything", "--out", `${out}/x.ts`);
    assertEquals(exists.code, 1);
    assertEquals(exists.json.error.code, "conflict");
    assertEquals(await Deno.readTextFile(`${out}/x.ts`), "keep me\n");

    const run = await daemon.tau("create", "anything", "--run");
    assertEquals(run.json.error.code, "invalid_params");
  } finally {
    await daemon.stop();
    await Deno.remove(out, { recursive: true });
  }
});
