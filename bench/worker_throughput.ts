/**
 * Production mode throughput: one `taud --role api,scheduler` and 1, 2, 4 `--role worker`
 * processes on one PostgreSQL database (TAU_TEST_DATABASE_URL or the local `test` database).
 * For each fleet size: a burst of trivial runs (runs per second, from the first submit to the
 * last finish) and the claim latency of runs submitted one by one to idle workers
 * (queued → running: `started_at - created_at`, p50/p99). Prints a table on stderr and one JSON
 * document on stdout.
 *
 *   deno run -A bench/worker_throughput.ts [--runs 200] [--probes 40] [--workers 1,2,4]
 */
import { parseArgs } from "node:util";
import { fileURLToPath } from "node:url";
import { pct } from "./_daemon.ts";
import { type FleetDaemon, startFleet, until } from "../tests/helpers/fleet.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    runs: { type: "string", default: "200" },
    probes: { type: "string", default: "40" },
    workers: { type: "string", default: "1,2,4" },
  },
});
const RUNS = Number(values.runs);
const PROBES = Number(values.probes);
const SIZES = String(values.workers).split(",").map(Number);

const PIPELINE = fileURLToPath(new URL("./_trivial_pipeline.ts", import.meta.url));

async function api(daemon: FleetDaemon, method: string, path: string, body?: unknown) {
  const key = (await Deno.readTextFile(`${daemon.home}/api_key`)).trim();
  const res = await fetch(`http://127.0.0.1:${daemon.port}/api/v1${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  if (!res.ok) throw new Error(`${method} ${path}: HTTP ${res.status} ${await res.text()}`);
  return await res.json();
}

async function measure(workers: number) {
  const fleet = await startFleet();
  try {
    const front = await fleet.start("api,scheduler");
    for (let i = 0; i < workers; i++) await fleet.start("worker");
    const deployed = await fleet.tau(front, "deploy", PIPELINE);
    if (deployed.code !== 0) throw new Error(deployed.stdout);
    // Warm each worker's code cache and sandbox template.
    for (let i = 0; i < workers * 2; i++) {
      await api(front, "POST", "/pipelines/bench_fleet/runs", { wait_ms: 30_000 });
    }
    const done = async (count: number) => {
      const [row] = await fleet.sql`SELECT count(*)::int AS n FROM runs
        WHERE status IN ('success', 'failed')`;
      return row!.n >= count ? true : undefined;
    };
    const base = workers * 2;

    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: RUNS }, () => api(front, "POST", "/pipelines/bench_fleet/runs", {})),
    );
    await until("the burst to finish", () => done(base + RUNS), 600_000);
    const burstMs = performance.now() - t0;

    const probeIds: string[] = [];
    for (let i = 0; i < PROBES; i++) {
      const run = await api(front, "POST", "/pipelines/bench_fleet/runs", { wait_ms: 30_000 });
      probeIds.push(run.run_id);
    }
    const rows = await fleet.sql`SELECT created_at, started_at, status FROM runs
      WHERE run_id IN ${fleet.sql(probeIds)}`;
    const latencies = rows.map((r) => Date.parse(r.started_at) - Date.parse(r.created_at));
    const [failed] = await fleet.sql`SELECT count(*)::int AS n FROM runs WHERE status <> 'success'`;
    return {
      workers,
      runs: RUNS,
      burst_ms: Math.round(burstMs),
      runs_per_s: Math.round((RUNS / (burstMs / 1000)) * 10) / 10,
      claim_latency_ms: { p50: pct(latencies, 50), p99: pct(latencies, 99) },
      not_successful: failed!.n,
    };
  } finally {
    await fleet.close();
  }
}

const results = [];
for (const size of SIZES) results.push(await measure(size));
console.error("\nworkers   runs/s   burst ms   claim p50 ms   claim p99 ms   not ok");
for (const r of results) {
  console.error(
    `${String(r.workers).padEnd(10)}${String(r.runs_per_s).padEnd(9)}${
      String(r.burst_ms).padEnd(11)
    }${String(r.claim_latency_ms.p50).padEnd(15)}${
      String(r.claim_latency_ms.p99).padEnd(15)
    }${r.not_successful}`,
  );
}
console.log(JSON.stringify(
  { results, cpus: navigator.hardwareConcurrency, deno: Deno.version.deno },
  null,
  2,
));
