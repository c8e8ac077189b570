/**
 * The dashboard at scale: a store holding 100,000 runs (half of them one pipeline's, 3% failed)
 * is opened by a real `taud`; after logging in, each page is fetched over HTTP N times in turn
 * and its median and p95 times are reported. The run page is a failed run with 1,000 log lines
 * and five steps. Prints a table on stderr and one JSON document on stdout; exits 1 if a page
 * does not answer 200 or takes 200 ms or more at the median.
 *
 *   deno run -A bench/dashboard_pages.ts [--runs N] [--rounds N]
 */
import { parseArgs } from "node:util";
import { pct, startBenchDaemon } from "./_daemon.ts";
import { newRunId, sha256Hex } from "../src/core/ids.ts";
import { validatePipelineConfig } from "../src/metadata/schema.ts";
import { type Json, openStore, type RunStatus, type Store } from "../src/store/mod.ts";

const PIPELINES = 20;
/** The page budget the dashboard promises. */
const BUDGET_MS = 200;

const { values } = parseArgs({
  args: Deno.args,
  options: { runs: { type: "string" }, rounds: { type: "string" } },
});
const totalRuns = Number(values.runs ?? 100_000);
const rounds = Number(values.rounds ?? 20);
if (!Number.isInteger(totalRuns) || totalRuns < PIPELINES * 2) throw new Error("--runs too small");

const name = (i: number) => `p${String(i).padStart(2, "0")}`;

async function deploy(store: Store, i: number) {
  const checked = validatePipelineConfig({
    name: name(i),
    description: `pipeline ${i}`,
    tags: ["bench"],
    net: ["api.example.com"],
  });
  if (!checked.ok) throw new Error(JSON.stringify(checked.issues));
  const code = `export default ${i};\n`;
  await store.deploy({
    name: name(i),
    code,
    hash: sha256Hex(code),
    filename: `${name(i)}.ts`,
    source_path: `/bench/${name(i)}.ts`,
    schedule: null,
    metadata: checked.metadata as unknown as Record<string, Json>,
  });
}

/** Half the runs are p00's, the rest spread over the others; every 33rd one failed. */
async function seed(store: Store): Promise<{ failedRun: string; middle: string }> {
  for (let i = 0; i < PIPELINES; i++) await deploy(store, i);
  for (let i = 1; i < PIPELINES; i++) await store.setDependencies(name(i), [name(i - 1)]);
  let failedRun = "";
  let middle = "";
  const started = performance.now();
  for (let n = 0; n < totalRuns; n++) {
    const pipeline = n % 2 === 0 ? name(0) : name(1 + (n % (PIPELINES - 1)));
    const run = await store.createRun({
      run_id: newRunId(),
      pipeline,
      version: 1,
      trigger: "schedule",
      params: {},
      max_attempts: 1,
      permissions: null,
    });
    const failed = n % 33 === 0;
    const status: RunStatus = failed ? "failed" : "success";
    const now = new Date().toISOString();
    await store.updateRun(run.run_id, {
      status,
      started_at: now,
      finished_at: now,
      duration_ms: 40,
      ...(failed ? { error: { kind: "exception", message: `row ${n} is bad` } } : {}),
    });
    if (pipeline === name(0) && n <= totalRuns / 2) middle = run.run_id;
    if (pipeline === name(0) && failed) failedRun = run.run_id;
    if (n % 10_000 === 0) {
      console.error(`  seeded ${n} runs (${Math.round(performance.now() - started)} ms)`);
    }
  }
  // The run page's run: five steps and 1,000 log lines.
  const at = (ms: number) => new Date(Date.now() - 60_000 + ms).toISOString();
  for (let s = 0; s < 5; s++) {
    await store.saveStep({
      run_id: failedRun,
      attempt: 1,
      seq: s,
      name: `step_${s}`,
      status: s === 4 ? "failed" : "success",
      started_at: at(s * 1000),
      finished_at: at(s * 1000 + 800),
      duration_ms: 800,
      rows_in: 1000,
      rows_out: 990,
      metadata: {},
      error: null,
    });
  }
  await store.appendLogs(Array.from({ length: 1000 }, (_, seq) => ({
    run_id: failedRun,
    seq: seq + 1,
    ts: at(seq * 5),
    attempt: 1,
    level: "info",
    step: `step_${Math.floor(seq / 200)}`,
    message: `processed batch ${seq}`,
  })));
  return { failedRun, middle };
}

