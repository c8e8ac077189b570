/**
 * Per-run overhead of Tau: N sequential runs of a trivial pipeline through the API and through
 * the real CLI, interleaved with N bare `deno run` of an equivalent file. Prints a table on
 * stderr and one JSON document on stdout; exits 1 if any Tau run does not end in "success".
 *
 * Runs are spaced out (`--gap-ms`, 200 by default), as scheduled work is: whatever each leaves
 * behind (the warm pool starting the next run's child) finishes before the next is timed.
 *
 *   deno run -A bench/run_overhead.ts [--runs N] [--os-boundary off] [--warm-pool-mb 0]
 *     [--gap-ms N]
 */
import { parseArgs } from "node:util";
import { fileURLToPath } from "node:url";
import { type BenchDaemon, pct, startBenchDaemon } from "./_daemon.ts";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const PIPELINE = "bench_trivial";
const WARMUP = 3;
const WAIT_MS = 25_000;
const TERMINAL = ["success", "failed", "timed_out", "cancelled"];
// Tau's sandbox flags minus permissions and import map; bare runs share one warm DENO_DIR.
const BARE_FLAGS =
  `--no-prompt --no-config --no-lock --no-check --no-remote --no-npm --cached-only`;

const PIPELINE_SOURCE = `import { pipeline } from "tau";
export default pipeline({ name: "${PIPELINE}" }, (ctx) => {
  ctx.log("hi");
  return { ok: true };
});
`;
const BARE_SOURCE = `console.log(JSON.stringify({ type: "log", message: "hi" }));
console.log(JSON.stringify({ type: "result", value: { ok: true } }));
`;

interface RunRecord {
  run_id: string;
  status: string;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
  logs: { ts: string }[];
  sandbox?: { warm: boolean | null };
}
interface Series {
  total_ms: number;
  p50_ms: number;
  p99_ms: number;
}

const { values } = parseArgs({
  args: Deno.args,
  options: {
    runs: { type: "string" },
    "os-boundary": { type: "string" },
    // `--warm-pool-mb 0` prices the cold start: every run starts its own child.
    "warm-pool-mb": { type: "string" },
    "gap-ms": { type: "string" },
  },
});
// `--os-boundary off` measures layers 1 and 2 alone, to price the bubblewrap layer.
const osBoundary = values["os-boundary"] ?? "auto";
const runs = Number(values.runs ?? 40);
if (!Number.isInteger(runs) || runs < 1) throw new Error("--runs must be a positive integer");
const warmPoolMb = values["warm-pool-mb"];
if (warmPoolMb !== undefined && !/^\d+$/.test(warmPoolMb)) {
  throw new Error("--warm-pool-mb must be a whole number of MiB");
}
const gapMs = Number(values["gap-ms"] ?? 200);
const pause = () => new Promise((resolve) => setTimeout(resolve, gapMs));

const round = (x: number) => Math.round(x * 10) / 10;
const summary = (xs: number[]): Series => ({
  total_ms: round(xs.reduce((a, b) => a + b, 0)),
  p50_ms: round(pct(xs, 50)),
  p99_ms: round(pct(xs, 99)),
});
const ms = (iso: string | null | undefined) => (iso ? Date.parse(iso) : NaN);
const cols = (xs: (string | number)[]) =>
  xs.map((x) => (typeof x === "number" ? x.toFixed(1) : x).padStart(11)).join("");

async function timed<T>(fn: () => Promise<T>): Promise<[number, T]> {
  const t0 = performance.now();
  const value = await fn();
  return [performance.now() - t0, value];
}

function mustSucceed(run: RunRecord, via: string): RunRecord {
  if (run.status !== "success") {
    throw new Error(`${via} run ${run.run_id} ended ${run.status}: ${JSON.stringify(run)}`);
  }
  return run;
}

const tmp = await Deno.makeTempDir({ prefix: "tau_bench_" });
const home = `${tmp}/home`;
let daemon = null as BenchDaemon | null;

async function startDaemon(): Promise<BenchDaemon> {
  await Deno.mkdir(home);
  const pool = warmPoolMb === undefined ? "" : `warm_pool_mb = ${warmPoolMb}\n`;
  await Deno.writeTextFile(`${home}/tau.toml`, `[sandbox]\nos_boundary = "${osBoundary}"\n${pool}`);
  daemon = await startBenchDaemon(home, { cwd: ROOT });
  return daemon;
}

