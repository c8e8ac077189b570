import { createHmac } from "node:crypto";
import { assertEquals } from "../../tests/helpers/assert.ts";
import {
  inWindow,
  matchingSignature,
  parseSignatureHeader,
  sign,
  signatureHeader,
} from "./signature.ts";
import { generateTriggerSecret, parseEventId } from "./delivery.ts";
import { signatureHeader as webhookSignatureHeader } from "../webhooks/signature.ts";

const SECRET = "tau_trg_" + "ab".repeat(32);
const HEX = "0123456789abcdef".repeat(4);

Deno.test("sign is HMAC-SHA256 of <t>.<body> keyed with the whole secret, as Tau's webhooks sign", () => {
  const expected = createHmac("sha256", SECRET).update('1700000000.{"a":1}').digest("hex");
  assertEquals(sign(SECRET, 1700000000, '{"a":1}'), expected);
  assertEquals(sign(SECRET, 1700000000, new TextEncoder().encode('{"a":1}')), expected);
  assertEquals(signatureHeader(SECRET, 1700000000, '{"a":1}'), `t=1700000000,v1=${expected}`);
  // The same header a Tau webhook carries: a Tau can trigger another Tau's pipeline.
  assertEquals(
    webhookSignatureHeader(SECRET, 1700000000, '{"a":1}'),
    signatureHeader(SECRET, 1700000000, '{"a":1}'),
  );
});

Deno.test("the header parses strictly: one t, one to four v1 of 64 hex digits", () => {
  assertEquals(parseSignatureHeader(`t=12,v1=${HEX}`), { t: 12, v1: [HEX] });
  assertEquals(parseSignatureHeader(` t=12 , v1=${HEX.toUpperCase()}, v0=x`), { t: 12, v1: [HEX] });
  assertEquals(parseSignatureHeader(`t=12,v1=${HEX},v1=${HEX}`)?.v1.length, 2);
  for (
    const bad of [
      undefined,
      null,
      "",
      "t=12",
      `v1=${HEX}`,
      `t=12,t=13,v1=${HEX}`,
      `t=-1,v1=${HEX}`,
      `t=1.5,v1=${HEX}`,
      `t=1234567890123,v1=${HEX}`,
      `t=12,v1=${HEX.slice(1)}`,
      `t=12,v1=${HEX}zz`,
      `t=12,v1=${Array(5).fill(HEX).join(",v1=")}`,
      `t=12,v1=${HEX},x=${"y".repeat(500)}`,
    ]
  ) {
    assertEquals(parseSignatureHeader(bad), null, String(bad));
  }
});

Deno.test("the window is 5 minutes either way", () => {
  const now = new Date(1_700_000_000_000);
  assertEquals(inWindow(1_700_000_000 - 300, now), true);
  assertEquals(inWindow(1_700_000_000 + 300, now), true);
  assertEquals(inWindow(1_700_000_000 - 301, now), false);
  assertEquals(inWindow(1_700_000_000 + 301, now), false);
});

Deno.test("a matching v1 is found among several; a changed byte or secret matches none", () => {
  const body = new TextEncoder().encode('{"order": 1}');
  const good = sign(SECRET, 100, body);
  assertEquals(matchingSignature(SECRET, { t: 100, v1: [HEX, good] }, body), good);
  assertEquals(matchingSignature(SECRET, { t: 101, v1: [good] }, body), null);
  assertEquals(
    matchingSignature(SECRET, { t: 100, v1: [good] }, new TextEncoder().encode('{"order": 2}')),
    null,
  );
  assertEquals(matchingSignature(generateTriggerSecret(), { t: 100, v1: [good] }, body), null);
});

Deno.test("secrets are 256 random bits; event ids are bounded", () => {
  const a = generateTriggerSecret();
  assertEquals(/^tau_trg_[0-9a-f]{64}$/.test(a), true);
  assertEquals(a === generateTriggerSecret(), false);
  assertEquals(parseEventId(undefined), null);
  assertEquals(parseEventId("evt_1N2x:a/b+c=@d.e-f"), "evt_1N2x:a/b+c=@d.e-f");
  for (const bad of ["", " x", "a b", "x".repeat(201), "é", "a\nb"]) {
    let code = "";
    try {
      parseEventId(bad);
    } catch (err) {
      code = (err as { code: string }).code;
    }
    assertEquals(code, "invalid_request", JSON.stringify(bad));
  }
});
