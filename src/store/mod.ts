/**
 * The metadata store: the only module the rest of Tau imports from `src/store/`. Callers get
 * a `Store` and never see which engine is behind it.
 */

import { dirname } from "node:path";
import { TauError } from "../core/errors.ts";
import { SqliteStore } from "./sqlite/sqlite_store.ts";
import type { PipelineRecord, Store } from "./types.ts";

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

/** The pipeline named `name`, or a `not_found` error that says what to do. */
export async function requirePipeline(store: Store, name: string): Promise<PipelineRecord> {
  const pipeline = await store.getPipeline(name);
  if (!pipeline) {
    throw new TauError("not_found", `No pipeline named ${name}`, {
      hint: "list deployed pipelines with tau list, or deploy one with tau deploy FILE",
    });
  }
  return pipeline;
}
