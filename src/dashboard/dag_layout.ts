/**
 * The pipeline graph laid out for the dashboard, left to right: an upstream sits left of the
 * pipelines that depend on it. Pure — a {@link Graph} in, boxes and edge paths in SVG user units
 * out — so it is tested without a store. dagre places the nodes; a node's size comes from its
 * name alone, so the same graph always lays out the same way, whatever its runs' statuses.
 */
import dagre from "@dagrejs/dagre";
import type { Graph } from "../scheduler/dag.ts";

/** A node's height; its width follows its name. */
export const NODE_HEIGHT = 32;
/** One glyph of a node's label: 13px monospace is 0.6em (7.8px) a glyph, rounded up. */
export const CHAR_WIDTH = 8;
const PADDING_X = 12;
const MIN_WIDTH = 64;
/** The longest pipeline name (src/metadata/schema.ts); a longer stored name is cut in the box. */
export const MAX_LABEL = 63;

/** A pipeline's box; `x` and `y` are its top-left corner. */
export interface NodeBox {
  name: string;
  /** The name, cut to {@link MAX_LABEL} characters. */
  label: string;
  x: number;
  y: number;
  width: number;
  height: number;
}

/** A dependency, drawn from the upstream's box to the downstream's. */
export interface EdgePath {
  from: string;
  to: string;
  /** SVG path data. */
  d: string;
}

export interface DagLayout {
  width: number;
  height: number;
  nodes: NodeBox[];
  edges: EdgePath[];
}

interface Point {
  x: number;
  y: number;
}

const round = (n: number) => Math.round(n * 10) / 10;
const mid = (a: Point, b: Point): Point => ({ x: (a.x + b.x) / 2, y: (a.y + b.y) / 2 });
const at = (p: Point) => `${round(p.x)} ${round(p.y)}`;

function labelOf(name: string): string {
  return name.length > MAX_LABEL ? `${name.slice(0, MAX_LABEL - 1)}…` : name;
}

/** A node's width for its label. */
export function nodeWidth(label: string): number {
  return Math.max(MIN_WIDTH, label.length * CHAR_WIDTH + 2 * PADDING_X);
}

/**
 * dagre's bend points as one smooth path: straight to the first midpoint, a quadratic curve
 * round each bend, straight into the last point (where the arrowhead sits).
 */
export function pathThrough(points: Point[]): string {
  const [first, ...rest] = points;
  const last = rest.pop();
  if (!first || !last) return "";
  const parts = [`M ${at(first)}`];
  let previous = first;
  for (const bend of rest) {
    parts.push(`L ${at(mid(previous, bend))}`, `Q ${at(bend)}`);
    previous = bend;
  }
  parts.push(rest.length > 0 ? `${at(mid(previous, last))} L ${at(last)}` : `L ${at(last)}`);
  return parts.join(" ");
}

/**
 * dagre clips an edge where it meets a box on the way to its centre, which for a wide box can
 * be its top or bottom; left to right reads better when every edge leaves its upstream's right
 * side and enters its downstream's left side, so the two ends are moved there.
 */
function onSides(points: Point[], from?: NodeBox, to?: NodeBox): Point[] {
  const first = points[0], last = points.at(-1);
  if (!from || !to || !first || !last) return points;
  const inside = (y: number, box: NodeBox) =>
    Math.min(Math.max(y, box.y + 6), box.y + box.height - 6);
  return [
    { x: from.x + from.width, y: inside(first.y, from) },
    ...points.slice(1, -1),
    { x: to.x, y: inside(last.y, to) },
  ];
}

/** Lays `graph` out with dagre: nodes in ranks left to right, edges routed between them. */
export function layoutDag(graph: Graph): DagLayout {
  if (graph.nodes.length === 0) return { width: 0, height: 0, nodes: [], edges: [] };
  const g = new dagre.graphlib.Graph();
  // nodesep is small so a wide fan-out stays a compact column of boxes, one per line.
  g.setGraph({ rankdir: "LR", nodesep: 10, ranksep: 64, edgesep: 8, marginx: 8, marginy: 8 });
  g.setDefaultEdgeLabel(() => ({}));
  for (const name of graph.nodes) {
    g.setNode(name, { width: nodeWidth(labelOf(name)), height: NODE_HEIGHT });
  }
  const pairs = [...graph.upstream].flatMap(([to, ups]) => ups.map((from) => ({ from, to })));
  for (const { from, to } of pairs) g.setEdge(from, to);
  dagre.layout(g);

  const nodes = graph.nodes.map((name): NodeBox => {
    const n = g.node(name);
    const { width, height } = n;
    return {
      name,
      label: labelOf(name),
      x: round((n.x ?? 0) - width / 2),
      y: round((n.y ?? 0) - height / 2),
      width,
      height,
    };
  });
  const at = new Map(nodes.map((n) => [n.name, n]));
  const edges = pairs.map(({ from, to }): EdgePath => ({
    from,
    to,
    d: pathThrough(onSides(g.edge({ v: from, w: to })?.points ?? [], at.get(from), at.get(to))),
  }));
  const size = g.graph();
  return {
    width: Math.ceil(size.width ?? 0),
    height: Math.ceil(size.height ?? 0),
    nodes,
    edges,
  };
}

/**
 * {@link layoutDag} remembering its last graph: the structure rarely changes between page
 * loads while statuses do, and a 200-pipeline layout costs a few hundred milliseconds.
 */
export function cachedLayout(): (graph: Graph) => DagLayout {
  let last: { key: string; layout: DagLayout } | null = null;
  return function layoutOf(graph) {
    const key = JSON.stringify([graph.nodes, [...graph.upstream]]);
    if (last?.key !== key) last = { key, layout: layoutDag(graph) };
    return last.layout;
  };
}