const tmp = await Deno.makeTempDir({ prefix: "tau_bench_dashboard_" });
const home = `${tmp}/home`;
await Deno.mkdir(home);
const store = await openStore({ path: `${home}/tau.db` });
const seedStart = performance.now();
const { failedRun, middle } = await seed(store);
const seedMs = performance.now() - seedStart;
await store.close();

const daemon = await startBenchDaemon(home, { cwd: tmp });
let failedPages = 0;
const rows: { page: string; median_ms: number; p95_ms: number; bytes: number }[] = [];
try {
  const status = await daemon.api("GET", "/status");
  const base = `http://127.0.0.1:${status.dashboard.port}`;
  const key = (await Deno.readTextFile(`${home}/api_key`)).trim();
  const login = await fetch(`${base}/login`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", origin: base },
    body: new URLSearchParams({ key }),
    redirect: "manual",
  });
  await login.body?.cancel();
  const cookie = login.headers.get("set-cookie")?.split(";")[0];
  if (login.status !== 303 || !cookie) throw new Error(`login failed: HTTP ${login.status}`);

  const pages = [
    "/",
    `/pipelines/${name(0)}`,
    `/pipelines/${name(0)}?status=failed`,
    `/pipelines/${name(0)}?before=${middle}`,
    `/pipelines/${name(5)}`,
    `/runs/${failedRun}`,
    `/runs/${failedRun}?q=batch+99`,
    `/runs/${failedRun}/logs?after=990`,
    "/dag",
    "/errors",
    "/errors?unresolved=true",
    "/workers",
    "/connections",
  ];
  const samples = new Map(pages.map((p) => [p, [] as number[]]));
  const bytes = new Map<string, number>();
  // Rounds interleave the pages, so a slow moment of the machine spreads over all of them.
  for (let round = 0; round < rounds; round++) {
    for (const page of pages) {
      const t0 = performance.now();
      const res = await fetch(`${base}${page}`, { headers: { cookie } });
      const body = await res.text();
      samples.get(page)!.push(performance.now() - t0);
      bytes.set(page, body.length);
      if (res.status !== 200) throw new Error(`${page}: HTTP ${res.status} ${body.slice(0, 300)}`);
    }
  }
  for (const page of pages) {
    const xs = samples.get(page)!;
    const row = {
      page,
      median_ms: Math.round(pct(xs, 50) * 10) / 10,
      p95_ms: Math.round(pct(xs, 95) * 10) / 10,
      bytes: bytes.get(page)!,
    };
    if (row.median_ms >= BUDGET_MS) failedPages++;
    rows.push(row);
  }
} finally {
  await daemon.stop();
  await Deno.remove(tmp, { recursive: true });
}

console.error(`${totalRuns} runs seeded in ${Math.round(seedMs / 1000)} s; ${rounds} rounds`);
console.error(
  "page".padEnd(44) + "median ms".padStart(10) + "p95 ms".padStart(10) + "bytes".padStart(9),
);
for (const r of rows) {
  console.error(
    r.page.replace(/run_\w+/, "<run>").padEnd(44) + String(r.median_ms).padStart(10) +
      String(r.p95_ms).padStart(10) + String(r.bytes).padStart(9),
  );
}
console.log(JSON.stringify({ runs: totalRuns, rounds, budget_ms: BUDGET_MS, pages: rows }));
Deno.exit(failedPages > 0 ? 1 : 0);
