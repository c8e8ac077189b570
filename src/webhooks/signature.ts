/**
 * Signing a delivery: `Tau-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`.
 * docs/webhooks.md has the receiver's side (`verifyTauSignature` below is that recipe).
 */
import { Buffer } from "node:buffer";
import { createHmac, timingSafeEqual } from "node:crypto";

/** The `Tau-Signature` header value for `body` sent at `t` (unix seconds). */
export function signatureHeader(secret: string, t: number, body: string): string {
  const v1 = createHmac("sha256", secret).update(`${t}.${body}`).digest("hex");
  return `t=${t},v1=${v1}`;
}

/**
 * The receiver's check, as docs/webhooks.md prints it: the header parses, `t` is within
 * `toleranceS` of now (replays of old deliveries fail), and the HMAC matches in constant time.
 */
export function verifyTauSignature(
  secret: string,
  header: string,
  body: string,
  nowS = Math.floor(Date.now() / 1000),
  toleranceS = 300,
): boolean {
  const parts = Object.fromEntries(header.split(",").map((p) => p.split("=", 2)));
  const t = Number(parts.t);
  if (!Number.isInteger(t) || Math.abs(nowS - t) > toleranceS) return false;
  const expected = createHmac("sha256", secret).update(`${t}.${body}`).digest();
  const given = Buffer.from(String(parts.v1 ?? ""), "hex");
  return given.length === expected.length && timingSafeEqual(given, expected);
}
