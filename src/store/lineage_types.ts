/**
 * Lineage records: which tables a run read and wrote (see src/lineage/). A table is named by the
 * connection it lives on, its schema and its name, normalized as its engine resolves them.
 */

/** One table a run read or wrote, as the run recorded it. */
export interface LineageEntry {
  /** The connection (from tau.toml) the table lives on. */
  connection: string;
  /** The schema, the engine's default (`main`, `public`) when the SQL named none. */
  schema_name: string;
  table_name: string;
  direction: "read" | "write";
  /** The step that was open when the table was touched, if any. */
  step: string | null;
}

/** A stored entry with the run and pipeline it belongs to. */
export interface LineageRecord extends LineageEntry {
  run_id: string;
  pipeline: string;
}

/** Which entries {@link LineageEntry} lookups return: by bare table name or by pipeline. */
export interface LineageFilter {
  /** The table's own name (no schema or connection). */
  table?: string;
  pipeline?: string;
  /** Most rows returned. @default {1000} */
  limit?: number;
}
