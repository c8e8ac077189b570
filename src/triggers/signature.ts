/**
 * How a delivery to `POST /api/v1/pipelines/NAME/trigger` proves it comes from a holder of the
 * pipeline's trigger secret: `Tau-Signature: t=<unix seconds>,v1=<hex>`, where the hex is
 * HMAC-SHA256 keyed with the secret over `<t>.<raw body>`. It is the scheme Tau's outgoing
 * webhooks sign with (src/webhooks/signature.ts), so a receiver's and a sender's code are alike.
 */
import { Buffer } from "node:buffer";
import { createHmac, timingSafeEqual } from "node:crypto";

/** The header that carries the timestamp and the signature. */
export const SIGNATURE_HEADER = "Tau-Signature";

/** How far `t` may be from the daemon's clock, either way: 5 minutes. */
export const TOLERANCE_S = 300;

/** Longest `Tau-Signature` value read; a longer one is malformed. */
const MAX_HEADER_CHARS = 512;

/** At most this many `v1=` values are compared (a sender may sign with several secrets). */
const MAX_SIGNATURES = 4;

/** A parsed `Tau-Signature` header. */
export interface SignatureHeader {
  /** Unix seconds the sender signed at. */
  t: number;
  /** The `v1=` values: lower-case hex of 32 bytes each. */
  v1: string[];
}

/** The HMAC-SHA256 of `<t>.<body>` keyed with `secret`, as lower-case hex. */
export function sign(secret: string, t: number, body: Uint8Array | string): string {
  return createHmac("sha256", secret).update(`${t}.`).update(body).digest("hex");
}

/** The whole `Tau-Signature` value for `body` signed at `t`. */
export function signatureHeader(secret: string, t: number, body: Uint8Array | string): string {
  return `t=${t},v1=${sign(secret, t, body)}`;
}

/**
 * The header's timestamp and signatures, or null when it is missing or malformed: exactly one
 * `t=` of up to 12 digits and one to four `v1=` values of 64 hex digits; other keys are ignored
 * (room for a later scheme).
 */
export function parseSignatureHeader(value: string | undefined | null): SignatureHeader | null {
  if (!value || value.length > MAX_HEADER_CHARS) return null;
  let t: number | null = null;
  const v1: string[] = [];
  for (const part of value.split(",")) {
    const eq = part.indexOf("=");
    const key = part.slice(0, eq).trim();
    const text = part.slice(eq + 1).trim();
    if (key === "t") {
      if (t !== null || !/^\d{1,12}$/.test(text)) return null;
      t = Number(text);
    } else if (key === "v1") {
      if (!/^[0-9a-fA-F]{64}$/.test(text)) return null;
      v1.push(text.toLowerCase());
    }
  }
  if (t === null || v1.length === 0 || v1.length > MAX_SIGNATURES) return null;
  return { t, v1 };
}

/** Whether `t` is within {@link TOLERANCE_S} of `now`. */
export function inWindow(t: number, now: Date): boolean {
  return Math.abs(now.getTime() / 1000 - t) <= TOLERANCE_S;
}

/**
 * The `v1` value that is the HMAC of `<t>.<body>` under `secret`, compared in constant time, or
 * null when none is.
 */
export function matchingSignature(
  secret: string,
  header: SignatureHeader,
  body: Uint8Array,
): string | null {
  const expected = Buffer.from(sign(secret, header.t, body), "hex");
  let found: string | null = null;
  for (const given of header.v1) {
    // Every value is compared (no early exit), each in constant time.
    if (timingSafeEqual(Buffer.from(given, "hex"), expected)) found ??= given;
  }
  return found;
}
