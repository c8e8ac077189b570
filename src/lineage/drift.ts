/**
 * For a run that failed on schema drift: which tables drifted, and which other pipelines read
 * them (from the latest successful run of each pipeline), so the diagnosis can say who else the
 * change will break.
 */
import type { RunRecord, Store } from "../store/mod.ts";
import { statementTables } from "./sql_tables.ts";
import { qualified } from "./walk.ts";

export interface DriftReaders {
  /** The drifted tables found in lineage, as `connection.schema.table`. */
  tables: string[];
  /** Pipelines other than the failed one that read them, by name. */
  pipelines: string[];
}

/**
 * Without a table in the error: the tables the run recorded in its failing step (a refused
 * load's target is recorded as soon as the load begins), writes first.
 */
async function stepTables(store: Store, run: RunRecord): Promise<string[][]> {
  const step = run.error?.step ?? null;
  const own = (await store.listRunLineage(run.run_id)).filter((r) =>
    step === null || r.step === step
  );
  const writes = own.filter((r) => r.direction === "write");
  return (writes.length > 0 ? writes : own).map((r) => [r.schema_name, r.table_name]);
}

/** Most tables of a failing statement looked up. */
const MAX_TABLES = 20;

/**
 * The table the error names (`details.table`), else the tables of the failing statement
 * (`details.statement`), else those the run recorded in its failing step; matched against
 * lineage by name (and by schema when one is given; any connection). Null when none is known.
 */
export async function driftReaders(store: Store, run: RunRecord): Promise<DriftReaders | null> {
  const details = (run.error?.details ?? {}) as Record<string, unknown>;
  let names: string[][] = [];
  if (typeof details.table === "string" && details.table !== "") {
    names = [details.table.split(".")];
  } else if (typeof details.statement === "string") {
    const { reads, writes } = statementTables(details.statement);
    names = [...reads, ...writes].map((n) => n.parts);
  }
  if (names.length === 0) names = await stepTables(store, run);
  if (names.length === 0) return null;
  const tables = new Set<string>();
  const pipelines = new Set<string>();
  for (const parts of names.slice(0, MAX_TABLES)) {
    const lower = parts.map((p) => p.toLowerCase());
    const bare = lower.at(-1)!;
    const schema = lower.length > 1 ? lower.slice(0, -1).join(".") : null;
    for (const r of await store.currentLineage({ table: bare })) {
      if (schema !== null && r.schema_name !== schema) continue;
      if (schema === null && r.schema_name !== "main" && r.schema_name !== "public") continue;
      tables.add(qualified(r));
      if (r.direction === "read" && r.pipeline !== run.pipeline) pipelines.add(r.pipeline);
    }
  }
  return { tables: [...tables].sort(), pipelines: [...pipelines].sort() };
}
