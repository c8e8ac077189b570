import { assertEquals } from "../../tests/helpers/assert.ts";
import { isJsonText } from "./json_text.ts";

Deno.test("isJsonText accepts exactly what JSON.parse accepts", () => {
  const samples = [
    "[]",
    "{}",
    ' [ {"a": 1, "b": [true, false, null]}, "x\\n\\u00e9\\"", -0.5e+10, 0 ] ',
    '{"rows":[{"x":"\u00e9\u{1F600}"}],"done":false}',
    JSON.stringify({ s: "tab\tnew\nline \u2028", n: [1.5, -2, 3e-7], nested: [[[{}]]] }),
    "",
    "[1,]",
    "[1 2]",
    '{"a" 1}',
    '{"a":1,}',
    "{a:1}",
    "01",
    "1.",
    "-",
    ".5",
    "1e",
    '"\\x"',
    '"\\u12"',
    '"raw\ttab"',
    '"unterminated',
    "[1]]",
    "nul",
    "truex",
    "[1]\n[2]",
    "[" + "[".repeat(300) + "]".repeat(301),
  ];
  for (const text of samples) {
    let parses = true;
    try {
      JSON.parse(text);
    } catch {
      parses = false;
    }
    const deep = text.startsWith("[[[[");
    assertEquals(isJsonText(text), parses && !deep, text.slice(0, 40));
  }
});
