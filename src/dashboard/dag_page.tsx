/**
 * `/dag`: the pipeline graph as an SVG laid out on the server (dag_layout.ts), each pipeline a
 * link to its page, coloured by its last run's status. The graph is the API's `GET /dag`; names
 * are escaped by the renderer and no style is inline (colours come from classes, CSS below).
 */
import { Hono } from "hono";
import { buildGraph } from "../scheduler/dag.ts";
import type { RunStatus } from "../store/mod.ts";
import { type DashboardDeps, type Env, page, sessionOf } from "./context.ts";
import { cachedLayout, type DagLayout } from "./dag_layout.ts";
import { Layout } from "./layout.tsx";
import type { Session } from "./sessions.ts";
import { MAX_TABLE_NODES, TABLE_PREFIX, withTables } from "../lineage/mod.ts";

/** A node's class and `data-status`: its last run's status, or `none` when it never ran. */
export type NodeStatus = RunStatus | "none";

/** The legend, in order, with each status's fill and outline. */
const COLOURS: ReadonlyArray<readonly [NodeStatus, string, string, string]> = [
  ["success", "succeeded", "#d1fadf", "#12b76a"],
  ["failed", "failed", "#fee4e2", "#f04438"],
  ["timed_out", "timed out", "#fde2d3", "#e04f16"],
  ["running", "running", "#d1e9ff", "#2e90fa"],
  ["queued", "queued", "#eff8ff", "#84caff"],
  ["cancelled", "cancelled", "#f2f4f7", "#667085"],
  ["skipped", "skipped", "#f9fafb", "#98a2b3"],
  ["none", "never run", "#ffffff", "#c2c8d0"],
];

const LABELS = new Map<string, string>(COLOURS.map(([status, label]) => [status, label]));

export const DAG_CSS = `
.dag-scroll { overflow: auto; max-height: 80vh; background: #fff; border: 1px solid #e3e6ea;
  border-radius: 0.5rem; }
svg.dag { display: block; }
svg.dag .node rect { stroke-width: 1.5; }
svg.dag .node text { font: 13px ui-monospace, SFMono-Regular, Menlo, Consolas, monospace;
  fill: #1d2430; text-anchor: middle; dominant-baseline: central; }
svg.dag a:hover rect, svg.dag a:focus-visible rect { stroke-width: 3; }
svg.dag a:focus { outline: none; }
svg.dag .edge { fill: none; stroke: #98a2b3; stroke-width: 1.25; }
svg.dag .arrowhead { fill: #98a2b3; }
svg.dag .node.status-skipped rect { stroke-dasharray: 4 3; }
svg.dag .node.table rect { fill: #f4f3ff; stroke: #7a5af8; }
.dag-legend { display: flex; flex-wrap: wrap; gap: 0.4rem 1rem; list-style: none; padding: 0;
  margin: 0 0 0.8rem; color: #5b6573; font-size: 0.85rem; }
.dag-legend li::before { content: ""; display: inline-block; width: 0.8rem; height: 0.8rem;
  margin-right: 0.35rem; vertical-align: -0.1rem; border: 1.5px solid; border-radius: 0.2rem; }
${
  COLOURS.map(([status, , fill, stroke]) =>
    `svg.dag .node.status-${status} rect { fill: ${fill}; stroke: ${stroke}; }\n` +
    `.dag-legend .status-${status}::before { background: ${fill}; border-color: ${stroke}; }`
  ).join("\n")
}
`;

export function dagPages(deps: DashboardDeps): Hono<Env> {
  const { store } = deps;
  const layoutOf = cachedLayout();
  const app = new Hono<Env>();

  app.get("/dag", async (c) => {
    const names = (await store.listPipelines()).map((p) => p.name);
    const graph = buildGraph(names, await store.listDependencies());
    // One indexed, limited read per pipeline, as the overview does.
    const statuses = new Map<string, NodeStatus>(
      await Promise.all(graph.nodes.map(async (name) => {
        const [last] = await store.listRuns(name, { limit: 1 });
        return [name, last?.status ?? "none"] as const;
      })),
    );
    // ?tables=1: the tables each pipeline's latest successful run read and wrote, as nodes.
    const tables = c.req.query("tables") === "1" ? await withTables(store, graph) : null;
    const drawn = tables?.graph ?? graph;
    const layout = drawn.nodes.length > 0 ? layoutOf(drawn) : null;
    return page(
      c,
      <DagPage
        session={sessionOf(c)}
        layout={layout}
        statuses={statuses}
        tables={tables ? { hidden: tables.hidden } : null}
      />,
    );
  });

  return app;
}

