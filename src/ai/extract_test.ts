import { assertEquals } from "../../tests/helpers/assert.ts";
import { extractCandidate } from "./extract.ts";

const reply = (text: string, tool_calls: { name: string; input: unknown }[] = []) => ({
  text,
  tool_calls,
});

Deno.test("a write_pipeline call with code is the candidate, before any text", () => {
  assertEquals(
    extractCandidate(
      reply("```ts\nother\n```", [{ name: "write_pipeline", input: { code: "a" } }]),
    ),
    { code: "a\n", via: "tool" },
  );
});

Deno.test("exactly one fenced ts or typescript block is the candidate", () => {
  assertEquals(extractCandidate(reply("Here:\n```ts\nconst a = 1;\n```\nDone.")), {
    code: "const a = 1;\n",
    via: "fence",
  });
  assertEquals(extractCandidate(reply("```typescript\r\nx\r\n```")), { code: "x\n", via: "fence" });
});

Deno.test("anything else is no candidate, and says why", () => {
  const error = (r: ReturnType<typeof reply>) => {
    const got = extractCandidate(r);
    return "error" in got ? got.error : `unexpected candidate ${JSON.stringify(got)}`;
  };
  assertEquals(
    error(reply("I cannot do that.")),
    "the reply holds no write_pipeline call and no fenced ```ts block with the file",
  );
  assertEquals(
    error(reply("```ts\na\n```\n```ts\nb\n```")),
    "the reply holds 2 fenced ts blocks; send exactly one, with the whole file",
  );
  // A block in another language is not the file.
  assertEquals(
    error(reply("```python\nprint(1)\n```")),
    "the reply holds no write_pipeline call and no fenced ```ts block with the file",
  );
  assertEquals(
    error(reply("", [{ name: "write_pipeline", input: { file: "x" } }])),
    "write_pipeline was called without a non-empty string `code`",
  );
  assertEquals(
    error(reply("", [{ name: "write_pipeline", input: "{not json" }])),
    "write_pipeline was called without a non-empty string `code`",
  );
  assertEquals(
    error(reply("", [
      { name: "write_pipeline", input: { code: "a" } },
      { name: "write_pipeline", input: { code: "b" } },
    ])),
    "the reply called write_pipeline 2 times; call it once",
  );
});
