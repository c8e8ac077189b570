/**
 * The metadata store: the only module the rest of Tau imports from `src/store/`. Callers get
 * a `Store` and never see which engine is behind it.
 */

import { dirname } from "node:path";
import { SqliteStore } from "./sqlite/sqlite_store.ts";
import type { Store } from "./types.ts";

export * from "./types.ts";

export interface StoreOptions {
  /** Database file path, or ":memory:". */
  path: string;
}

/** Opens the store at `options.path` (creating its directory) and applies pending migrations. */
export async function openStore(options: StoreOptions): Promise<Store> {
  if (options.path !== ":memory:" && !options.path.startsWith("file:")) {
    await Deno.mkdir(dirname(options.path), { recursive: true });
  }
  const store = new SqliteStore(options.path);
  try {
    await store.migrate();
  } catch (err) {
    await store.close();
    throw err;
  }
  return store;
}
