/**
 * A lineage graph as Mermaid flowchart text: pipelines as boxes, tables as cylinders, an edge
 * pipeline → table for a write and table → pipeline for a read.
 */

/** One edge: a pipeline wrote a table, or a table was read by a pipeline. */
export interface LineageEdge {
  pipeline: string;
  /** The qualified table name (`connection.schema.table`). */
  table: string;
  direction: "read" | "write";
}

/** Mermaid `flowchart LR` text for `edges`, in a stable order (ids derived from names). */
export function mermaid(edges: LineageEdge[]): string {
  const ids = new Map<string, string>();
  const used = new Set<string>();
  const lines = ["flowchart LR"];
  const node = (kind: "p" | "t", name: string) => {
    const key = `${kind}:${name}`;
    let id = ids.get(key);
    if (id) return id;
    const base = `${kind}_${name.replace(/[^A-Za-z0-9_]/g, "_")}`;
    id = base;
    for (let n = 2; used.has(id); n++) id = `${base}_${n}`;
    ids.set(key, id);
    used.add(id);
    const label = name.replace(/[^A-Za-z0-9_.\- ]/g, (c) => `#${c.codePointAt(0)};`);
    lines.push(kind === "p" ? `  ${id}["${label}"]` : `  ${id}[("${label}")]`);
    return id;
  };
  const sorted = [...edges].sort((a, b) =>
    `${a.pipeline}\0${a.table}\0${a.direction}`.localeCompare(
      `${b.pipeline}\0${b.table}\0${b.direction}`,
    )
  );
  const arrows: string[] = [];
  const seen = new Set<string>();
  for (const e of sorted) {
    const p = node("p", e.pipeline);
    const t = node("t", e.table);
    const arrow = e.direction === "write" ? `  ${p} --> ${t}` : `  ${t} --> ${p}`;
    if (!seen.has(arrow)) arrows.push(arrow);
    seen.add(arrow);
  }
  return [...lines, ...arrows].join("\n");
}
