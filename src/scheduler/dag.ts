/**
 * The pipeline graph: edges run from an upstream to the pipeline that depends on it. Pure
 * functions over the edge list, shared by deploy-time validation, `tau dag`, `tau depends` and
 * the cascade that triggers downstream runs.
 */
import { TauError } from "../core/errors.ts";
import type { DependencyEdge } from "../store/mod.ts";

export interface Graph {
  nodes: string[];
  upstream: Map<string, string[]>;
  downstream: Map<string, string[]>;
}

export function buildGraph(nodes: Iterable<string>, edges: DependencyEdge[]): Graph {
  const all = [...new Set([...nodes, ...edges.flatMap((e) => [e.pipeline, e.upstream])])].sort();
  const upstream = new Map(all.map((n) => [n, [] as string[]]));
  const downstream = new Map(all.map((n) => [n, [] as string[]]));
  for (const { pipeline, upstream: up } of edges) {
    upstream.get(pipeline)?.push(up);
    downstream.get(up)?.push(pipeline);
  }
  for (const list of [...upstream.values(), ...downstream.values()]) list.sort();
  return { nodes: all, upstream, downstream };
}

/** Every node reachable by following `direction` from `start` (not including `start`). */
export function reachable(graph: Graph, start: string, direction: "upstream" | "downstream") {
  const next = graph[direction];
  const seen = new Set<string>();
  const stack = [...(next.get(start) ?? [])];
  while (stack.length > 0) {
    const node = stack.pop() as string;
    if (seen.has(node)) continue;
    seen.add(node);
    stack.push(...(next.get(node) ?? []));
  }
  return [...seen].sort();
}

/** A cycle as a path that starts and ends on the same pipeline, or null. */
export function findCycle(graph: Graph): string[] | null {
  const state = new Map<string, "open" | "done">();
  const path: string[] = [];
  const visit = (node: string): string[] | null => {
    if (state.get(node) === "done") return null;
    if (state.get(node) === "open") return [...path.slice(path.indexOf(node)), node];
    state.set(node, "open");
    path.push(node);
    for (const next of graph.downstream.get(node) ?? []) {
      const cycle = visit(next);
      if (cycle) return cycle;
    }
    path.pop();
    state.set(node, "done");
    return null;
  };
  for (const node of graph.nodes) {
    const cycle = visit(node);
    if (cycle) return cycle;
  }
  return null;
}

/** Topological levels: level 0 has no upstream; each node sits one below its deepest upstream. */
export function levels(graph: Graph): string[][] {
  const depth = new Map<string, number>();
  const depthOf = (node: string): number => {
    const known = depth.get(node);
    if (known !== undefined) return known;
    const ups = graph.upstream.get(node) ?? [];
    const d = ups.length === 0 ? 0 : 1 + Math.max(...ups.map(depthOf));
    depth.set(node, d);
    return d;
  };
  const out: string[][] = [];
  for (const node of graph.nodes) (out[depthOf(node)] ??= []).push(node);
  return out.map((level) => level.sort());
}

/** A Mermaid flowchart of the graph, for humans. */
export function mermaid(graph: Graph): string {
  const id = (name: string) => name.replace(/[^A-Za-z0-9_]/g, "_");
  const lines = ["graph TD"];
  for (const node of graph.nodes) lines.push(`  ${id(node)}["${node}"]`);
  for (const [node, ups] of graph.upstream) {
    for (const up of ups) lines.push(`  ${id(up)} --> ${id(node)}`);
  }
  return lines.join("\n");
}

/**
 * Checks that `pipeline` may depend on `upstreams` given the deployed pipelines and edges:
 * every upstream exists and no cycle results. Throws with the missing names or the cycle path.
 */
export function checkDependencies(
  pipeline: string,
  upstreams: string[],
  deployed: Iterable<string>,
  edges: DependencyEdge[],
): void {
  const known = new Set(deployed);
  known.add(pipeline);
  const unknown = upstreams.filter((u) => !known.has(u));
  if (unknown.length > 0) {
    throw new TauError(
      "unknown_dependency",
      `${pipeline} depends on ${unknown.join(", ")}, which ${
        unknown.length === 1 ? "is" : "are"
      } not deployed`,
      { hint: "deploy the upstream pipelines first, or fix dependsOn", details: { unknown } },
    );
  }
  const next = edges.filter((e) => e.pipeline !== pipeline)
    .concat(upstreams.map((upstream) => ({ pipeline, upstream })));
  const cycle = findCycle(buildGraph(known, next));
  if (cycle) {
    throw new TauError(
      "dependency_cycle",
      `Dependencies would form a cycle: ${cycle.join(" → ")}`,
      {
        hint: "remove one of these dependencies",
        details: { cycle },
      },
    );
  }
}
