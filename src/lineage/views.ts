/**
 * What `tau lineage` prints (and `GET /lineage` returns): the tables and pipelines upstream and
 * downstream of a table or a pipeline, from the latest successful run of each pipeline.
 */
import { TauError } from "../core/errors.ts";
import type { Store } from "../store/mod.ts";
import { mermaid } from "./mermaid.ts";
import { qualified, walk } from "./walk.ts";

/** What every view says it is computed from. */
export const BASED_ON = "the latest successful run of each pipeline";
const MAX_INPUT_CHARS = 3 * 256 + 2;

export interface TableLineage {
  /** The table, qualified as `connection.schema.table`. */
  table: string;
  based_on: string;
  upstream: { tables: string[]; pipelines: string[] };
  downstream: { tables: string[]; pipelines: string[] };
  /** The run each pipeline named here is read from. */
  runs: Record<string, string>;
  /** True when the graph was larger than a view holds (see walk.ts). */
  truncated: boolean;
  mermaid: string;
}

export interface PipelineLineage {
  pipeline: string;
  based_on: string;
  /** The run read (the pipeline's latest successful one); null when it has none. */
  run_id: string | null;
  reads: string[];
  writes: string[];
  upstream_pipelines: string[];
  downstream_pipelines: string[];
  truncated: boolean;
  mermaid: string;
}

/**
 * The lineage of a table named as `table`, `schema.table` or `connection.schema.table`
 * (case-insensitive: names are stored as DuckDB resolves them, lower-cased).
 */
export async function tableLineage(store: Store, input: string): Promise<TableLineage> {
  const table = await resolveTable(store, input);
  const up = await walk(store, [table], "upstream");
  const down = await walk(store, [table], "downstream");
  return {
    table,
    based_on: BASED_ON,
    upstream: { tables: up.tables, pipelines: up.pipelines },
    downstream: { tables: down.tables, pipelines: down.pipelines },
    runs: { ...up.runs, ...down.runs },
    truncated: up.truncated || down.truncated,
    mermaid: mermaid([...up.edges, ...down.edges]),
  };
}

export async function pipelineLineage(store: Store, name: string): Promise<PipelineLineage> {
  if (!(await store.getPipeline(name))) {
    throw new TauError("not_found", `No pipeline ${name}`, {
      hint: "list deployed pipelines with tau list",
    });
  }
  const own = await store.currentLineage({ pipeline: name });
  const names = (direction: "read" | "write") =>
    [...new Set(own.filter((r) => r.direction === direction).map(qualified))].sort();
  const writes = names("write");
  // A table it writes and reads (an incremental target) is its own output, not an input.
  const reads = names("read").filter((t) => !writes.includes(t));
  const up = await walk(store, reads, "upstream", name);
  const down = await walk(store, writes, "downstream", name);
  const edges = [
    ...reads.map((table) => ({ pipeline: name, table, direction: "read" as const })),
    ...writes.map((table) => ({ pipeline: name, table, direction: "write" as const })),
    ...up.edges,
    ...down.edges,
  ];
  return {
    pipeline: name,
    based_on: BASED_ON,
    run_id: own[0]?.run_id ?? null,
    reads,
    writes,
    upstream_pipelines: up.pipelines,
    downstream_pipelines: down.pipelines,
    truncated: up.truncated || down.truncated,
    mermaid: mermaid(edges),
  };
}

/** The one recorded table `input` names; `not_found` or `conflict` (ambiguous) otherwise. */
async function resolveTable(store: Store, input: string): Promise<string> {
  const parts = input.trim().toLowerCase().split(".");
  if (input.length > MAX_INPUT_CHARS || parts.length > 4 || parts.some((p) => p === "")) {
    throw new TauError("invalid_params", `Cannot read ${JSON.stringify(input)} as a table name`, {
      hint:
        "name it as TABLE, SCHEMA.TABLE or CONNECTION.SCHEMA.TABLE, e.g. tau lineage raw_orders",
    });
  }
  const bare = parts.at(-1)!;
  const prefix = parts.slice(0, -1).join(".");
  const found = new Set(
    (await store.currentLineage({ table: bare })).map(qualified).filter((q) =>
      prefix === "" || q === `${prefix}.${bare}` || q.endsWith(`.${prefix}.${bare}`)
    ),
  );
  if (found.size === 1) return [...found][0]!;
  if (found.size === 0) {
    throw new TauError("not_found", `No pipeline's latest successful run touched ${input}`, {
      hint:
        "lineage is recorded by runs on DuckDB/MotherDuck connections; run the pipeline that loads it (tau run NAME), then tau lineage --pipeline NAME lists the tables it touched",
    });
  }
  throw new TauError("conflict", `${input} names ${found.size} tables`, {
    hint: `name one of them in full: ${[...found].sort().join(", ")}`,
    details: { tables: [...found].sort() },
  });
}
