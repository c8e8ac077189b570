/**
 * Load throughput of Tau: N narrow rows (id bigint, name text, amount double, created_at
 * timestamptz) generated in a real pipeline run and loaded through named connections into
 * PostgreSQL (`COPY … FROM STDIN` in the sandbox) and DuckDB (files staged in the run's scratch
 * and inserted by the run's engine), against the engines' own CSV import of identical rows:
 * `psql \copy` and DuckDB's `COPY … FROM 'file.csv'`; also against generating the rows in one
 * process and handing them to the engine there: `@duckdb/node-api`'s appender, and postgres.js
 * streaming them to `COPY … FROM STDIN`. A third run only generates the
 * rows, to show what part of a load is row generation. Each measurement is repeated, interleaved, and
 * reported as medians. Prints a table on stderr and one JSON document on stdout; exits 1 if any
 * Tau run does not end in "success" or a loaded table differs from the reference.
 *
 *   deno run -A bench/load_throughput.ts [--rows N] [--batch N] [--repeats N] [--duckdb-chunk N]
 *
 * `--duckdb-chunk` (default 0 = off): re-slices the batches handed to the DuckDB connector, to
 * compare batch sizes; the connector itself bounds each request it sends.
 */
import { parseArgs } from "node:util";
import { DuckDBInstance } from "@duckdb/node-api";
import postgres from "postgres";
import { type BenchDaemon, startBenchDaemon } from "./_daemon.ts";

const PIPELINE = "bench_load";
const PG_DSN = "postgres://postgres@127.0.0.1:5432/test";
const PSQL = "-X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -U postgres -d test".split(" ");
const WAIT_MS = 5_000;
const TERMINAL = ["success", "failed", "timed_out", "cancelled", "skipped"];
const WARMUP_ROWS = 10_000;

/**
 * The row generator, shared verbatim by the pipeline (deployed, so type-checked by Tau) and by
 * this process (imported from a temp file to write the reference CSV): both see identical rows.
 */
const GENERATOR_SOURCE = `
// A type alias, not an interface: it must be assignable to the connectors' Row.
export type BenchRow = {
  id: number;
  name: string;
  amount: number;
  created_at: string;
};

const BASE_MS = Date.UTC(2024, 0, 1);

/** Rows start … start + count - 1: deterministic, never an integer amount (so it is a double). */
export function makeBatch(start: number, count: number): BenchRow[] {
  const out: BenchRow[] = new Array(count);
  for (let k = 0; k < count; k++) {
    const i = start + k;
    out[k] = {
      id: i + 1,
      name: "name_" + i,
      amount: (((i * 7919) % 1_000_000) + 0.5) / 100,
      created_at: new Date(BASE_MS + i * 1000).toISOString(),
    };
  }
  return out;
}

export async function* generate(rows: number, batch: number): AsyncIterable<BenchRow[]> {
  for (let start = 0; start < rows; start += batch) {
    yield makeBatch(start, Math.min(batch, rows - start));
  }
}
`;

const PIPELINE_SOURCE = `import { pipeline } from "tau";
${GENERATOR_SOURCE}
interface Params {
  target: "postgres" | "duckdb" | "none";
  table: string;
  rows: number;
  batch: number;
  /** Re-slice generated batches to at most this many rows (0: pass them through). */
  chunk: number;
}

async function* slices<T>(source: AsyncIterable<T[]>, size: number): AsyncIterable<T[]> {
  for await (const batch of source) {
    for (let i = 0; i < batch.length; i += size) yield batch.slice(i, i + size);
  }
}

export default pipeline({
  name: "${PIPELINE}",
  description: "Load throughput benchmark (bench/load_throughput.ts)",
  connections: ["warehouse", "lake"],
  timeout: "30m",
}, async (ctx) => {
  const { target, table, rows, batch, chunk } = ctx.params as unknown as Params;
  if (target === "none") {
    return await ctx.step("generate", async (step) => {
      let n = 0;
      for await (const b of generate(rows, batch)) n += b.length;
      step.rowsOut = n;
      return { rows: n };
    });
  }
  return await ctx.step("load", async (step) => {
    await using db = await ctx.connection(target === "postgres" ? "warehouse" : "lake");
    const source = chunk > 0 ? slices(generate(rows, batch), chunk) : generate(rows, batch);
    const { rows: written } = await db.load(source, { table, mode: "replace" });
    step.rowsOut = written;
    if (written !== rows) throw new Error(\`loaded \${written} rows, expected \${rows}\`);
    return { rows: written };
  });
});
`;

