/**
 * Authorization headers for the Snowflake SQL API: key-pair JWTs (signed here with WebCrypto,
 * renewed before they expire) or a ready OAuth / programmatic access token. The SQL API takes
 * no passwords.
 *
 * @module
 */
import { importPrivateKey, publicKeyFingerprint, signJwt } from "./_rs256.ts";
import { ConnectorError } from "./types.ts";

/** The auth-related options of the connector. */
export interface SnowflakeAuthOptions {
  account: string;
  user?: string;
  privateKey?: string;
  token?: string;
  tokenType?: "OAUTH" | "PROGRAMMATIC_ACCESS_TOKEN";
}

/** JWT lifetime (Snowflake accepts at most one hour) and how long one is reused. */
const LIFETIME_S = 3600;
const REUSE_MS = 50 * 60_000;

/**
 * The account part of the JWT's `iss`/`sub`: upper case, without a region suffix
 * (`xy12345.eu-west-1` → `XY12345`); `orgname-accountname` stays whole.
 */
export function jwtAccount(account: string): string {
  return (account.split(".")[0] as string).toUpperCase();
}

/** Returns a function producing the headers of every request, checking the options now. */
export function authHeaders(
  options: SnowflakeAuthOptions & { password?: unknown },
  label: string,
): () => Promise<Record<string, string>> {
  const { privateKey, token } = options;
  if (privateKey !== undefined && token !== undefined) {
    throw new ConnectorError(`${label}: set privateKey or token, not both`);
  }
  if (token !== undefined) {
    if (typeof token !== "string" || token === "") {
      throw new ConnectorError(`${label}: token must be a non-empty string`);
    }
    const type = options.tokenType ?? "OAUTH";
    if (type !== "OAUTH" && type !== "PROGRAMMATIC_ACCESS_TOKEN") {
      throw new ConnectorError(
        `${label}: tokenType must be "OAUTH" or "PROGRAMMATIC_ACCESS_TOKEN"`,
      );
    }
    const headers = {
      Authorization: `Bearer ${token}`,
      "X-Snowflake-Authorization-Token-Type": type,
    };
    return () => Promise.resolve(headers);
  }
  if (privateKey === undefined) {
    throw new ConnectorError(
      options.password !== undefined
        ? `${label}: the Snowflake SQL API does not accept passwords; use key-pair auth ` +
          `(privateKey, with the public key set on the user: ALTER USER … SET RSA_PUBLIC_KEY) ` +
          `or a token (OAuth or programmatic access token)`
        : `${label}: no credentials: set privateKey (key-pair auth) or token`,
    );
  }
  if (typeof privateKey !== "string") {
    throw new ConnectorError(`${label}: privateKey must be PEM text`);
  }
  if (typeof options.user !== "string" || options.user === "") {
    throw new ConnectorError(`${label}: key-pair auth needs user`);
  }
  const subject = `${jwtAccount(options.account)}.${options.user.toUpperCase()}`;
  let key: Promise<{ key: CryptoKey; issuer: string }> | null = null;
  let cached: { headers: Record<string, string>; renewAt: number } | null = null;

  return async () => {
    if (cached && Date.now() < cached.renewAt) return cached.headers;
    key ??= (async () => {
      const k = await importPrivateKey(privateKey, `${label}: privateKey`);
      return { key: k, issuer: `${subject}.SHA256:${await publicKeyFingerprint(k)}` };
    })();
    const { key: signing, issuer } = await key;
    const now = Math.floor(Date.now() / 1000);
    const jwt = await signJwt(signing, {
      iss: issuer,
      sub: subject,
      iat: now,
      exp: now + LIFETIME_S,
    });
    const headers = {
      Authorization: `Bearer ${jwt}`,
      "X-Snowflake-Authorization-Token-Type": "KEYPAIR_JWT",
    };
    cached = { headers, renewAt: Date.now() + REUSE_MS };
    return headers;
  };
}
