import { assertEquals } from "../../tests/helpers/assert.ts";
import { signatureHeader, verifyTauSignature } from "./signature.ts";

Deno.test("a signature verifies with its secret and body, within the replay window only", () => {
  const body = '{"event":"run.failed"}';
  const t = 1_767_225_600;
  const header = signatureHeader("s3cret", t, body);
  assertEquals(/^t=1767225600,v1=[0-9a-f]{64}$/.test(header), true);
  assertEquals(verifyTauSignature("s3cret", header, body, t + 10), true);
  assertEquals(verifyTauSignature("other", header, body, t + 10), false);
  assertEquals(verifyTauSignature("s3cret", header, body + " ", t + 10), false);
  // Older than five minutes (a replay), or from the future: refused.
  assertEquals(verifyTauSignature("s3cret", header, body, t + 301), false);
  assertEquals(verifyTauSignature("s3cret", header, body, t - 301), false);
  assertEquals(verifyTauSignature("s3cret", "t=x,v1=zz", body, t), false);
  const flipped = header.slice(0, -1) + (header.endsWith("0") ? "1" : "0");
  assertEquals(verifyTauSignature("s3cret", flipped, body, t), false);
});
