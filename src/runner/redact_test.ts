import { assertEquals } from "../../tests/helpers/assert.ts";
import { makeRedactor } from "./redact.ts";

Deno.test("secret values are replaced everywhere in nested JSON", () => {
  const redact = makeRedactor({ API_KEY: "abcd1234", SHORT: "ab" });
  assertEquals(
    redact({ msg: "key=abcd1234!", list: ["abcd1234"], n: 1, ["abcd1234"]: true, short: "ab" }),
    {
      msg: "key=[REDACTED:API_KEY]!",
      list: ["[REDACTED:API_KEY]"],
      n: 1,
      "[REDACTED:API_KEY]": true,
      short: "ab",
    },
  );
});

Deno.test("a secret that contains another is replaced whole", () => {
  const redact = makeRedactor({ INNER: "secret", OUTER: "supersecret" });
  assertEquals(redact("x supersecret y secret"), "x [REDACTED:OUTER] y [REDACTED:INNER]");
});
