/**
 * Google OAuth 2.0 access tokens for BigQuery: a ready token, or a service-account key
 * exchanged for one (JWT bearer grant, RFC 7523) and cached until shortly before it expires.
 * No metadata server, no environment, no files: only what the options hold.
 *
 * @module
 */
import { importPrivateKey, signJwt } from "./_rs256.ts";
import { HttpSession, readText } from "./_warehouse.ts";
import { ConnectorError } from "./types.ts";

/** The fields of a service-account JSON key file that are used. */
export interface ServiceAccountKey {
  /** `…@….iam.gserviceaccount.com`. */
  client_email: string;
  /** PEM private key (`-----BEGIN PRIVATE KEY-----…`). */
  private_key: string;
  /** Sent as the JWT `kid` when present. */
  private_key_id?: string;
  /**
   * Where the signed assertion is exchanged for a token.
   * @default {"https://oauth2.googleapis.com/token"}
   */
  token_uri?: string;
  /** `"service_account"` when present. */
  type?: string;
}

/** Where a token comes from. */
export interface TokenOptions {
  credentials?: ServiceAccountKey | string;
  accessToken?: string;
  tokenEndpoint?: string;
}

export const BIGQUERY_SCOPE = "https://www.googleapis.com/auth/bigquery";
export const GOOGLE_TOKEN_URL = "https://oauth2.googleapis.com/token";
/** Tokens are renewed this long before Google says they expire. */
const EARLY_MS = 60_000;

/** Returns a function that yields a valid access token, fetching or renewing it as needed. */
export function tokenSource(
  options: TokenOptions,
  session: HttpSession,
  label: string,
): () => Promise<string> {
  if (options.accessToken !== undefined) {
    if (typeof options.accessToken !== "string" || options.accessToken === "") {
      throw new ConnectorError(`${label}: accessToken must be a non-empty string`);
    }
    const token = options.accessToken;
    return () => Promise.resolve(token);
  }
  if (options.credentials === undefined) {
    throw new ConnectorError(
      `${label}: no credentials: set credentials (a service-account key) or accessToken`,
    );
  }
  const key = parseKey(options.credentials, label);
  const endpoint = options.tokenEndpoint ?? key.token_uri ?? GOOGLE_TOKEN_URL;
  let cached: { token: string; renewAt: number } | null = null;
  let pending: Promise<string> | null = null;
  let signingKey: Promise<CryptoKey> | null = null;

  async function fetchToken(): Promise<string> {
    signingKey ??= importPrivateKey(key.private_key, `${label}: credentials.private_key`);
    const now = Math.floor(Date.now() / 1000);
    const assertion = await signJwt(
      await signingKey,
      { iss: key.client_email, scope: BIGQUERY_SCOPE, aud: endpoint, iat: now, exp: now + 3600 },
      key.private_key_id ? { kid: key.private_key_id } : {},
    );
    const response = await session.fetch(new URL(endpoint), {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({
        grant_type: "urn:ietf:params:oauth:grant-type:jwt-bearer",
        assertion,
      }),
    });
    const text = await readText(response);
    let body: {
      access_token?: string;
      expires_in?: number;
      error?: string;
      error_description?: string;
    };
    try {
      body = JSON.parse(text);
    } catch {
      body = {};
    }
    if (!response.ok || typeof body.access_token !== "string") {
      const reason = body.error
        ? `${body.error}${body.error_description ? `: ${body.error_description}` : ""}`
        : text.trim() || response.statusText;
      throw new ConnectorError(
        `${label}: Google token request for ${key.client_email} failed (HTTP ${response.status}): ${reason}`,
      );
    }
    const lifetime = (typeof body.expires_in === "number" ? body.expires_in : 3600) * 1000;
    cached = { token: body.access_token, renewAt: Date.now() + lifetime - EARLY_MS };
    return body.access_token;
  }

  return () => {
    if (cached && Date.now() < cached.renewAt) return Promise.resolve(cached.token);
    // Concurrent queries share one token request.
    pending ??= fetchToken().finally(() => pending = null);
    return pending;
  };
}

function parseKey(raw: ServiceAccountKey | string, label: string): ServiceAccountKey {
  let key: unknown = raw;
  if (typeof raw === "string") {
    try {
      key = JSON.parse(raw);
    } catch {
      // Not echoed: the text is a secret.
      throw new ConnectorError(
        `${label}: credentials is a string but not JSON (a key file's text)`,
      );
    }
  }
  const k = key as Partial<ServiceAccountKey> | null;
  if (k?.type !== undefined && k.type !== "service_account") {
    throw new ConnectorError(
      `${label}: credentials of type "${k.type}" are not supported; use a service-account key or accessToken`,
    );
  }
  if (typeof k?.client_email !== "string" || typeof k.private_key !== "string") {
    throw new ConnectorError(`${label}: credentials need client_email and private_key`);
  }
  return k as ServiceAccountKey;
}
