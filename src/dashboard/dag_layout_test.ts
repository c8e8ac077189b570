/**
 * The graph's layout without a store: ranks run left to right, boxes never overlap, sizes come
 * from the names, edges join the boxes they name, and 200 pipelines lay out in reasonable time.
 */
import { assert, assertEquals, assertMatch } from "../../tests/helpers/assert.ts";
import { buildGraph } from "../scheduler/dag.ts";
import {
  cachedLayout,
  CHAR_WIDTH,
  type DagLayout,
  layoutDag,
  MAX_LABEL,
  NODE_HEIGHT,
  type NodeBox,
  nodeWidth,
  pathThrough,
} from "./dag_layout.ts";

const edge = (pipeline: string, upstream: string) => ({ pipeline, upstream });

/** Equal to the 0.1 unit a layout is rounded to. */
const near = (a: number, b: number) => Math.abs(a - b) < 0.11;

function boxes(layout: DagLayout): Map<string, NodeBox> {
  return new Map(layout.nodes.map((n) => [n.name, n]));
}

/**
 * Every box inside the drawing, no two boxes overlapping, and every edge running left to right
 * from its upstream's right side into its downstream's left side.
 */
function assertTidy(layout: DagLayout) {
  for (const n of layout.nodes) {
    assert(n.x >= 0 && n.y >= 0, `${n.name} starts inside the drawing`);
    assert(n.x + n.width <= layout.width, `${n.name} ends inside the drawing's width`);
    assert(n.y + n.height <= layout.height, `${n.name} ends inside the drawing's height`);
  }
  const sorted = layout.nodes.toSorted((a, b) => a.x - b.x);
  for (const [i, a] of sorted.entries()) {
    for (const b of sorted.slice(i + 1)) {
      if (b.x >= a.x + a.width) break;
      const apart = b.y >= a.y + a.height || a.y >= b.y + b.height;
      assert(apart, `${a.name} and ${b.name} overlap`);
    }
  }
  const at = boxes(layout);
  for (const e of layout.edges) {
    const from = at.get(e.from)!, to = at.get(e.to)!;
    const points = pointsOf(e.d);
    const [start, end] = [points[0]!, points.at(-1)!];
    const name = `${e.from}>${e.to}`;
    assertMatch(e.d, /^M [\d.]+ [\d.]+ .* L [\d.]+ [\d.]+$/);
    assert(near(start.x, from.x + from.width), `${name} leaves the right side`);
    assert(start.y > from.y && start.y < from.y + from.height, `${name} leaves the box`);
    assert(near(end.x, to.x), `${name} arrives on the left side`);
    assert(end.y > to.y && end.y < to.y + to.height, `${name} arrives on the box`);
    const xs = points.map((p) => p.x);
    assert(xs.every((x, i) => i === 0 || x >= xs[i - 1]!), `${name} runs left to right: ${e.d}`);
  }
}

/** The numbers in a path's data, as points. */
function pointsOf(d: string): { x: number; y: number }[] {
  const numbers = d.match(/-?[\d.]+/g)?.map(Number) ?? [];
  return numbers.flatMap((_, i) => i % 2 === 0 ? [{ x: numbers[i]!, y: numbers[i + 1]! }] : []);
}

Deno.test("dag layout: an upstream sits left of its downstream, and edges join their boxes", () => {
  const graph = buildGraph(["load", "extract", "transform", "audit"], [
    edge("transform", "extract"),
    edge("load", "transform"),
    edge("audit", "extract"),
  ]);
  const layout = layoutDag(graph);
  const at = boxes(layout);
  assertEquals([...at.keys()].sort(), ["audit", "extract", "load", "transform"]);
  const extract = at.get("extract")!, transform = at.get("transform")!, load = at.get("load")!;
  assert(extract.x + extract.width < transform.x, "extract is left of transform");
  assert(transform.x + transform.width < load.x, "transform is left of load");
  assert(extract.x + extract.width < at.get("audit")!.x, "extract is left of audit");
  assertTidy(layout);

  assertEquals(layout.edges.map((e) => `${e.from}>${e.to}`).sort(), [
    "extract>audit",
    "extract>transform",
    "transform>load",
  ]);
});

Deno.test("dag layout: an edge into a wide box below it still enters on the left side", () => {
  // dagre alone clips customers_clean>rollup on the rollup's bottom edge, not its left side.
  const rollup = "daily_revenue_by_region_and_product_category_rollup";
  const layout = layoutDag(buildGraph([], [
    edge("orders_clean", "raw_orders"),
    edge("orders_clean", "fx_rates"),
    edge("customers_clean", "raw_customers"),
    edge(rollup, "orders_clean"),
    edge(rollup, "customers_clean"),
    edge("churn_model", "customers_clean"),
    edge("churn_model", "orders_clean"),
    edge("exec_dashboard", rollup),
    edge("exec_dashboard", "churn_model"),
    edge("audit_log_export", "raw_orders"),
  ]));
  assertEquals(layout.edges.length, 10);
  assertTidy(layout);
});