async function main() {
  const { api } = await startDaemon();

  const pipelineFile = `${tmp}/${PIPELINE}.ts`;
  const bareFile = `${tmp}/bare_trivial.ts`;
  await Deno.writeTextFile(pipelineFile, PIPELINE_SOURCE);
  await Deno.writeTextFile(bareFile, BARE_SOURCE);
  await api("POST", "/pipelines", {
    code: PIPELINE_SOURCE,
    filename: `${PIPELINE}.ts`,
    source_path: pipelineFile,
  });

  const bare = async () => {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", ...BARE_FLAGS.split(" "), bareFile],
      env: { DENO_DIR: `${tmp}/bare_deno_dir`, HOME: tmp, DENO_NO_UPDATE_CHECK: "1" },
      clearEnv: true,
    }).output();
    if (out.code !== 0) throw new Error(`bare run failed: ${new TextDecoder().decode(out.stderr)}`);
  };
  const viaApi = async () => {
    let run = await api("POST", `/pipelines/${PIPELINE}/runs`, { params: {}, wait_ms: WAIT_MS });
    while (!TERMINAL.includes(run.status)) {
      run = await api("GET", `/runs/${run.run_id}?wait_ms=${WAIT_MS}`);
    }
    return mustSucceed(run, "API");
  };
  const viaCli = async () => {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", `${ROOT}src/cli/main.ts`, "run", PIPELINE],
      cwd: ROOT,
      env: { TAU_HOME: home, TAU_HOST: "", TAU_API_KEY: "", NO_COLOR: "1" },
    }).output();
    const text = new TextDecoder().decode(out.stdout);
    if (out.code !== 0) throw new Error(`tau run exited ${out.code}: ${text}`);
    return mustSucceed(JSON.parse(text), "CLI");
  };

  for (let i = 0; i < WARMUP; i++) {
    await bare();
    await viaApi();
    await viaCli();
  }

  const times = { bare: [] as number[], api: [] as number[], cli: [] as number[] };
  // Where an API run's time goes, from its record's timestamps (same clock, 1 ms resolution).
  const phases: Record<string, number[]> = {};
  const phase = (name: string, value: number) => (phases[name] ??= []).push(value);
  const wallStart = performance.now();
  let warmRuns = 0;
  for (let i = 0; i < runs; i++) {
    await pause();
    times.bare.push((await timed(bare))[0]);
    await pause();
    const sent = Date.now();
    const [apiMs, run] = await timed(viaApi);
    const received = Date.now();
    times.api.push(apiMs);
    if (run.sandbox?.warm) warmRuns++;
    const firstLog = ms(run.logs[0]?.ts);
    phase("submit", ms(run.created_at) - sent);
    phase("prepare", ms(run.started_at) - ms(run.created_at));
    phase("spawn_to_first_log", firstLog - ms(run.started_at));
    phase("first_log_to_finish", ms(run.finished_at) - firstLog);
    phase("reply", received - ms(run.finished_at));
    await pause();
    times.cli.push((await timed(viaCli))[0]);
  }
  const wallMs = performance.now() - wallStart;

  const bareS = summary(times.bare), apiS = summary(times.api), cliS = summary(times.cli);
  const ratio = (s: Series) => Math.round((s.p50_ms / bareS.p50_ms) * 100) / 100;
  const cpuinfo = await Deno.readTextFile("/proc/cpuinfo").catch(() => "");
  const warmPool = (await api("GET", "/status")).sandbox.warm_pool;
  const report = {
    scenario: "sequential_trivial_runs",
    runs,
    warmup_runs: WARMUP,
    wall_ms: round(wallMs),
    bare_deno: bareS,
    tau_api: apiS,
    tau_cli: cliS,
    overhead_ms: {
      api_p50: round(apiS.p50_ms - bareS.p50_ms),
      cli_p50: round(cliS.p50_ms - bareS.p50_ms),
      cli_over_api_p50: round(cliS.p50_ms - apiS.p50_ms),
    },
    overhead_ratio: { api_p50: ratio(apiS), cli_p50: ratio(cliS) },
    /** API runs that started on a child the warm pool had ready. */
    api_warm_runs: warmRuns,
    /** The pool when the runs were done: what it held, and its hits and misses. */
    warm_pool: warmPool,
    gap_ms: gapMs,
    api_phases_p50_ms: Object.fromEntries(Object.entries(phases).map(([k, v]) => [k, pct(v, 50)])),
    os_boundary: osBoundary,
    deno_version: Deno.version.deno,
    machine: {
      cpus: navigator.hardwareConcurrency,
      cpu_model: cpuinfo.match(/model name\s*:\s*(.*)/)?.[1]?.trim() ?? null,
      os: Deno.build.os,
      arch: Deno.build.arch,
      kernel: Deno.osRelease(),
      memory_mb: Math.round(Deno.systemMemoryInfo().total / 2 ** 20),
      loadavg: Deno.loadavg(),
    },
  };

  console.error(`\n${runs} sequential runs per series, interleaved, after ${WARMUP} warm-up each`);
  console.error(`${"series".padEnd(16)}${cols(["total ms", "p50 ms", "p99 ms"])}`);
  const table: [string, Series][] = [["bare deno", bareS], ["tau API", apiS], ["tau CLI", cliS]];
  for (const [name, s] of table) {
    console.error(`${name.padEnd(16)}${cols([s.total_ms, s.p50_ms, s.p99_ms])}`);
  }
  const { overhead_ms: o, overhead_ratio: r } = report;
  console.error(
    `overhead p50: API +${o.api_p50} ms (x${r.api_p50}), CLI +${o.cli_p50} ms (x${r.cli_p50})`,
  );
  console.error(`API run phases p50 (ms): ${JSON.stringify(report.api_phases_p50_ms)}\n`);
  console.log(JSON.stringify(report, null, 2));
}

try {
  await main();
} catch (err) {
  console.error(`benchmark failed: ${err instanceof Error ? err.message : err}`);
  if (daemon?.stderr()) console.error(`taud stderr:\n${daemon.stderr()}`);
  Deno.exitCode = 1;
} finally {
  await daemon?.stop();
  await Deno.remove(tmp, { recursive: true }).catch(() => {});
}
