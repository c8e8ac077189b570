/**
 * Daemon memory and leaks over many runs: one `taud` on the embedded default (SQLite), a trivial
 * pipeline run N times (10,000 by default) in waves of `--wave` runs submitted at once. After
 * every wave it reads the daemon's resident memory and open file descriptors from /proc and
 * counts what is left in $TAU_HOME/runs; at the end, after the runs, it waits 35 s for the
 * daemon to settle and reads them again (idle). Prints a table on stderr and one JSON document
 * on stdout; exits 1 if a run does not end in success.
 *
 *   deno run -A bench/soak.ts [--runs 10000] [--wave 100]
 */
import { parseArgs } from "node:util";
import { fileURLToPath } from "node:url";
import { startBenchDaemon } from "./_daemon.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: { runs: { type: "string", default: "10000" }, wave: { type: "string", default: "100" } },
});
const RUNS = Number(values.runs);
const WAVE = Number(values.wave);
if (!Number.isInteger(RUNS) || RUNS < 1 || !Number.isInteger(WAVE) || WAVE < 1) {
  throw new Error("--runs and --wave must be positive integers");
}
const ROOT = fileURLToPath(new URL("../", import.meta.url));
const PIPELINE = fileURLToPath(new URL("./_trivial_pipeline.ts", import.meta.url));

interface Sample {
  runs: number;
  rss_mb: number;
  /** What the daemon's JavaScript heap holds (from `tau status`): growth here would be a leak. */
  heap_used_mb: number;
  fds: number;
  /** Folders in $TAU_HOME/runs: warm children's and running runs' (none should stay behind). */
  run_folders: number;
}

const tmp = await Deno.makeTempDir({ prefix: "tau_soak_" });
const home = `${tmp}/home`;
await Deno.mkdir(home);
const daemon = await startBenchDaemon(home, { cwd: ROOT });
try {
  const { api } = daemon;
  const pid = (await api("GET", "/status")).pid as number;
  const sample = async (runs: number): Promise<Sample> => {
    const status = await Deno.readTextFile(`/proc/${pid}/status`);
    const rssKb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN);
    let fds = 0;
    for await (const _ of Deno.readDir(`/proc/${pid}/fd`)) fds++;
    let folders = 0;
    for await (const _ of Deno.readDir(`${home}/runs`)) folders++;
    const { heap_used_mb } = (await api("GET", "/status")).memory;
    return {
      runs,
      rss_mb: Math.round(rssKb / 102.4) / 10,
      heap_used_mb,
      fds,
      run_folders: folders,
    };
  };
  const code = await Deno.readTextFile(PIPELINE);
  await api("POST", "/pipelines", {
    code,
    filename: "_trivial_pipeline.ts",
    source_path: PIPELINE,
  });

  const samples: Sample[] = [await sample(0)];
  const t0 = performance.now();
  let failed = 0;
  for (let done = 0; done < RUNS;) {
    const n = Math.min(WAVE, RUNS - done);
    const submitted = await Promise.all(
      Array.from({ length: n }, () => api("POST", "/pipelines/bench_fleet/runs", {})),
    );
    for (const run of submitted) {
      let record = run;
      while (!["success", "failed", "timed_out", "cancelled"].includes(record.status)) {
        record = await api("GET", `/runs/${run.run_id}?wait_ms=30000`);
      }
      if (record.status !== "success") failed++;
    }
    done += n;
    const s = await sample(done);
    samples.push(s);
    console.error(
      `${
        String(done).padStart(6)
      } runs  rss ${s.rss_mb} MB  heap ${s.heap_used_mb} MB  fds ${s.fds}  run folders ${s.run_folders}`,
    );
  }
  const seconds = (performance.now() - t0) / 1000;
  // Idle: every run finished, the warm child waiting; GC and the daemon's native memory trim
  // (every 30 s) given time.
  await new Promise((resolve) => setTimeout(resolve, 35_000));
  const idle = await sample(RUNS);
  const first = samples[Math.min(1, samples.length - 1)]!;
  const report = {
    runs: RUNS,
    wave: WAVE,
    failed,
    seconds: Math.round(seconds),
    runs_per_s: Math.round((RUNS / seconds) * 10) / 10,
    start: samples[0],
    after_first_wave: first,
    peak_rss_mb: Math.max(...samples.map((s) => s.rss_mb)),
    idle,
    /** Idle memory over memory after the first wave (1.0: no growth). */
    rss_growth: Math.round((idle.rss_mb / first.rss_mb) * 100) / 100,
    heap_growth: Math.round((idle.heap_used_mb / first.heap_used_mb) * 100) / 100,
    samples,
  };
  console.error(
    `idle after ${RUNS} runs: rss ${idle.rss_mb} MB (after the first wave ${first.rss_mb}), ` +
      `heap ${idle.heap_used_mb} MB (${first.heap_used_mb}), ` +
      `fds ${idle.fds} (${first.fds}), run folders ${idle.run_folders}`,
  );
  console.log(JSON.stringify(report, null, 2));
  if (failed > 0) Deno.exitCode = 1;
} finally {
  await daemon.stop();
  await Deno.remove(tmp, { recursive: true }).catch(() => {});
}
