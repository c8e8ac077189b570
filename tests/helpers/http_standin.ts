/**
 * For tests only: a local HTTP server (port 0 on 127.0.0.1) that records every request and
 * answers through a function, standing in for a warehouse's HTTP API.
 *
 * @module
 */

/** One request as the stand-in received it. */
export interface Seen {
  method: string;
  /** Path without the query string. */
  path: string;
  /** Query-string parameters (last value wins). */
  query: Record<string, string>;
  /** Headers with lower-case names. */
  headers: Record<string, string>;
  /** The full URL as received (to check that no secret is in it). */
  url: string;
  body: string;
}

/** A running stand-in. */
export interface StandIn {
  /** Base URL, e.g. `http://127.0.0.1:40123`. */
  url: string;
  /** Every request so far, in order. */
  requests: Seen[];
  close(): Promise<void>;
}

/** Starts a stand-in whose answers come from `answer`. */
export function standIn(answer: (seen: Seen) => Response | Promise<Response>): StandIn {
  const requests: Seen[] = [];
  const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen() {} }, async (req) => {
    const url = new URL(req.url);
    const seen: Seen = {
      method: req.method,
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      headers: Object.fromEntries(req.headers),
      url: req.url,
      body: await req.text(),
    };
    requests.push(seen);
    try {
      return await answer(seen);
    } catch (error) {
      return new Response(`stand-in failed: ${error}`, { status: 599 });
    }
  });
  return {
    url: `http://127.0.0.1:${server.addr.port}`,
    requests,
    close: () => server.shutdown(),
  };
}

/** A JSON response. */
export function json(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json", ...headers },
  });
}

/** A fresh RSA key pair for RS256, and its private key as PKCS#8 PEM. */
export async function rsaKeyPair(): Promise<
  { pem: string; publicKey: CryptoKey; pkcs8: Uint8Array }
> {
  const pair = await crypto.subtle.generateKey(
    {
      name: "RSASSA-PKCS1-v1_5",
      modulusLength: 2048,
      publicExponent: new Uint8Array([1, 0, 1]),
      hash: "SHA-256",
    },
    true,
    ["sign", "verify"],
  );
  const pkcs8 = new Uint8Array(await crypto.subtle.exportKey("pkcs8", pair.privateKey));
  return { pem: pem("PRIVATE KEY", pkcs8), publicKey: pair.publicKey, pkcs8 };
}

/** DER bytes as PEM with the given label. */
export function pem(label: string, der: Uint8Array): string {
  const b64 = btoa(String.fromCharCode(...der));
  const body = b64.match(/.{1,64}/g)?.join("\n") ?? "";
  return `-----BEGIN ${label}-----\n${body}\n-----END ${label}-----\n`;
}

/** Verifies an RS256 JWT with `publicKey`; returns its header and claims, or throws. */
export async function verifyJwt(
  token: string,
  publicKey: CryptoKey,
): Promise<{ header: Record<string, unknown>; claims: Record<string, unknown> }> {
  const [head, body, signature] = token.split(".");
  if (!head || !body || !signature) throw new Error("not a compact JWT");
  const bytes = (part: string) =>
    Uint8Array.from(atob(part.replaceAll("-", "+").replaceAll("_", "/")), (c) => c.charCodeAt(0));
  const ok = await crypto.subtle.verify(
    "RSASSA-PKCS1-v1_5",
    publicKey,
    bytes(signature),
    new TextEncoder().encode(`${head}.${body}`),
  );
  if (!ok) throw new Error("bad JWT signature");
  const decode = (part: string) => JSON.parse(new TextDecoder().decode(bytes(part)));
  return { header: decode(head), claims: decode(body) };
}
