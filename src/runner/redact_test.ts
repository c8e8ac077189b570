import { assert, assertEquals } from "../../tests/helpers/assert.ts";
import {
  cut,
  makeRedactor,
  maskText,
  MIN_ENCODED_LENGTH,
  noRedaction,
  REDACTED_ENCODINGS,
} from "./redact.ts";

const utf8 = (s: string) => new TextEncoder().encode(s);
const b64 = (bytes: Uint8Array) => btoa(Array.from(bytes, (b) => String.fromCharCode(b)).join(""));
const hex = (s: string) => Array.from(utf8(s), (b) => b.toString(16).padStart(2, "0")).join("");
const url = (b: string) => b.replaceAll("+", "-").replaceAll("/", "_");

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

Deno.test("overlapping secrets are redacted as one range naming both", () => {
  const redact = makeRedactor({ A: "abcdef", B: "defghi" });
  assertEquals(redact("<abcdefghi>"), "<[REDACTED:A][REDACTED:B]>");
  assertEquals(redact("<defghiabcdef>"), "<[REDACTED:B][REDACTED:A]>");
  // Overlapping occurrences of one secret.
  assertEquals(makeRedactor({ R: "abab" })("xabababx abab"), "x[REDACTED:R]x [REDACTED:R]");
  // Back to back occurrences stay two.
  assertEquals(redact("abcdefabcdef"), "[REDACTED:A][REDACTED:A]");
});

Deno.test("each listed encoding of a secret is redacted", () => {
  // Quotes, a backslash, a space, reserved URL characters and non-ASCII: every encoding differs.
  const secret = `p@ss w/"rd"\\+!ü€~~~??>`;
  const redact = makeRedactor({ PW: secret });
  const bytes = utf8(secret);
  const full = b64(bytes);
  const forms: Record<string, string> = {
    plain: secret,
    json: JSON.stringify(secret).slice(1, -1),
    "json-ascii": `p@ss w/\\"rd\\"\\\\+!\\u00fc\\u20ac~~~??>`,
    url: encodeURIComponent(secret),
    "url-lower": encodeURIComponent(secret).replace(/%../g, (s) => s.toLowerCase()),
    form: new URLSearchParams({ v: secret }).toString().slice(2),
    "form-plus": encodeURIComponent(secret).replaceAll("%20", "+"),
    hex: hex(secret),
    "hex-upper": hex(secret).toUpperCase(),
    base64: full,
    "base64 unpadded": full.replace(/=+$/, ""),
    base64url: url(full),
    "base64url unpadded": url(full).replace(/=+$/, ""),
  };
  assertEquals(new Set(Object.values(forms)).size, Object.keys(forms).length, "forms differ");
  assert(full.includes("/") && full.includes("+") && full.endsWith("="), full);
  for (const [name, form] of Object.entries(forms)) {
    assertEquals(redact(`a ${form} b`), "a [REDACTED:PW] b", name);
    assertEquals(redact({ [form]: form }), { "[REDACTED:PW]": "[REDACTED:PW]" }, name);
  }
  assertEquals(
    REDACTED_ENCODINGS.map((e) => e.name),
    [
      "plain",
      "json",
      "json-ascii",
      "url",
      "url-lower",
      "form",
      "form-plus",
      "hex",
      "hex-upper",
      "base64",
      "base64url",
      "base64-inner",
    ],
  );
});

Deno.test("a secret's base64 inside longer base64 is redacted at each byte offset", () => {
  const secret = "correct-horse-battery";
  const redact = makeRedactor({ PW: secret });
  for (const prefix of ["", "a", "ab", "abc", "abcd", "abcde", "abcdef"]) {
    for (const suffix of ["", "z", "yz", "xyz"]) {
      const data = utf8(prefix + secret + suffix);
      // Characters that depend on the secret's bits only.
      const start = Math.ceil((8 * prefix.length) / 6);
      const end = Math.floor((8 * (prefix.length + secret.length)) / 6);
      for (const encoded of [b64(data), url(b64(data))]) {
        const expected = encoded.slice(0, start) + "[REDACTED:PW]" + encoded.slice(end);
        const actual = redact(encoded);
        // With nothing after the secret, the whole standalone encoding may go, padding included.
        if (suffix === "" && prefix.length % 3 === 0) {
          assertEquals(actual, encoded.slice(0, start) + "[REDACTED:PW]", `${prefix}|${suffix}`);
        } else assertEquals(actual, expected, `${prefix}|${suffix}`);
      }
    }
  }
});