Deno.test("dag layout: a box's width follows its name; a name over the limit is cut", () => {
  const longest = "p" + "x".repeat(MAX_LABEL - 1);
  const tooLong = "q" + "y".repeat(MAX_LABEL + 20);
  const layout = layoutDag(buildGraph(["a", longest, tooLong], [edge(longest, "a")]));
  const at = boxes(layout);
  assertEquals(at.get("a")!.width, nodeWidth("a"));
  assertEquals(at.get(longest)!.label, longest);
  assertEquals(at.get(longest)!.width, MAX_LABEL * CHAR_WIDTH + 24);
  assertEquals(at.get(longest)!.height, NODE_HEIGHT);
  const cut = at.get(tooLong)!;
  assertEquals(cut.label.length, MAX_LABEL);
  assert(cut.label.endsWith("…") && tooLong.startsWith(cut.label.slice(0, -1)), cut.label);
  assertEquals(cut.width, at.get(longest)!.width);
  assertTidy(layout);
});

Deno.test("dag layout: a wide fan-out is one column of boxes right of its upstream", () => {
  const downstreams = Array.from({ length: 60 }, (_, i) => `consumer_${i}`);
  const layout = layoutDag(buildGraph(["source", ...downstreams], [
    ...downstreams.map((d) => edge(d, "source")),
  ]));
  const at = boxes(layout);
  const source = at.get("source")!;
  const columns = new Set(downstreams.map((d) => at.get(d)!.x + at.get(d)!.width / 2));
  assertEquals(columns.size, 1, "every downstream is in the same rank");
  assert(downstreams.every((d) => at.get(d)!.x > source.x + source.width));
  assertEquals(layout.edges.length, 60);
  assertTidy(layout);
  // A column of boxes one above the other, so the drawing is tall, not squeezed.
  assert(layout.height >= 60 * NODE_HEIGHT, `height ${layout.height}`);
});

Deno.test("dag layout: an empty graph, a lone pipeline, and paths through bends", () => {
  assertEquals(layoutDag(buildGraph([], [])), { width: 0, height: 0, nodes: [], edges: [] });
  const lone = layoutDag(buildGraph(["solo"], []));
  assertEquals(lone.nodes.length, 1);
  assertTidy(lone);

  assertEquals(pathThrough([]), "");
  assertEquals(pathThrough([{ x: 0, y: 0 }, { x: 10, y: 5 }]), "M 0 0 L 10 5");
  assertEquals(
    pathThrough([{ x: 0, y: 0 }, { x: 10, y: 0 }, { x: 20, y: 10 }]),
    "M 0 0 L 5 0 Q 10 0 15 5 L 20 10",
  );
});

Deno.test("dag layout: cachedLayout lays a graph out once, and again when it changes", () => {
  const layoutOf = cachedLayout();
  const first = layoutOf(buildGraph(["a", "b"], [edge("b", "a")]));
  assert(layoutOf(buildGraph(["a", "b"], [edge("b", "a")])) === first, "the same graph is reused");
  const changed = layoutOf(buildGraph(["a", "b", "c"], [edge("b", "a"), edge("c", "b")]));
  assert(changed !== first, "a changed graph is laid out again");
  assertEquals(changed.nodes.length, 3);
});

Deno.test("dag layout: 200 pipelines and 300 dependencies lay out in reasonable time", () => {
  // Seeded, so every run lays out the same graph: 8 ranks of 25, edges to the next rank or two.
  let seed = 42;
  const random = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
  const name = (i: number) => `pipeline_${String(i).padStart(3, "0")}`;
  const edges = new Map<string, ReturnType<typeof edge>>();
  while (edges.size < 300) {
    const rank = Math.floor(random() * 7);
    const next = Math.min(7, rank + 1 + (random() < 0.2 ? 1 : 0));
    const up = name(rank * 25 + Math.floor(random() * 25));
    const down = name(next * 25 + Math.floor(random() * 25));
    edges.set(`${up}>${down}`, edge(down, up));
  }
  const graph = buildGraph(Array.from({ length: 200 }, (_, i) => name(i)), [...edges.values()]);
  const started = performance.now();
  const layout = layoutDag(graph);
  const ms = performance.now() - started;
  assertEquals(layout.nodes.length, 200);
  assertEquals(layout.edges.length, 300);
  assertTidy(layout);
  // Measured at 130-290 ms; the bound leaves room for a loaded CI machine.
  assert(ms < 5000, `200 pipelines took ${Math.round(ms)} ms to lay out`);
});
