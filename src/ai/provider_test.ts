/** Both official clients against the model stand-in, over HTTP: plain, streamed, tools, retries. */
import { assert, assertEquals } from "../../tests/helpers/assert.ts";
import { fenced, modelStandIn } from "../../tests/helpers/model_standin.ts";
import { TauError } from "../core/errors.ts";
import { AnthropicProvider } from "./anthropic.ts";
import { OpenAIProvider } from "./openai.ts";
import type { Provider } from "./provider.ts";

const KEY = "sk-standin-9f8e7d6c5b4a";
const CODE =
  'import { pipeline } from "tau";\n\nexport default pipeline({ name: "x" }, () => {});\n';

function provider(
  kind: "anthropic" | "openai",
  urls: { anthropicUrl: string; openaiUrl: string },
  maxRetries = 4,
): Provider {
  const options = {
    model: "standin-1",
    apiKey: KEY,
    maxTokens: 1000,
    timeoutMs: 10_000,
    maxRetries,
  };
  return kind === "anthropic"
    ? new AnthropicProvider({ ...options, baseUrl: urls.anthropicUrl })
    : new OpenAIProvider({ ...options, baseUrl: urls.openaiUrl });
}

for (const kind of ["anthropic", "openai"] as const) {
  for (const stream of [false, true]) {
    Deno.test(`${kind} ${stream ? "streamed" : "plain"}: text, then a tool call`, async () => {
      const model = modelStandIn([{ text: fenced(CODE) }, { tool: { code: CODE }, text: "Done." }]);
      try {
        const p = provider(kind, model);
        const messages = [{ role: "user" as const, content: "write it" }];
        const text = await p.complete({ system: "be brief", messages, stream });
        assertEquals(text.text, fenced(CODE));
        assertEquals(text.tool_calls, []);
        assert.ok(
          text.usage.input_tokens > 0 && text.usage.output_tokens > 0,
          JSON.stringify(text),
        );
        const tool = await p.complete({ system: "be brief", messages, tool: true, stream });
        assertEquals(tool.tool_calls, [{ name: "write_pipeline", input: { code: CODE } }]);
        assertEquals(tool.text, "Done.");

        assertEquals(model.requests.map((r) => r.streamed), [stream, stream]);
        const [first, second] = model.requests.map((r) => r.json);
        assertEquals(first.model, "standin-1");
        if (kind === "anthropic") {
          // This SDK version sends the key as a bearer token; older ones as x-api-key.
          const headers = model.requests[0]!.headers;
          assert.ok(headers["x-api-key"] === KEY || headers["authorization"] === `Bearer ${KEY}`);
          assertEquals(first.system, "be brief");
          assertEquals(first.messages, messages);
          assertEquals(first.max_tokens, 1000);
          assertEquals(first.tools, undefined);
          assertEquals(second.tools[0].name, "write_pipeline");
          assertEquals(second.tools[0].input_schema.required, ["code"]);
        } else {
          assertEquals(model.requests[0]!.headers["authorization"], `Bearer ${KEY}`);
          assertEquals(first.messages, [{ role: "system", content: "be brief" }, ...messages]);
          assertEquals(first.max_completion_tokens, 1000);
          if (stream) assertEquals(first.stream_options, { include_usage: true });
          assertEquals(second.tools[0].function.name, "write_pipeline");
        }
      } finally {
        await model.close();
      }
    });
  }

  Deno.test(`${kind}: 429 and 500 are retried, then the reply is used`, async () => {
    const model = modelStandIn([{ status: 429 }, { status: 500 }, { text: "ok" }]);
    try {
      const reply = await provider(kind, model).complete({
        system: "s",
        messages: [{ role: "user", content: "hi" }],
      });
      assertEquals(reply.text, "ok");
      assertEquals(model.requests.length, 3);
      assertEquals(model.remaining(), 0);
    } finally {
      await model.close();
    }
  });

  Deno.test(`${kind}: [ai] max_retries bounds the retries`, async () => {
    const model = modelStandIn([{ status: 503 }, { status: 503 }, { text: "too late" }]);
    try {
      const err = await provider(kind, model, 1).complete({
        system: "s",
        messages: [{ role: "user", content: "hi" }],
      }).then(() => null, (e) => e);
      assert.ok(err instanceof TauError, String(err));
      assertEquals([err.code, err.details], ["model_unavailable", { provider: kind, status: 503 }]);
      assertEquals(model.requests.length, 2, "the first try and one retry");
    } finally {
      await model.close();
    }
  });

  Deno.test(`${kind}: a refused request is model_unavailable, the key redacted`, async () => {
    const model = modelStandIn([{ status: 401, message: `invalid key ${KEY}` }]);
    try {
      const err = await provider(kind, model).complete({
        system: "s",
        messages: [{ role: "user", content: "hi" }],
      }).then(() => null, (e) => e);
      assert.ok(err instanceof TauError, String(err));
      assertEquals(err.code, "model_unavailable");
      assertEquals(err.details, { provider: kind, status: 401 });
      assert.ok(!JSON.stringify(err.toJSON()).includes(KEY), err.message);
      assert.ok(err.message.includes("[redacted]"), err.message);
      assertEquals(model.requests.length, 1); // 401 is not retried
    } finally {
      await model.close();
    }
  });
}

Deno.test("without [ai] or without its key, ai_not_configured says what to add", async () => {
  const { providerOptions, requireAi } = await import("./provider.ts");
  const err = (fn: () => unknown) => {
    try {
      fn();
    } catch (e) {
      assert.ok(e instanceof TauError);
      return { code: e.code, message: e.message, hint: e.hint };
    }
    throw new Error("expected an error");
  };
  const none = err(() => requireAi(undefined, "tau create"));
  assertEquals(none.code, "ai_not_configured");
  assert.ok(none.hint?.includes('[ai] provider = "anthropic"'), none.hint);
  const ai = {
    provider: "openai" as const,
    model: "m",
    max_attempts: 3,
    timeout: "1m",
    max_tokens: 1000,
    max_retries: 2,
    on_failure: "diagnose" as const,
    max_heals_per_day: 10,
  };
  const unset = err(() => providerOptions(ai, { get: () => undefined }));
  assertEquals(unset.code, "ai_not_configured");
  assertEquals(
    unset.message,
    "[ai] api_key_env names OPENAI_API_KEY, which is not set in taud's environment",
  );
  assertEquals(providerOptions(ai, { get: (n) => n === "OPENAI_API_KEY" ? "k" : undefined }), {
    model: "m",
    apiKey: "k",
    maxTokens: 1000,
    timeoutMs: 60_000,
    maxRetries: 2,
  });
});
