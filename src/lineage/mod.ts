/**
 * Table lineage: which tables each run read and wrote (recorded on the trusted side, see
 * recorder.ts), and the views `tau lineage`, the API, heal and the dashboard read from it.
 */
export { LineageRecorder } from "./recorder.ts";
export { saveRunLineage } from "./save.ts";
export { BASED_ON, type PipelineLineage, pipelineLineage, tableLineage } from "./views.ts";
export type { TableLineage } from "./views.ts";
export { mermaid } from "./mermaid.ts";
export { qualified } from "./walk.ts";
export { statementTables } from "./sql_tables.ts";
export { MAX_TABLE_NODES, TABLE_PREFIX, withTables } from "./dag_tables.ts";
