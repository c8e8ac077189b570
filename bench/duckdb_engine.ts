/**
 * DuckDB as a run reaches it, through runRequests() alone (no daemon, no run process): the time
 * of a run's first request (engine start and open of a database file), the median round trip of
 * `SELECT 1`, and a load of narrow rows (id int, name text, amount double) sent as the connector
 * sends them — load_begin, ~256 KiB JSON batches with four in flight, load_commit. Also the
 * engine's resident memory after its first request, and how much this process (the daemon's
 * stand-in) grows while a hash aggregate of four million groups runs. Prints one JSON document.
 *
 *   deno run -A bench/duckdb_engine.ts [--rows N] [--round-trips N] [--first N] [--boundary auto|off]
 *
 * The first handler of the process is reported apart (`cold_first_ms`): it includes preparing
 * the engine installation once per daemon process. `first_request_ms` is the median over
 * `--first` fresh handlers after it, which is what every run pays.
 */
import { parseArgs } from "node:util";
import { inferColumns } from "../sdk/connectors/_columns.ts";
import { LoadStager } from "../sdk/connectors/_duckdb_load.ts";
import { parseConnections } from "../src/connections/registry.ts";
import { type RequestHandler, runRequests } from "../src/connections/run_requests.ts";
import { detectOsBoundary } from "../src/sandbox/os_boundary.ts";

const args = parseArgs({
  args: Deno.args,
  options: {
    rows: { type: "string", default: "1000000" },
    "round-trips": { type: "string", default: "500" },
    first: { type: "string", default: "5" },
    boundary: { type: "string", default: "auto" },
  },
});
const ROWS = Number(args.values.rows);
const ROUND_TRIPS = Number(args.values["round-trips"]);
const FIRST = Number(args.values.first);
const LOAD_BATCH_BYTES = 256 * 1024;
const IN_FLIGHT = 2;
const LIMITS = { memory_mb: 1024, cpu_s: 3600, threads: 64, timeout_ms: 3_600_000 };

const boundary = await detectOsBoundary(args.values.boundary === "off" ? "off" : "auto");
const home = await Deno.makeTempDir({ prefix: "tau_bench_duck_" });
const registry = parseConnections({ bench: { type: "duckdb", path: "bench.duckdb" } });

function handler(): { requests: RequestHandler; scratch: string } {
  const scratch = Deno.makeTempDirSync({ dir: home, prefix: "scratch_" });
  const requests = runRequests({
    declared: ["bench"],
    registry,
    home,
    scratchDir: scratch,
    limits: LIMITS,
    boundary,
  });
  return { requests, scratch };
}

const call = async (requests: RequestHandler, op: string, payload: Record<string, unknown>) =>
  JSON.parse(await requests.handle(op, { connection: "bench", ...payload }));

