/**
 * Walks the lineage graph of each pipeline's latest successful run, upstream (who wrote these
 * tables, and what did they read) or downstream (who read them, and what did they write), one
 * store lookup per table or pipeline, bounded in depth and size.
 */
import type { LineageRecord, Store } from "../store/mod.ts";
import type { LineageEdge } from "./mermaid.ts";

/** Hops followed from the start (table → pipeline → table counts two). */
export const MAX_DEPTH = 20;
/** Tables plus pipelines visited at most; a larger graph is cut (`truncated`). */
export const MAX_NODES = 200;

/** `connection.schema.table` of a record. */
export const qualified = (r: { connection: string; schema_name: string; table_name: string }) =>
  `${r.connection}.${r.schema_name}.${r.table_name}`;

export interface Walk {
  tables: string[];
  pipelines: string[];
  edges: LineageEdge[];
  /** The run each pipeline's lineage comes from. */
  runs: Record<string, string>;
  truncated: boolean;
}

/**
 * Everything upstream or downstream of `tables`. A pipeline's own tables are never its own
 * upstream or downstream (an incremental materialization reads the table it writes).
 */
export async function walk(
  store: Store,
  tables: string[],
  direction: "upstream" | "downstream",
  skipPipeline: string | null = null,
): Promise<Walk> {
  // Upstream: a table's writers, then what they read; downstream: its readers, then their writes.
  const toPipeline = direction === "upstream" ? "write" : "read";
  const toTable = direction === "upstream" ? "read" : "write";
  const out: Walk = { tables: [], pipelines: [], edges: [], runs: {}, truncated: false };
  const seenTables = new Set(tables);
  const seenPipelines = new Set<string>(skipPipeline ? [skipPipeline] : []);
  let frontier = [...tables];
  for (let depth = 0; frontier.length > 0 && depth < MAX_DEPTH; depth += 2) {
    const next: string[] = [];
    for (const table of frontier) {
      const records = await byTable(store, table);
      const writers = new Set(
        records.filter((r) => r.direction === "write").map((r) => r.pipeline),
      );
      for (const r of records) {
        if (r.direction !== toPipeline || r.pipeline === skipPipeline) continue;
        // A pipeline reading the table it writes (an incremental target) is not downstream of it.
        if (direction === "downstream" && writers.has(r.pipeline)) continue;
        out.edges.push({ pipeline: r.pipeline, table, direction: r.direction });
        if (seenPipelines.has(r.pipeline)) continue;
        if (seenTables.size + seenPipelines.size >= MAX_NODES) {
          out.truncated = true;
          continue;
        }
        seenPipelines.add(r.pipeline);
        out.pipelines.push(r.pipeline);
        out.runs[r.pipeline] = r.run_id;
        const own = await store.currentLineage({ pipeline: r.pipeline });
        const writes = new Set(own.filter((o) => o.direction === "write").map(qualified));
        for (const o of own) {
          const name = qualified(o);
          // A table the pipeline both reads and writes is its own, not a hop.
          if (o.direction !== toTable || (toTable === "read" && writes.has(name))) continue;
          out.edges.push({ pipeline: r.pipeline, table: name, direction: o.direction });
          if (seenTables.has(name)) continue;
          seenTables.add(name);
          out.tables.push(name);
          next.push(name);
        }
      }
    }
    frontier = next;
  }
  if (frontier.length > 0) out.truncated = true;
  out.tables.sort();
  out.pipelines.sort();
  return out;
}

/** The current lineage records of one qualified table. */
async function byTable(store: Store, table: string): Promise<LineageRecord[]> {
  const bare = table.slice(table.lastIndexOf(".") + 1);
  return (await store.currentLineage({ table: bare })).filter((r) => qualified(r) === table);
}
