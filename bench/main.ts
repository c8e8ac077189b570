/**
 * `deno task bench`: runs every benchmark, one after another (each needs the machine to itself),
 * and prints one JSON document on stdout: `{ "machine", "benchmarks": { name: its report } }`.
 * Each benchmark's table goes to stderr as it runs. Exits 1 if any benchmark fails; its report is
 * then `{ "error": ... }`.
 *
 *   deno task bench [name ...]     (names: run_overhead, load_throughput, schedule_lag, ...)
 */
import { fileURLToPath } from "node:url";
import { cpus, totalmem } from "node:os";
import { errorText } from "../src/core/errors.ts";

/** Each benchmark: its script in bench/ and the arguments it runs with. */
const BENCHMARKS: Record<string, { script: string; args: string[] }> = {
  run_overhead: { script: "run_overhead", args: [] },
  load_throughput: { script: "load_throughput", args: [] },
  schedule_lag: { script: "schedule_lag", args: [] },
  schedule_ticks: { script: "schedule_lag", args: ["--sizes", "1000,10000", "--ticks-only"] },
  worker_throughput: { script: "worker_throughput", args: [] },
  heal_cost: { script: "heal_cost", args: [] },
  duckdb_engine: { script: "duckdb_engine", args: [] },
  soak: { script: "soak", args: [] },
  dashboard_pages: { script: "dashboard_pages", args: [] },
};

const chosen = Deno.args.length > 0 ? Deno.args : Object.keys(BENCHMARKS);
const unknown = chosen.filter((name) => !(name in BENCHMARKS));
if (unknown.length > 0) {
  console.log(JSON.stringify({
    error: {
      code: "invalid_params",
      message: `Unknown benchmark ${unknown.join(", ")}`,
      hint: `choose among ${Object.keys(BENCHMARKS).join(", ")}`,
    },
  }));
  Deno.exit(1);
}

const benchmarks: Record<string, unknown> = {};
let failed = false;
for (const name of chosen) {
  const { script, args } = BENCHMARKS[name]!;
  const path = fileURLToPath(new URL(`./${script}.ts`, import.meta.url));
  console.error(`— ${name}`);
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", path, ...args],
    stdout: "piped",
    stderr: "inherit",
  }).output();
  const text = new TextDecoder().decode(out.stdout);
  try {
    if (!out.success) throw new Error(`exited with code ${out.code}`);
    benchmarks[name] = JSON.parse(text);
  } catch (err) {
    failed = true;
    benchmarks[name] = { error: { message: errorText(err), stdout: text.slice(0, 2000) } };
  }
}

const machine = {
  cores: cpus().length,
  cpu: cpus()[0]?.model ?? "unknown",
  memory_gib: Math.round(totalmem() / 2 ** 30),
  deno: Deno.version.deno,
  date: new Date().toISOString(),
};
console.log(JSON.stringify({ machine, benchmarks }, null, 2));
Deno.exit(failed ? 1 : 0);
