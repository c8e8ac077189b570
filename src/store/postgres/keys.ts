/** API keys on PostgreSQL: stored by digest, listed without it. */

import { type Row, toApiKey } from "../codec.ts";
import type { ApiKeyRecord, NewApiKey, StoredApiKey } from "../types.ts";
import { API_KEY_COLUMNS } from "./columns.ts";
import { type Db, query } from "./db.ts";

export async function createApiKey(db: Db, key: NewApiKey): Promise<ApiKeyRecord> {
  const [row] = await query(
    db,
    `INSERT INTO api_keys (id, name, scope, hash, created_at) VALUES ($1, $2, $3, $4, $5)
     RETURNING ${API_KEY_COLUMNS}`,
    [key.id, key.name, key.scope, key.hash, key.created_at],
  );
  return toApiKey(row as Row);
}

export async function getApiKey(db: Db, id: string): Promise<StoredApiKey | null> {
  const [row] = await query(db, `SELECT ${API_KEY_COLUMNS} FROM api_keys WHERE id = $1`, [id]);
  return (row ?? null) as StoredApiKey | null;
}

export async function listApiKeys(db: Db): Promise<ApiKeyRecord[]> {
  const rows = await query(db, `SELECT ${API_KEY_COLUMNS} FROM api_keys ORDER BY created_at, id`);
  return rows.map(toApiKey);
}

export async function touchApiKey(db: Db, id: string, now: Date): Promise<void> {
  await query(db, "UPDATE api_keys SET last_used_at = $1 WHERE id = $2", [now.toISOString(), id]);
}

export async function revokeApiKey(db: Db, id: string, now: Date): Promise<ApiKeyRecord | null> {
  const [row] = await query(
    db,
    `UPDATE api_keys SET revoked_at = coalesce(revoked_at, $1) WHERE id = $2
     RETURNING ${API_KEY_COLUMNS}`,
    [now.toISOString(), id],
  );
  return row ? toApiKey(row) : null;
}