Deno.test("HTTP Basic credentials are redacted whatever the user name's length", () => {
  const redact = makeRedactor({ DB_PASSWORD: "s3cr3t-pa55" });
  // btoa("admin:s3cr3t-pa55"), btoa("bob:s3cr3t-pa55"), btoa("dave:s3cr3t-pa55"): the
  // password starts at byte offsets 0, 1 and 2 (mod 3).
  assertEquals(
    redact("Authorization: Basic YWRtaW46czNjcjN0LXBhNTU="),
    "Authorization: Basic YWRtaW46[REDACTED:DB_PASSWORD]",
  );
  assertEquals(
    redact("Authorization: Basic Ym9iOnMzY3IzdC1wYTU1"),
    "Authorization: Basic Ym9iOn[REDACTED:DB_PASSWORD]",
  );
  assertEquals(
    redact({ headers: { authorization: "Basic ZGF2ZTpzM2NyM3QtcGE1NQ==" } }),
    { headers: { authorization: "Basic ZGF2ZTp[REDACTED:DB_PASSWORD]Q==" } },
  );
});

Deno.test("short values and short encodings are not redacted", () => {
  const redact = makeRedactor({ TINY: "abc", FOUR: "wxyz" });
  assertEquals(redact("abc abcabc"), "abc abcabc");
  assertEquals(redact("wxyz d3h5eg== d3h5eg 7778797a"), "[REDACTED:FOUR] ".repeat(4).trimEnd());
  // The inner base64 of "wxyz" at offset 1 is 4 characters: too short to look for.
  const inner = b64(utf8("\0wxyz\0\0")).slice(2, 6);
  assert(inner.length < MIN_ENCODED_LENGTH);
  assertEquals(redact(`<${inner}>`), `<${inner}>`);
  // Nothing to redact at all.
  assertEquals(makeRedactor({ A: "x", B: "" })("x y"), "x y");
  assertEquals(makeRedactor([]).find("anything"), []);
});

Deno.test("ordinary text is left alone", () => {
  const redact = makeRedactor({
    API_KEY: "sk_live_51H8xQ2eZvKYlo2C0aBcDeF",
    DB_PASSWORD: "hunter2-p@ss w0rd!",
    TOKEN: "ghp_16C7e42F292c6912E7710c838347Ae178B4a",
  });
  const text = [
    "Loaded 1200 rows from orders in 35 ms; next page https://api.example.com/v1/orders?page=2",
    `{"id":42,"name":"Zoë","tags":["a","b"],"ok":true,"ratio":0.25}`,
    "Authorization: Basic dXNlcjpwYXNzd29yZA== sha256=9f86d081884c7d659a2feaa0c55ad015",
    "aGVsbG8gd29ybGQsIHRoaXMgaXMgYmFzZTY0IGRhdGEgdGhhdCBpcyBub3QgYSBzZWNyZXQ=",
    "hunter2 p@ss sk_live ghp_ 0123456789abcdef",
  ].join("\n");
  assertEquals(redact(text), text);
  assertEquals(redact.find(text), []);
});

Deno.test("redacting twice changes nothing, even for secrets that look like markers", () => {
  const redact = makeRedactor({ API_KEY: "REDACTED", connection: "connection", X: "ACTED:AP" });
  const once = redact("a REDACTED b connection c [REDACTED:API_KEY:part]");
  assertEquals(once, "a [REDACTED:API_KEY] b [REDACTED:connection] c [REDACTED:API_KEY:part]");
  assertEquals(redact(once), once);
  assertEquals(redact(redact({ [once]: [once] })), { [once]: [once] });
  // A label that is not this redactor's is no marker.
  assertEquals(redact("[REDACTED:OTHER]"), "[[REDACTED:API_KEY]:OTHER]");
});