function DagPage(
  props: {
    session: Session;
    layout: DagLayout | null;
    statuses: Map<string, NodeStatus>;
    tables: { hidden: number } | null;
  },
) {
  const { layout, tables } = props;
  return (
    <Layout title="DAG" session={props.session}>
      <h1>Pipeline graph</h1>
      <p>
        {tables
          ? <a href="/dag">Hide tables</a>
          : <a href="/dag?tables=1">Show the tables pipelines read and write</a>}
      </p>
      {tables && tables.hidden > 0 && (
        <p class="empty">
          {`${tables.hidden} more tables are not drawn (at most ${MAX_TABLE_NODES}); `}
          <code>tau lineage TABLE</code> shows any one of them.
        </p>
      )}
      {layout === null && (
        <p class="empty">
          No pipeline is deployed yet:{" "}
          <code>tau deploy pipeline.ts</code>. Then declare what runs after what with{" "}
          <code>tau depends NAME --on UPSTREAM</code>.
        </p>
      )}
      {layout !== null && layout.edges.length === 0 && (
        <p class="empty">
          No pipeline depends on another yet. Declare a dependency with{" "}
          <code>tau depends NAME --on UPSTREAM</code>, or with <code>dependsOn</code>{" "}
          in the pipeline's config; NAME then runs each time its upstreams all succeed.
        </p>
      )}
      {layout !== null && <Legend />}
      {layout !== null && (
        <div class="dag-scroll">
          <DagSvg layout={layout} statuses={props.statuses} />
        </div>
      )}
    </Layout>
  );
}

function Legend() {
  return (
    <ul class="dag-legend" aria-label="Status colours">
      {COLOURS.map(([status, label]) => <li class={`status-${status}`}>{label}</li>)}
    </ul>
  );
}

/** Drawn at its natural size inside a scrolling box, so a wide fan-out stays readable. */
function DagSvg(props: { layout: DagLayout; statuses: Map<string, NodeStatus> }) {
  const { width, height, nodes, edges } = props.layout;
  const count = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;
  const label = `Pipeline graph: ${count(nodes.length, "pipeline", "pipelines")}, ` +
    `${count(edges.length, "dependency", "dependencies")}`;
  return (
    <svg
      class="dag"
      role="img"
      aria-label={label}
      xmlns="http://www.w3.org/2000/svg"
      viewBox={`0 0 ${width} ${height}`}
      width={width}
      height={height}
    >
      <defs>
        <marker
          id="dag-arrow"
          viewBox="0 0 10 10"
          refX="9"
          refY="5"
          markerWidth="7"
          markerHeight="7"
          orient="auto"
        >
          <path class="arrowhead" d="M 0 0 L 10 5 L 0 10 z" />
        </marker>
      </defs>
      <g class="edges">
        {edges.map((edge) => (
          <path
            class="edge"
            d={edge.d}
            marker-end="url(#dag-arrow)"
            data-from={edge.from}
            data-to={edge.to}
          />
        ))}
      </g>
      <g class="nodes">
        {nodes.map((node) => {
          if (node.name.startsWith(TABLE_PREFIX)) {
            const table = node.name.slice(TABLE_PREFIX.length);
            return (
              <g class="node table" data-table={table}>
                <title>{`${table} — table`}</title>
                <rect x={node.x} y={node.y} width={node.width} height={node.height} rx="14" />
                <text x={node.x + node.width / 2} y={node.y + node.height / 2}>
                  {node.label.slice(TABLE_PREFIX.length)}
                </text>
              </g>
            );
          }
          const status = props.statuses.get(node.name) ?? "none";
          return (
            <a href={`/pipelines/${encodeURIComponent(node.name)}`}>
              <g class={`node status-${status}`} data-pipeline={node.name} data-status={status}>
                <title>{`${node.name} — ${LABELS.get(status) ?? status}`}</title>
                <rect x={node.x} y={node.y} width={node.width} height={node.height} rx="5" />
                <text x={node.x + node.width / 2} y={node.y + node.height / 2}>{node.label}</text>
              </g>
            </a>
          );
        })}
      </g>
    </svg>
  );
}
