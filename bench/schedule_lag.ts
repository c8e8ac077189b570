/**
 * Scheduler lag: N pipelines scheduled on one instant. Reports, from the scheduled instant, the
 * delay until each run is recorded (the tick) and until its child starts (including the wait
 * for one of `max_concurrent` slots), as p50/p99, for each N. Prints a table on stderr and one
 * JSON document on stdout.
 *
 *   deno run -A bench/schedule_lag.ts [--sizes 100,1000] [--max-concurrent 20] [--ticks-only]
 *
 * `--ticks-only` starts the daemon without the worker role: the runs are recorded and stay
 * queued, so only the tick is measured (10,000 pipelines would otherwise mean 10,000 runs).
 *
 * Pipelines 2…N are copies of the first written straight into the store (deploying 1,000 files
 * through the API would measure the type-checker, not the scheduler).
 */
import { parseArgs } from "node:util";
import { tauPaths } from "../src/config/paths.ts";
import { materializeVersion } from "../src/deploy/code_files.ts";
import { openStore, type RunRecord } from "../src/store/mod.ts";
import { pct, startBenchDaemon } from "./_daemon.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    sizes: { type: "string" },
    "max-concurrent": { type: "string" },
    "ticks-only": { type: "boolean" },
  },
});
const ticksOnly = values["ticks-only"] ?? false;
const sizes = (values.sizes ?? "100,1000").split(",").map(Number);
const maxConcurrent = Number(values["max-concurrent"] ?? 20);
// Time to write the pipelines and start the daemon before the instant.
const leadMs = (n: number) => 20_000 + n * 10;

const SOURCE = `import { pipeline } from "tau";
export default pipeline({ name: "lag_0" }, () => ({ ok: true }));
`;

async function measure(n: number) {
  const home = await Deno.makeTempDir({ prefix: "tau_bench_lag_" });
  const cwd = await Deno.makeTempDir({ prefix: "tau_bench_cwd_" });
  await Deno.writeTextFile(`${home}/tau.toml`, `[scheduler]\nmax_concurrent = ${maxConcurrent}\n`);
  // Deploy the template for real once, then stop: the copies are written while no daemon runs.
  let daemon = await startBenchDaemon(home, { cwd });
  await daemon.api("POST", "/pipelines", { code: SOURCE, filename: "lag.ts" });
  await daemon.stop();

  const at = new Date(Math.ceil((Date.now() + leadMs(n)) / 1000) * 1000);
  const cron = `${at.getUTCSeconds()} ${at.getUTCMinutes()} ${at.getUTCHours()} * * *`;
  const paths = tauPaths(home);
  const store = await openStore({ path: paths.database });
  const template = await store.getPipeline("lag_0");
  if (!template) throw new Error("template not deployed");
  for (let i = 0; i < n; i++) {
    const name = `lag_${i}`;
    const metadata = { ...template.metadata, name };
    const { version } = await store.deploy({
      name,
      code: SOURCE,
      hash: `h${i}`,
      filename: "lag.ts",
      source_path: null,
      schedule: cron,
      metadata,
    });
    await materializeVersion(paths, version);
    await store.setSchedule(name, { cron, every_s: null, timezone: "UTC" }, new Date());
  }
  await store.close();
  if (Date.now() > at.getTime() - 3_000) throw new Error("setup took too long; raise leadMs");

  daemon = await startBenchDaemon(home, { cwd, role: ticksOnly ? "api,scheduler" : undefined });
  const reader = await openStore({ path: paths.database });
  let runs: RunRecord[] = [];
  for (const deadline = at.getTime() + 600_000; Date.now() < deadline;) {
    await new Promise((r) => setTimeout(r, 500));
    const ended = ticksOnly ? ["queued" as const] : ["success" as const, "failed" as const];
    runs = (await reader.listRunsByStatus(ended)).filter((r) => r.scheduled_at);
    if (runs.length >= n) break;
  }
  await reader.close();
  await daemon.stop();
  await Deno.remove(home, { recursive: true }).catch(() => {});
  await Deno.remove(cwd, { recursive: true }).catch(() => {});
  const failed = runs.filter((r) => r.status !== (ticksOnly ? "queued" : "success"));
  if (runs.length < n || failed.length > 0) {
    const kinds = failed.map((r) => `${r.error?.kind}: ${r.error?.message?.slice(0, 200)}`);
    throw new Error(
      `${runs.length - failed.length} of ${n} runs succeeded; failures:\n${
        [...new Set(kinds)].join("\n")
      }`,
    );
  }
  const from = (iso: string | null) => Date.parse(iso ?? "") - at.getTime();
  const tick = runs.map((r) => from(r.created_at));
  const ticks = { pipelines: n, tick_p50_ms: pct(tick, 50), tick_p99_ms: pct(tick, 99) };
  if (ticksOnly) return ticks;
  const start = runs.map((r) => from(r.started_at));
  return {
    ...ticks,
    start_p50_ms: pct(start, 50),
    start_p99_ms: pct(start, 99),
    last_start_ms: Math.max(...start),
  };
}

const results = [];
for (const n of sizes) {
  const r = await measure(n);
  results.push(r);
  const starts = "start_p50_ms" in r
    ? `; child start p50 ${r.start_p50_ms} ms, p99 ${r.start_p99_ms} ms (max_concurrent ${maxConcurrent})`
    : "";
  console.error(
    `${
      String(n).padStart(5)
    } pipelines: tick p50 ${r.tick_p50_ms} ms, p99 ${r.tick_p99_ms} ms${starts}`,
  );
}
console.log(
  JSON.stringify({ max_concurrent: maxConcurrent, ticks_only: ticksOnly, results }, null, 2),
);
