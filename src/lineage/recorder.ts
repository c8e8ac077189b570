/**
 * Records, on the trusted side, which tables a run reads and writes: the daemon executes every
 * DuckDB/MotherDuck request of a run (src/connections/run_requests.ts), so it sees the target a
 * load names and the SQL each statement runs, and extracts the tables from it
 * (sql_tables.ts). Only requests that were served count (a load's target as soon as the load
 * begins, a statement's tables once it succeeded), and only on named connections (an inline
 * database lives in the run's scratch folder and is gone when it ends).
 *
 * Lineage is informational, never a permission: what a run asks is bounded here (MAX_ENTRIES
 * tables a run, names up to MAX_NAME_CHARS) before anything is stored.
 */
import type { LineageEntry } from "../store/mod.ts";
import { statementTables, type TableName } from "./sql_tables.ts";

/** Most tables recorded for one run; past it the rest are dropped (and said so in its log). */
export const MAX_ENTRIES = 500;
/** Longest connection, schema or table name recorded. */
export const MAX_NAME_CHARS = 256;

const STATEMENT_OPS = new Set(["duckdb.query", "duckdb.execute", "duckdb.cursor_open"]);
/** Tables that are Tau's own scaffolding (materialization stages, replacements) or catalogs. */
const SCAFFOLD = /(__tau_(stage|new|old)|^tau_stage_\d+$)/;
const CATALOG_SCHEMAS = new Set(["information_schema", "pg_catalog", "temp"]);

export class LineageRecorder {
  readonly #entries = new Map<string, LineageEntry>();
  /** True once a table was dropped for MAX_ENTRIES. */
  truncated = false;

  /**
   * Notes the tables of one request that was served. `payload` passed the op's schema already;
   * `step` is the step open when the request arrived.
   */
  observe(op: string, payload: Record<string, unknown>, step: string | null): void {
    const connection = payload.connection;
    if (typeof connection !== "string" || connection === "" || "inline_path" in payload) return;
    if (op === "duckdb.load_begin") {
      // The target a load names counts once the load begins, even if the engine then refuses
      // it (a schema change): the drift diagnosis finds the table the run tried to load here.
      if (typeof payload.table !== "string") return;
      const parts = payload.table.split(".");
      this.#add(connection, { parts, quoted: parts.map(() => false) }, "write", step);
      return;
    }
    if (!STATEMENT_OPS.has(op) || typeof payload.sql !== "string") return;
    const { reads, writes } = statementTables(payload.sql);
    for (const name of writes) this.#add(connection, name, "write", step);
    for (const name of reads) this.#add(connection, name, "read", step);
  }

  /** What was recorded, in the order first seen. */
  entries(): LineageEntry[] {
    return [...this.#entries.values()];
  }

  #add(connection: string, name: TableName, direction: "read" | "write", step: string | null) {
    const table = duckdbName(name);
    if (!table || connection.length > MAX_NAME_CHARS) return;
    if (CATALOG_SCHEMAS.has(table.schema) || SCAFFOLD.test(table.name)) return;
    const key = JSON.stringify([connection, table.schema, table.name, direction]);
    if (this.#entries.has(key)) return;
    if (this.#entries.size >= MAX_ENTRIES) {
      this.truncated = true;
      return;
    }
    this.#entries.set(key, {
      connection,
      schema_name: table.schema,
      table_name: table.name,
      direction,
      step: step === null ? null : step.slice(0, MAX_NAME_CHARS),
    });
  }
}

/**
 * A name as DuckDB resolves it: identifiers match case-insensitively (quoted or not), so every
 * part is lower-cased; a name without a schema is in `main`; a catalog-qualified name keeps its
 * catalog in the schema part (`db.schema`). Null when a part is empty or too long.
 */
export function duckdbName(name: TableName): { schema: string; name: string } | null {
  const parts = name.parts.map((p) => p.toLowerCase());
  if (parts.some((p) => p === "")) return null;
  const table = parts.at(-1)!;
  const schema = parts.length > 1 ? parts.slice(0, -1).join(".") : "main";
  if (table.length > MAX_NAME_CHARS || schema.length > MAX_NAME_CHARS) return null;
  return { schema, name: table };
}
