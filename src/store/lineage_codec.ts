/** The lineage table's SQL both engines share (src/store/sqlite/lineage.ts, postgres/lineage.ts). */

export const LINEAGE_COLUMNS =
  "run_id, pipeline, connection, schema_name, table_name, direction, step";
export const LINEAGE_ORDER = "ORDER BY pipeline, connection, schema_name, table_name, direction";
/** The run an entry belongs to is its pipeline's latest successful run. */
export const CURRENT_LINEAGE = `run_id = (SELECT r.run_id FROM runs r
  WHERE r.pipeline = lineage.pipeline AND r.status = 'success'
  ORDER BY r.created_at DESC, r.run_id DESC LIMIT 1)`;