/** Resident memory of a process and its descendants, in MiB. */
function treeRssMb(root: number): number {
  const children = new Map<number, number[]>();
  for (const entry of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    try {
      const stat = Deno.readTextFileSync(`/proc/${entry.name}/stat`);
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      children.set(ppid, [...children.get(ppid) ?? [], Number(entry.name)]);
    } catch { /* gone */ }
  }
  let kb = 0;
  for (const pids = [root]; pids.length > 0;) {
    const pid = pids.pop()!;
    pids.push(...children.get(pid) ?? []);
    const status = Deno.readTextFileSync(`/proc/${pid}/status`);
    kb += Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  }
  return Math.round(kb / 1024);
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const round = (x: number) => Math.round(x * 100) / 100;

/** The time from a new handler to its first reply, and the engine's memory right after. */
async function firstRequest() {
  const started = performance.now();
  const { requests } = handler();
  await call(requests, "duckdb.query", { sql: "SELECT 1 AS x" });
  const ms = performance.now() - started;
  const engineRss = requests.enginePids().map(treeRssMb).reduce((a, b) => a + b, 0);
  await requests.close();
  return { ms, engineRss };
}

/** Rows as the connector sends them: JSON batches of about LOAD_BATCH_BYTES. */
function* loadBatches(rows: number): Iterable<Record<string, unknown>[]> {
  let batch: Record<string, unknown>[] = [];
  let bytes = 0;
  for (let i = 0; i < rows; i++) {
    const row = { id: i + 1, name: `name_${i}`, amount: ((i * 7919) % 1_000_000 + 0.5) / 100 };
    const size = JSON.stringify(row).length;
    if (batch.length > 0 && bytes + size > LOAD_BATCH_BYTES) {
      yield batch;
      batch = [];
      bytes = 0;
    }
    batch.push(row);
    bytes += size;
  }
  if (batch.length > 0) yield batch;
}

const cold = await firstRequest();
const firsts: number[] = [];
const engineRss: number[] = [];
for (let i = 0; i < FIRST; i++) {
  const { ms, engineRss: rss } = await firstRequest();
  firsts.push(ms);
  engineRss.push(rss);
}

const { requests, scratch: loadScratch } = handler();
await call(requests, "duckdb.query", { sql: "SELECT 1 AS x" });
const trips: number[] = [];
for (let i = 0; i < ROUND_TRIPS; i++) {
  const started = performance.now();
  await call(requests, "duckdb.query", { sql: "SELECT 1 AS x" });
  trips.push(performance.now() - started);
}

/** Runs a query while sampling this process's resident memory: its time and peak growth. */
async function withRss(sql: string) {
  const before = Deno.memoryUsage().rss;
  let peak = before;
  const sampler = setInterval(() => peak = Math.max(peak, Deno.memoryUsage().rss), 20);
  const started = performance.now();
  await call(requests, "duckdb.query", { sql });
  const ms = performance.now() - started;
  clearInterval(sampler);
  return { ms, growthMb: Math.round((peak - before) / 1024 / 1024) };
}
const aggregate = await withRss(
  "SELECT count(*) AS groups FROM (SELECT range % 4000000 AS k, max(repeat('x', 40) || range::VARCHAR) AS s FROM range(8000000) GROUP BY k)",
);

const batches = [...loadBatches(ROWS)];
const loadStarted = performance.now();
const { load } = await call(requests, "duckdb.load_begin", {
  table: "bench_rows",
  mode: "replace",
  columns: inferColumns(batches[0]!),
});
// As the connector does it: each batch staged as a file in the run's scratch, then inserted.
const stager = new LoadStager(load, loadScratch);
const inFlight: Promise<unknown>[] = [];
for (const rows of batches) {
  for (const text of stager.texts(rows)) {
    const file = await stager.write(text);
    inFlight.push(call(requests, "duckdb.load_file", { load, file }));
    if (inFlight.length >= IN_FLIGHT) await inFlight.shift();
  }
}
await Promise.all(inFlight);
const committed = await call(requests, "duckdb.load_commit", { load });
const loadMs = performance.now() - loadStarted;
const [{ n }] = await call(requests, "duckdb.query", {
  sql: "SELECT count(*) AS n FROM bench_rows",
});
await requests.close();
await Deno.remove(home, { recursive: true });
if (committed.rows !== ROWS || n !== ROWS) throw new Error(`Loaded ${n} rows, expected ${ROWS}`);

console.log(JSON.stringify({
  boundary: boundary.mechanism,
  cold_first_ms: round(cold.ms),
  first_request_ms: round(median(firsts)),
  select1_p50_ms: round(median(trips)),
  select1_p95_ms: round([...trips].sort((a, b) => a - b)[Math.floor(trips.length * 0.95)]!),
  load_rows: ROWS,
  load_batches: batches.length,
  load_ms: round(loadMs),
  load_rows_per_s: Math.round(ROWS / (loadMs / 1000)),
  engine_rss_mb: median(engineRss),
  aggregate_ms: round(aggregate.ms),
  aggregate_daemon_rss_growth_mb: aggregate.growthMb,
}));
