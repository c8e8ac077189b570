/**
 * The dashboard's DAG with tables (`/dag?tables=1`): the pipeline graph plus a node per table
 * each pipeline's latest successful run wrote or read, with an edge pipeline → table for a write
 * and table → pipeline for a read. Bounded: at most MAX_TABLE_NODES tables are drawn.
 */
import type { Graph } from "../scheduler/dag.ts";
import type { Store } from "../store/mod.ts";
import { qualified } from "./walk.ts";

/** What a table node's name starts with (pipeline names cannot contain `:`). */
export const TABLE_PREFIX = "table:";
/** Most table nodes drawn; the rest are counted in `hidden`. */
export const MAX_TABLE_NODES = 100;
/** Most lineage records read for the page. */
const MAX_RECORDS = 5_000;

export interface GraphWithTables {
  graph: Graph;
  /** Tables left out past {@link MAX_TABLE_NODES}. */
  hidden: number;
}

/** `graph` with the tables of its pipelines' current lineage added as nodes and edges. */
export async function withTables(store: Store, graph: Graph): Promise<GraphWithTables> {
  const pipelines = new Set(graph.nodes);
  const records = (await store.currentLineage({ limit: MAX_RECORDS }))
    .filter((r) => pipelines.has(r.pipeline));
  const tables = [...new Set(records.map(qualified))].sort();
  const shown = new Set(tables.slice(0, MAX_TABLE_NODES));
  const nodes = [...graph.nodes, ...[...shown].map((t) => TABLE_PREFIX + t)].sort();
  const upstream = new Map(nodes.map((n) => [n, [...(graph.upstream.get(n) ?? [])]]));
  const downstream = new Map(nodes.map((n) => [n, [...(graph.downstream.get(n) ?? [])]]));
  const edge = (from: string, to: string) => {
    if (upstream.get(to)!.includes(from)) return;
    upstream.get(to)!.push(from);
    downstream.get(from)!.push(to);
  };
  const writes = new Set(
    records.filter((r) => r.direction === "write").map((r) => `${r.pipeline}\0${qualified(r)}`),
  );
  for (const r of records) {
    const table = qualified(r);
    if (!shown.has(table)) continue;
    if (r.direction === "write") edge(r.pipeline, TABLE_PREFIX + table);
    // A pipeline reading what it writes (an incremental target) would draw a cycle.
    else if (!writes.has(`${r.pipeline}\0${table}`)) edge(TABLE_PREFIX + table, r.pipeline);
  }
  for (const list of [...upstream.values(), ...downstream.values()]) list.sort();
  return { graph: { nodes, upstream, downstream }, hidden: tables.length - shown.size };
}
