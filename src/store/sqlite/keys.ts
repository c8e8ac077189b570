/** API keys on SQLite: stored by digest, listed without it. */

import { type Row, toApiKey } from "../codec.ts";
import type { ApiKeyRecord, NewApiKey, StoredApiKey } from "../types.ts";
import type { Db } from "./db.ts";

export function createApiKey(db: Db, key: NewApiKey): ApiKeyRecord {
  const row = db.stmt(
    `INSERT INTO api_keys (id, name, scope, hash, created_at) VALUES (?, ?, ?, ?, ?)
     RETURNING *`,
  ).get(key.id, key.name, key.scope, key.hash, key.created_at);
  return toApiKey(row as Row);
}

export function getApiKey(db: Db, id: string): StoredApiKey | null {
  const row = db.stmt("SELECT * FROM api_keys WHERE id = ?").get(id);
  return row ? { ...row } as unknown as StoredApiKey : null;
}

export function listApiKeys(db: Db): ApiKeyRecord[] {
  return db.stmt("SELECT * FROM api_keys ORDER BY created_at, id").all().map(toApiKey);
}

export function touchApiKey(db: Db, id: string, now: Date): void {
  db.stmt("UPDATE api_keys SET last_used_at = ? WHERE id = ?").run(now.toISOString(), id);
}

export function revokeApiKey(db: Db, id: string, now: Date): ApiKeyRecord | null {
  const row = db.stmt(
    "UPDATE api_keys SET revoked_at = coalesce(revoked_at, ?) WHERE id = ? RETURNING *",
  ).get(now.toISOString(), id);
  return row ? toApiKey(row) : null;
}