interface RunRecord {
  run_id: string;
  status: string;
  duration_ms: number | null;
  result: unknown;
  error: unknown;
  steps: { name: string; status: string; duration_ms: number | null }[];
  logs: { level: string; message: string }[];
}
interface TauTiming {
  run_ms: number;
  wall_ms: number;
  step_ms: number;
}

const { values } = parseArgs({
  args: Deno.args,
  options: {
    rows: { type: "string" },
    batch: { type: "string" },
    repeats: { type: "string" },
    "duckdb-chunk": { type: "string" },
  },
});
const positiveInt = (value: string | undefined, fallback: number, flag: string) => {
  const n = Number((value ?? String(fallback)).replaceAll("_", ""));
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${flag} must be a positive integer`);
  return n;
};
const ROWS = positiveInt(values.rows, 1_000_000, "rows");
const BATCH = positiveInt(values.batch, 50_000, "batch");
const REPEATS = positiveInt(values.repeats, 3, "repeats");
const DUCKDB_CHUNK = values["duckdb-chunk"] === undefined || values["duckdb-chunk"] === "0"
  ? 0
  : positiveInt(values["duckdb-chunk"], 5_000, "duckdb-chunk");

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid] as number : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
};
const round = (x: number, digits = 1) => Math.round(x * 10 ** digits) / 10 ** digits;
const rate = (rows: number, ms: number) => Math.round(rows / (ms / 1000));

async function timed<T>(fn: () => Promise<T>): Promise<[number, T]> {
  const t0 = performance.now();
  const value = await fn();
  return [performance.now() - t0, value];
}

const suffix = crypto.randomUUID().slice(0, 8);
const TABLES = {
  pgTau: `bench_load_${suffix}_tau`,
  pgCopy: `bench_load_${suffix}_copy`,
  pgStream: `bench_load_${suffix}_stream`,
  duckTau: `bench_load_${suffix}_tau`,
  duckCsv: `bench_load_${suffix}_csv`,
  duckAppend: `bench_load_${suffix}_append`,
};
const COLUMNS_PG = "id bigint, name text, amount double precision, created_at timestamptz";
const COLUMNS_DUCK = "id BIGINT, name VARCHAR, amount DOUBLE, created_at TIMESTAMPTZ";

const tmp = await Deno.makeTempDir({ prefix: "tau_bench_load_" });
const home = `${tmp}/home`;
const csvFile = `${tmp}/rows.csv`;
const lakeFile = `${tmp}/lake.duckdb`;
const refFile = `${tmp}/reference.duckdb`;
let daemon = null as BenchDaemon | null;
let pgTablesCreated = false;
let duck: DuckDBInstance | null = null;

async function psql(...args: string[]): Promise<string> {
  const out = await new Deno.Command("psql", { args: [...PSQL, ...args] }).output();
  const stderr = new TextDecoder().decode(out.stderr);
  if (out.code !== 0) throw new Error(`psql ${args.join(" ")} exited ${out.code}: ${stderr}`);
  return new TextDecoder().decode(out.stdout).trim();
}

async function startDaemon(): Promise<BenchDaemon> {
  await Deno.mkdir(home);
  await Deno.writeTextFile(
    `${home}/tau.toml`,
    `[connections.warehouse]
type = "postgres"
dsn = "${PG_DSN}"

[connections.lake]
type = "duckdb"
path = "${lakeFile}"
`,
  );
  // cwd is not ROOT: a ./tau.toml there would win over $TAU_HOME/tau.toml.
  daemon = await startBenchDaemon(home, { cwd: tmp });
  return daemon;
}

type Generate = (rows: number, batch: number) => AsyncIterable<
  { id: number; name: string; amount: number; created_at: string }[]
>;
const generator = async () =>
  (await import(`file://${tmp}/generator.ts`) as { generate: Generate }).generate;

/** Writes the reference CSV with the pipeline's own generator; returns the time it took. */
async function writeCsv(path: string, rows: number): Promise<number> {
  const generate = await generator();
  const [ms] = await timed(async () => {
    using file = await Deno.open(path, { write: true, create: true, truncate: true });
    const encoder = new TextEncoder();
    for await (const batch of generate(rows, BATCH)) {
      let text = "";
      // No value contains a comma, quote or newline, so no CSV quoting is needed.
      for (const r of batch) text += `${r.id},${r.name},${r.amount},${r.created_at}\n`;
      let bytes = encoder.encode(text);
      while (bytes.length > 0) bytes = bytes.subarray(await file.write(bytes));
    }
  });
  return ms;
}

async function main() {
  await Deno.writeTextFile(`${tmp}/generator.ts`, GENERATOR_SOURCE);
  const csvWriteMs = await writeCsv(csvFile, ROWS);
  const csvBytes = (await Deno.stat(csvFile)).size;

  const { api } = await startDaemon();

  const pipelineFile = `${tmp}/${PIPELINE}.ts`;
  await Deno.writeTextFile(pipelineFile, PIPELINE_SOURCE);
  await api("POST", "/pipelines", {
    code: PIPELINE_SOURCE,
    filename: `${PIPELINE}.ts`,
    source_path: pipelineFile,
  });

  /** One Tau run, timed by its record and by the wall clock around the API calls. */
  const tau = async (target: "postgres" | "duckdb" | "none", rows: number): Promise<TauTiming> => {
    const table = target === "postgres" ? TABLES.pgTau : TABLES.duckTau;
    const chunk = target === "duckdb" ? DUCKDB_CHUNK : 0;
    const params = { target, table, rows, batch: BATCH, chunk };
    if (target === "postgres") pgTablesCreated = true;
    const [wall, run] = await timed(async () => {
      let run: RunRecord = await api("POST", `/pipelines/${PIPELINE}/runs`, {
        params,
        wait_ms: WAIT_MS,
      });
      while (!TERMINAL.includes(run.status)) {
        // A dropped protocol line (a request over 1 MiB) is never answered: fail, don't hang.
        const dropped = run.logs.find((l) => l.level === "system" && /was dropped/.test(l.message));
        if (dropped) {
          await api("POST", `/runs/${run.run_id}/cancel`).catch(() => {});
          throw new Error(`${target} run ${run.run_id} is stuck: ${dropped.message.slice(0, 300)}`);
        }
        run = await api("GET", `/runs/${run.run_id}?wait_ms=${WAIT_MS}`);
      }
      return run;
    });
    if (run.status !== "success") {
      throw new Error(
        `${target} run ${run.run_id} ended ${run.status}: ${JSON.stringify(run.error, null, 2)}`,
      );
    }
    const step = run.steps.find((s) => s.name === (target === "none" ? "generate" : "load"));
    return { run_ms: run.duration_ms ?? NaN, wall_ms: wall, step_ms: step?.duration_ms ?? NaN };
  };

  const psqlCopy = async (file: string): Promise<number> => {
    pgTablesCreated = true;
    await psql(
      "-c",
      `DROP TABLE IF EXISTS ${TABLES.pgCopy}; CREATE TABLE ${TABLES.pgCopy} (${COLUMNS_PG})`,
    );
    const [ms] = await timed(() =>
      psql("-c", `\\copy ${TABLES.pgCopy} FROM '${file}' WITH (FORMAT csv)`)
    );
    return ms;
  };

  duck = await DuckDBInstance.create(refFile);
  const ref = await duck.connect();
  const duckCsv = async (file: string): Promise<number> => {
    await ref.run(`DROP TABLE IF EXISTS ${TABLES.duckCsv}`);
    await ref.run(`CREATE TABLE ${TABLES.duckCsv} (${COLUMNS_DUCK})`);
    const [ms] = await timed(() =>
      ref.run(`COPY ${TABLES.duckCsv} FROM '${file}' (FORMAT csv, HEADER false)`)
    );
    return ms;
  };

  // The other DuckDB floor: the same rows generated, then appended by @duckdb/node-api, in this
  // one process (generation included, as in the Tau run).
  const duckAppend = async (rows: number): Promise<number> => {
    const generate = await generator();
    await ref.run(`DROP TABLE IF EXISTS ${TABLES.duckAppend}`);
    await ref.run(`CREATE TABLE ${TABLES.duckAppend} (${COLUMNS_DUCK})`);
    const [ms] = await timed(async () => {
      const appender = await ref.createAppender(TABLES.duckAppend);
      for await (const batch of generate(rows, BATCH)) {
        for (const r of batch) {
          appender.appendBigInt(BigInt(r.id));
          appender.appendVarchar(r.name);
          appender.appendDouble(r.amount);
          appender.appendVarchar(r.created_at);
          appender.endRow();
        }
      }
      appender.closeSync();
    });
    return ms;
  };

  // The PostgreSQL floor with generation in it: the same rows generated in this one process and
  // streamed by postgres.js to COPY FROM STDIN, as the Tau run's connector does in its child.
  const pgStream = async (rows: number): Promise<number> => {
    const generate = await generator();
    const sql = postgres(PG_DSN, { max: 1, onnotice: () => {} });
    try {
      pgTablesCreated = true;
      await sql.unsafe(
        `DROP TABLE IF EXISTS ${TABLES.pgStream}; CREATE TABLE ${TABLES.pgStream} (${COLUMNS_PG})`,
      );
      const [ms] = await timed(async () => {
        const copy = await sql.unsafe(`COPY ${TABLES.pgStream} FROM STDIN WITH (FORMAT csv)`)
          .writable();
        for await (const batch of generate(rows, BATCH)) {
          let text = "";
          for (const r of batch) text += `${r.id},${r.name},${r.amount},${r.created_at}\n`;
          if (!copy.write(text)) await new Promise((resolve) => copy.once("drain", resolve));
        }
        await new Promise<void>((resolve, reject) => {
          copy.once("finish", resolve);
          copy.once("error", reject);
          copy.end();
        });
      });
      return ms;
    } finally {
      await sql.end();
    }
  };

  // Warm-up (not measured): the first DuckDB run loads the native addon into the daemon, the
  // first PostgreSQL run loads postgres.js from the sandbox cache into the compiler caches.
  const warmCsv = `${tmp}/warmup.csv`;
  await writeCsv(warmCsv, Math.min(ROWS, WARMUP_ROWS));
  await tau("postgres", Math.min(ROWS, WARMUP_ROWS));
  await psqlCopy(warmCsv);
  await pgStream(Math.min(ROWS, WARMUP_ROWS));
  await tau("duckdb", Math.min(ROWS, WARMUP_ROWS));
  await duckCsv(warmCsv);
  await duckAppend(Math.min(ROWS, WARMUP_ROWS));
  await tau("none", Math.min(ROWS, WARMUP_ROWS));

  const pg: TauTiming[] = [], dk: TauTiming[] = [], gen: TauTiming[] = [];
  const copyMs: number[] = [], duckMs: number[] = [], appendMs: number[] = [];
  const streamMs: number[] = [];
  const wallStart = performance.now();
  for (let i = 0; i < REPEATS; i++) {
    console.error(`repeat ${i + 1}/${REPEATS}…`);
    pg.push(await tau("postgres", ROWS));
    copyMs.push(await psqlCopy(csvFile));
    streamMs.push(await pgStream(ROWS));
    dk.push(await tau("duckdb", ROWS));
    duckMs.push(await duckCsv(csvFile));
    appendMs.push(await duckAppend(ROWS));
    gen.push(await tau("none", ROWS));
  }
  const wallMs = performance.now() - wallStart;

  // The loaded tables must equal the reference imports of the CSV.
  const pgSummary = (table: string) =>
    psql(
      "-tAc",
      `SELECT count(*), sum(id), round(sum(amount::numeric(18, 3)), 2), ` +
        `min(created_at), max(created_at), count(DISTINCT name) FROM ${table}`,
    );
  const [pgTauSum, pgCopySum, pgStreamSum] = [
    await pgSummary(TABLES.pgTau),
    await pgSummary(TABLES.pgCopy),
    await pgSummary(TABLES.pgStream),
  ];
  if (pgTauSum !== pgCopySum || pgStreamSum !== pgCopySum || !pgTauSum.startsWith(`${ROWS}|`)) {
    throw new Error(
      `PostgreSQL tables differ: tau ${pgTauSum} vs psql ${pgCopySum} vs stream ${pgStreamSum}`,
    );
  }
  await ref.run(`ATTACH '${lakeFile}' AS lake`);
  const duckSummary = async (table: string) => {
    const reader = await ref.runAndReadAll(
      `SELECT count(*)::VARCHAR || '|' || sum(id)::VARCHAR || '|' ||
              round(sum(amount::DECIMAL(18, 3)), 2)::VARCHAR || '|' ||
              epoch_ms(min(created_at))::VARCHAR || '|' || epoch_ms(max(created_at))::VARCHAR ||
              '|' || count(DISTINCT name)::VARCHAR AS s FROM ${table}`,
    );
    return String(reader.getRowObjectsJS()[0]?.s);
  };
  const [duckTauSum, duckCsvSum, duckAppendSum] = [
    await duckSummary(`lake.${TABLES.duckTau}`),
    await duckSummary(TABLES.duckCsv),
    await duckSummary(TABLES.duckAppend),
  ];
  await ref.run(`DROP TABLE lake.${TABLES.duckTau}`);
  await ref.run("DETACH lake");
  await ref.run(`DROP TABLE ${TABLES.duckCsv}`);
  await ref.run(`DROP TABLE ${TABLES.duckAppend}`);
  if (
    duckTauSum !== duckCsvSum || duckAppendSum !== duckCsvSum || !duckTauSum.startsWith(`${ROWS}|`)
  ) {
    throw new Error(
      `DuckDB tables differ: tau ${duckTauSum} vs CSV import ${duckCsvSum} vs appender ${duckAppendSum}`,
    );
  }

  const m = (xs: TauTiming[], k: keyof TauTiming) => round(median(xs.map((x) => x[k])));
  const generateMs = m(gen, "step_ms");
  const side = <K extends string>(xs: TauTiming[], referenceMs: number[], referenceKey: K) => {
    const runMs = m(xs, "run_ms"), wallMs = m(xs, "wall_ms"), loadStep = m(xs, "step_ms");
    const reference = round(median(referenceMs));
    return {
      tau_run_ms: runMs,
      tau_wall_ms: wallMs,
      load_step_ms: loadStep,
      generate_ms: generateMs,
      load_minus_generate_ms: round(loadStep - generateMs),
      ...({ [referenceKey]: reference } as Record<K, number>),
      reference_ms: reference,
      ratio: round(runMs / reference, 2),
      ratio_wall: round(wallMs / reference, 2),
      ratio_load_minus_generate: round((loadStep - generateMs) / reference, 2),
      tau_rows_per_s: rate(ROWS, runMs),
      reference_rows_per_s: rate(ROWS, reference),
      samples: {
        tau_run_ms: xs.map((x) => x.run_ms),
        tau_wall_ms: xs.map((x) => round(x.wall_ms)),
        load_step_ms: xs.map((x) => x.step_ms),
        reference_ms: referenceMs.map((x) => round(x)),
      },
    };
  };
  const pgVersion = await psql("-tAc", "SHOW server_version");
  const duckVersion = String(
    (await ref.runAndReadAll("SELECT version() AS v")).getRowObjectsJS()[0]?.v,
  );
  const cpuinfo = await Deno.readTextFile("/proc/cpuinfo").catch(() => "");
  const report = {
    scenario: "load_narrow_rows",
    rows: ROWS,
    columns: ["id bigint", "name text", "amount double", "created_at timestamptz"],
    batch_rows: BATCH,
    repeats: REPEATS,
    csv_bytes: csvBytes,
    csv_write_ms: round(csvWriteMs),
    wall_ms: round(wallMs),
    postgres: {
      ...side(pg, copyMs, "psql_copy_ms"),
      generate_and_copy_ms: round(median(streamMs)),
      ratio_to_generate_and_copy: round(m(pg, "run_ms") / median(streamMs), 2),
      generate_and_copy_samples_ms: streamMs.map((x) => round(x)),
    },
    duckdb: {
      ...side(dk, duckMs, "duckdb_csv_ms"),
      generate_and_append_ms: round(median(appendMs)),
      ratio_to_generate_and_append: round(m(dk, "run_ms") / median(appendMs), 2),
      append_samples_ms: appendMs.map((x) => round(x)),
    },
    generate: {
      tau_run_ms: m(gen, "run_ms"),
      tau_wall_ms: m(gen, "wall_ms"),
      generate_ms: generateMs,
      samples: { generate_ms: gen.map((x) => x.step_ms) },
    },
    versions: { deno: Deno.version.deno, postgres: pgVersion, duckdb: duckVersion },
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

  const cols = (xs: (string | number)[]) =>
    xs.map((x) => (typeof x === "number" ? x.toFixed(0) : x).padStart(12)).join("");
  console.error(
    `\n${ROWS} rows (${(csvBytes / 2 ** 20).toFixed(1)} MiB as CSV), batches of ${BATCH}, ` +
      `medians of ${REPEATS} interleaved repeats`,
  );
  const head = ["tau run", "tau wall", "load step", "- generate", "reference", "ratio"];
  console.error(`${"".padEnd(10)}${cols(head)}${cols(["ratio wall", "ratio -gen"])}`);
  for (const [name, s] of [["postgres", report.postgres], ["duckdb", report.duckdb]] as const) {
    const times = [s.tau_run_ms, s.tau_wall_ms, s.load_step_ms, s.load_minus_generate_ms];
    const ratios = [s.ratio, s.ratio_wall, s.ratio_load_minus_generate].map((r) =>
      `x${r.toFixed(2)}`
    );
    console.error(`${name.padEnd(10)}${cols([...times, s.reference_ms, ...ratios])}`);
  }
  const g = report.generate;
  console.error(`${"generate".padEnd(10)}${cols([g.tau_run_ms, g.tau_wall_ms, g.generate_ms])}`);
  const p = report.postgres;
  console.error(
    `postgres, against generating the rows and streaming them to COPY in one process: ` +
      `${p.generate_and_copy_ms.toFixed(0)} ms, x${p.ratio_to_generate_and_copy.toFixed(2)}`,
  );
  const d = report.duckdb;
  console.error(
    `duckdb, against generating and appending the rows in one process: ` +
      `${d.generate_and_append_ms.toFixed(0)} ms, x${d.ratio_to_generate_and_append.toFixed(2)}`,
  );
  console.error(
    "ms; reference: postgres = psql \\copy, duckdb = COPY FROM csv in this process; ratio = " +
      "tau run / reference, -gen = (load step - generate step) / reference\n",
  );
  console.log(JSON.stringify(report, null, 2));
}

async function cleanup() {
  await daemon?.stop();
  daemon = null;
  if (pgTablesCreated) {
    const drop = [TABLES.pgTau, TABLES.pgCopy, TABLES.pgStream, `${TABLES.pgTau}__tau_new`]
      .map((t) => `DROP TABLE IF EXISTS ${t};`).join(" ");
    await psql("-c", drop).catch((err) => console.error(`cleanup: ${err.message}`));
  }
  try {
    duck?.closeSync();
  } catch { /* already closed */ }
  duck = null;
  await Deno.remove(tmp, { recursive: true }).catch(() => {});
}

const onSignal = () => {
  console.error("interrupted; cleaning up");
  cleanup().finally(() => Deno.exit(130));
};
Deno.addSignalListener("SIGINT", onSignal);
try {
  await main();
} catch (err) {
  console.error(`benchmark failed: ${err instanceof Error ? err.message : err}`);
  const stderr = daemon?.stderr() ?? "";
  if (stderr) console.error(`taud stderr (tail):\n${stderr.slice(-4000)}`);
  Deno.exitCode = 1;
} finally {
  await cleanup();
  Deno.removeSignalListener("SIGINT", onSignal);
}
