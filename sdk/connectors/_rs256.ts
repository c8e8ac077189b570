/**
 * RS256 JSON Web Tokens with WebCrypto, for BigQuery service accounts and Snowflake key-pair
 * auth. Reads unencrypted PEM keys (PKCS#8 `BEGIN PRIVATE KEY` or PKCS#1 `BEGIN RSA PRIVATE
 * KEY`). Error messages never include key material.
 *
 * @module
 */
import { ConnectorError } from "./types.ts";
import { errorText } from "../_error_text.ts";

const RSA = { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" } as const;
const encoder = new TextEncoder();

/** Base64url without padding, as JWTs use. */
export function base64url(data: Uint8Array | string): string {
  const bytes = typeof data === "string" ? encoder.encode(data) : data;
  return base64(bytes).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

/** Standard base64 with padding. */
export function base64(bytes: Uint8Array): string {
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(binary);
}

function fromBase64(text: string, what: string): Uint8Array {
  try {
    return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
  } catch {
    throw new ConnectorError(`${what} is not valid PEM (the base64 body does not decode)`);
  }
}

/** DER length octets. */
function derLength(n: number): number[] {
  if (n < 0x80) return [n];
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v % 256);
  return [0x80 | bytes.length, ...bytes];
}

/** Wraps a PKCS#1 RSAPrivateKey in a PKCS#8 PrivateKeyInfo, the form WebCrypto imports. */
function pkcs1ToPkcs8(pkcs1: Uint8Array): Uint8Array {
  // version 0, AlgorithmIdentifier { rsaEncryption, NULL }
  const head = [0x02, 0x01, 0x00, 0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d];
  const algorithm = [...head, 0x01, 0x01, 0x01, 0x05, 0x00];
  const octets = [0x04, ...derLength(pkcs1.length)];
  const bodyLength = algorithm.length + octets.length + pkcs1.length;
  const out = new Uint8Array([0x30, ...derLength(bodyLength), ...algorithm, ...octets, ...pkcs1]);
  return out;
}

/**
 * Imports an RSA private key from PEM for RS256 signing. `what` names the option in errors
 * (e.g. "snowflake: privateKey"). The key is extractable so its public half can be derived.
 */
export async function importPrivateKey(pem: string, what: string): Promise<CryptoKey> {
  // Keys pasted through env files or JSON often carry literal "\n" sequences.
  const text = pem.includes("\\n") ? pem.replaceAll("\\n", "\n") : pem;
  const match = /-----BEGIN ([A-Z ]+)-----([\s\S]*?)-----END \1-----/.exec(text);
  if (!match) throw new ConnectorError(`${what} is not a PEM private key (no BEGIN/END lines)`);
  const label = match[1] as string;
  if (label === "ENCRYPTED PRIVATE KEY" || /Proc-Type: 4,ENCRYPTED/.test(match[2] as string)) {
    throw new ConnectorError(
      `${what} is encrypted; give the unencrypted key ` +
        `(openssl pkcs8 -topk8 -nocrypt -in key.p8 -out key.pem)`,
    );
  }
  if (label !== "PRIVATE KEY" && label !== "RSA PRIVATE KEY") {
    throw new ConnectorError(`${what}: expected "BEGIN PRIVATE KEY", found "BEGIN ${label}"`);
  }
  const der = fromBase64((match[2] as string).replace(/\s+/g, ""), what);
  const pkcs8 = label === "RSA PRIVATE KEY" ? pkcs1ToPkcs8(der) : der;
  try {
    return await crypto.subtle.importKey("pkcs8", pkcs8 as BufferSource, RSA, true, ["sign"]);
  } catch (error) {
    const reason = errorText(error);
    throw new ConnectorError(`${what} is not a usable RSA private key: ${reason}`);
  }
}

/** SHA-256 fingerprint of the public key (SubjectPublicKeyInfo DER), base64: Snowflake's format. */
export async function publicKeyFingerprint(privateKey: CryptoKey): Promise<string> {
  const jwk = await crypto.subtle.exportKey("jwk", privateKey);
  const publicKey = await crypto.subtle.importKey(
    "jwk",
    { kty: "RSA", n: jwk.n, e: jwk.e, ext: true },
    RSA,
    true,
    ["verify"],
  );
  const spki = new Uint8Array(await crypto.subtle.exportKey("spki", publicKey));
  return base64(new Uint8Array(await crypto.subtle.digest("SHA-256", spki)));
}

/** Signs `claims` as a compact RS256 JWT. */
export async function signJwt(
  key: CryptoKey,
  claims: Record<string, unknown>,
  header: Record<string, unknown> = {},
): Promise<string> {
  const head = base64url(JSON.stringify({ alg: "RS256", typ: "JWT", ...header }));
  const body = base64url(JSON.stringify(claims));
  const input = `${head}.${body}`;
  const signature = await crypto.subtle.sign(RSA, key, encoder.encode(input));
  return `${input}.${base64url(new Uint8Array(signature))}`;
}