Deno.test("pendingLength: the end of a text that a secret could start with", () => {
  const redact = makeRedactor({ A: "hunter22", B: "22-catch" });
  assertEquals(redact.pendingLength("x hunt"), 4);
  assertEquals(redact.pendingLength("x hunter22"), 2, "a whole secret; '22' may start B");
  assertEquals(redact.pendingLength("x 22-cat"), 6);
  assertEquals(redact.pendingLength("x hunter22-catch"), 1, "h may start A");
  assertEquals(redact.pendingLength("x hunter22-catch "), 0);
  assertEquals(redact.pendingLength("x hunting "), 0);
  assertEquals(redact.pendingLength(""), 0);
  assertEquals(noRedaction().pendingLength("hunt"), 0);
  // Encodings count too: hex of "hunter22" starts 68756e.
  assertEquals(redact.pendingLength("id 68756e"), 6);
  assert(redact.maxNeedleLength >= hex("hunter22").length);
});

Deno.test("maskText marks the pieces of a range cut by either end of the text", () => {
  const found = [{ start: 3, end: 9, labels: ["K"] }, { start: 12, end: 14, labels: ["A", "B"] }];
  assertEquals(maskText("0123456789abcdef", found), "012[REDACTED:K]9ab[REDACTED:A][REDACTED:B]ef");
  assertEquals(maskText("5678", found, 5), "[REDACTED:K:part]");
  assertEquals(maskText("789", found, 7), "[REDACTED:K:part]9");
  assertEquals(maskText("0123", found, 0), "012[REDACTED:K:part]");
  assertEquals(maskText("9ab", found, 9), "9ab");
});

Deno.test("each line of a multi-line secret is redacted on its own", () => {
  const pem = "-----BEGIN KEY-----\r\nMIIEvQIBADANBgkq\r\nhkiG9w0BAQEF\r\n-----END KEY-----";
  const redact = makeRedactor({ PEM: pem });
  assertEquals(redact(`a ${pem} b`), "a [REDACTED:PEM] b");
  assertEquals(redact("line: MIIEvQIBADANBgkq\r"), "line: [REDACTED:PEM]\r");
  assertEquals(redact("hkiG9w0BAQEF"), "[REDACTED:PEM]");
});

Deno.test("clip redacts first, then cuts outside any marker", () => {
  const redact = makeRedactor({ KEY: "abcdef123456" });
  // The secret straddles the cut: redacted whole first, so no piece of it survives.
  assertEquals(redact.clip("0123456789abcdef123456", 15), "0123456789…");
  assertEquals(redact.clip("short", 15), "short");
  assertEquals(cut("x".repeat(20), 10), "xxxxxxxxx…");
  assertEquals(noRedaction().clip("x".repeat(20), 10), "xxxxxxxxx…");
});

Deno.test("any depth of nesting is redacted without overflowing the stack", () => {
  const redact = makeRedactor({ KEY: "abcdef123456" });
  let deep: unknown = "abcdef123456";
  for (let i = 0; i < 200_000; i++) deep = i % 2 ? [deep] : { k: deep };
  let out = redact(deep);
  for (let i = 199_999; i >= 0; i--) {
    out = i % 2 ? (out as unknown[])[0] : (out as { k: unknown }).k;
  }
  assertEquals(out, "[REDACTED:KEY]");
});

Deno.test("a key named __proto__ stays a key", () => {
  const redact = makeRedactor({ KEY: "abcdef123456" });
  const value = JSON.parse('{"__proto__": {"x": "abcdef123456"}}');
  const out = redact(value) as Record<string, unknown>;
  assertEquals(Object.keys(out), ["__proto__"]);
  assertEquals(JSON.stringify(out), '{"__proto__":{"x":"[REDACTED:KEY]"}}');
});
