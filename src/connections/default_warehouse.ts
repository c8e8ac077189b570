/**
 * The default `warehouse` connection: an embedded DuckDB database in a folder of its own under
 * TAU_HOME. Its own folder, because the DuckDB engine that opens a database file mounts that
 * file's folder — and TAU_HOME itself holds the API key and the metadata database.
 */
import { join } from "node:path";
import { exists } from "../core/fs.ts";

/** Relative to TAU_HOME. */
export const DEFAULT_WAREHOUSE_PATH = "warehouse/warehouse.duckdb";

/** Where daemons before the engine kept the default warehouse, relative to TAU_HOME. */
const LEGACY_PATH = "warehouse.duckdb";

/**
 * Creates the default warehouse's folder and moves a database left at the old place (with its
 * write-ahead log) into it, once; returns whether it moved one.
 */
export async function prepareDefaultWarehouse(home: string): Promise<boolean> {
  const target = join(home, DEFAULT_WAREHOUSE_PATH);
  await Deno.mkdir(join(target, ".."), { recursive: true, mode: 0o700 });
  const legacy = join(home, LEGACY_PATH);
  if (!(await exists(legacy)) || await exists(target)) return false;
  for (const suffix of ["", ".wal"]) {
    if (await exists(legacy + suffix)) await Deno.rename(legacy + suffix, target + suffix);
  }
  return true;
}
