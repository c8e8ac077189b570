/**
 * API keys. A key reads `tau_<id>_<secret>`: the id finds its row, and only the SHA-256 hex
 * digest of the whole key is stored, so the database never holds a usable key. Digests are
 * compared in constant time. The admin keys of the daemon itself (`$TAU_HOME/api_key`,
 * `[auth] api_key`) are hashed once at start and checked the same way.
 */
import { Buffer } from "node:buffer";
import { timingSafeEqual } from "node:crypto";
import { TauError } from "../core/errors.ts";
import { sha256Hex } from "../core/ids.ts";
import type { ApiKeyScope, Store } from "../store/mod.ts";

/** Every scope, from least to most allowed; each one includes those before it. */
export const SCOPES: readonly ApiKeyScope[] = ["read", "operate", "admin"];

/** Random bytes of a key's secret (256 bits, 43 base64url characters). */
const SECRET_BYTES = 32;
/** Random bytes of a key's id (12 hex characters). */
const ID_BYTES = 6;
/** `last_used_at` is written at most this often per key, so reads do not turn into writes. */
export const TOUCH_INTERVAL_MS = 60_000;

const KEY_PATTERN = /^tau_([0-9a-f]{12})_([A-Za-z0-9_-]{43,})$/;

/** Who a request acts as: a stored key (its id), or an admin key of the daemon (`null`). */
export interface Principal {
  id: string | null;
  scope: ApiKeyScope;
}

export function isScope(value: unknown): value is ApiKeyScope {
  return SCOPES.includes(value as ApiKeyScope);
}

/** Whether a key of scope `have` may do what needs scope `need`. */
export function scopeAllows(have: ApiKeyScope, need: ApiKeyScope): boolean {
  return SCOPES.indexOf(have) >= SCOPES.indexOf(need);
}

/** SHA-256 hex digest of a whole key: what is stored and compared. */
export function hashApiKey(key: string): string {
  return sha256Hex(key);
}

/** A fresh key with its id and digest. The key is shown once and never stored. */
export function generateApiKey(): { id: string; key: string; hash: string } {
  const id = Buffer.from(crypto.getRandomValues(new Uint8Array(ID_BYTES))).toString("hex");
  const secret = Buffer.from(crypto.getRandomValues(new Uint8Array(SECRET_BYTES)))
    .toString("base64url");
  const key = `tau_${id}_${secret}`;
  return { id, key, hash: hashApiKey(key) };
}

/** The id of a key in the `tau_<id>_<secret>` format, or null for anything else. */
export function parseApiKey(key: string): { id: string } | null {
  const match = KEY_PATTERN.exec(key);
  return match ? { id: match[1] as string } : null;
}

/** Compares two hex digests in constant time (their length is not secret). */
export function digestsEqual(a: string, b: string): boolean {
  const x = new TextEncoder().encode(a);
  const y = new TextEncoder().encode(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** Digests of the daemon's admin keys; missing ones are skipped, the keys are not kept. */
export function adminKeyDigests(keys: readonly (string | undefined)[]): string[] {
  return keys.filter((k): k is string => !!k).map(hashApiKey);
}

export interface VerifyOptions {
  store: Pick<Store, "getApiKey" | "touchApiKey">;
  /** Digests of the admin keys (see `adminKeyDigests`). */
  adminDigests: readonly string[];
  /** @default {new Date()} */
  now?: Date;
}

/**
 * Who `key` acts as, or an `unauthorized` error. Admin digests are all compared (no early
 * exit); a stored key is found by its id, then its digest compared. A revoked key is refused
 * only once its digest matched, so revocation is told to no one but the key's holder.
 */
export async function verifyApiKey(key: string, options: VerifyOptions): Promise<Principal> {
  const digest = hashApiKey(key);
  let admin = false;
  for (const expected of options.adminDigests) admin = digestsEqual(expected, digest) || admin;
  if (admin) return { id: null, scope: "admin" };

  const parsed = parseApiKey(key);
  const stored = parsed ? await options.store.getApiKey(parsed.id) : null;
  if (!stored || !digestsEqual(stored.hash, digest)) {
    throw new TauError("unauthorized", "Invalid API key", {
      hint: "check TAU_API_KEY, or unset it to use the local key in $TAU_HOME/api_key",
    });
  }
  if (stored.revoked_at) {
    throw new TauError("unauthorized", `API key ${stored.id} was revoked at ${stored.revoked_at}`, {
      hint: "ask an admin for a new key: tau keys create --scope SCOPE",
    });
  }
  const now = options.now ?? new Date();
  const last = stored.last_used_at ? Date.parse(stored.last_used_at) : -Infinity;
  if (now.getTime() - last >= TOUCH_INTERVAL_MS) await options.store.touchApiKey(stored.id, now);
  return { id: stored.id, scope: stored.scope };
}
