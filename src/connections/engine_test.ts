/**
 * The run's DuckDB engine as a process of its own: real DuckDB, real processes, observed from
 * /proc. Each test states what would go wrong in the daemon if the engine were not isolated.
 */
import { assert, assertEquals } from "../../tests/helpers/assert.ts";
import { type RequestHandler, runRequests, type RunRequestsOptions } from "./run_requests.ts";
import { parseConnections } from "./registry.ts";
import { detectOsBoundary, NO_OS_BOUNDARY, type OsBoundary } from "../sandbox/os_boundary.ts";

const LIMITS = { memory_mb: 1024, cpu_s: 600, threads: 64, timeout_ms: 600_000 };
const bubblewrap = await detectOsBoundary("auto");
const BOUNDARIES: OsBoundary[] = bubblewrap.mechanism ? [NO_OS_BOUNDARY, bubblewrap] : [
  NO_OS_BOUNDARY,
];
/** Burns CPU for minutes: nothing in it can be folded away. */
const CPU_BURN =
  "SELECT count(*) AS n FROM range(100000000) a, range(100000000) b WHERE (a.range + b.range) % 7 = 3";

async function setup(options: Partial<RunRequestsOptions> = {}) {
  const home = await Deno.makeTempDir({ prefix: "tau_engine_home_" });
  const scratch = await Deno.makeTempDir({ prefix: "tau_engine_scratch_" });
  const requests = runRequests({
    declared: [],
    registry: parseConnections({}),
    home,
    scratchDir: scratch,
    limits: LIMITS,
    boundary: NO_OS_BOUNDARY,
    ...options,
  });
  const inline = (sql: string, path = ":memory:") =>
    requests.handle("duckdb.query", { inline_path: path, sql });
  const cleanup = async () => {
    await requests.close();
    await Deno.remove(home, { recursive: true });
    await Deno.remove(scratch, { recursive: true });
  };
  return { home, scratch, requests, inline, cleanup };
}

/** The pid and its descendants, from the parent pid in each /proc/PID/stat. */
function processTree(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    const ppid = Number(stat(Number(entry.name))[1]);
    children.set(ppid, [...children.get(ppid) ?? [], Number(entry.name)]);
  }
  const tree = [root];
  for (let i = 0; i < tree.length; i++) tree.push(...children.get(tree[i]!) ?? []);
  return tree;
}

/** Fields of /proc/PID/stat after the command name ([] once the process is gone). */
function stat(pid: number): string[] {
  try {
    const text = Deno.readTextFileSync(`/proc/${pid}/stat`);
    return text.slice(text.lastIndexOf(")") + 2).split(" ");
  } catch {
    return [];
  }
}

const alive = (pid: number) => ["R", "S", "D", "T", "t"].includes(stat(pid)[0] ?? "Z");
const cpuTicks = (pids: number[]) =>
  pids.reduce((sum, pid) => sum + Number(stat(pid)[11] ?? 0) + Number(stat(pid)[12] ?? 0), 0);
const rssMb = (pids: number[]) =>
  pids.reduce((sum, pid) => {
    const status = (() => {
      try {
        return Deno.readTextFileSync(`/proc/${pid}/status`);
      } catch {
        return "";
      }
    })();
    return sum + Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
  }, 0);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Waits until the engine's process tree, unchanged, has used 0.5 s of CPU: the query is burning.
 * (Counted in total, not as a rate: on a loaded machine it may get a fraction of a core.)
 */
async function untilBurning(requests: RequestHandler): Promise<number[]> {
  let since = { members: "", ticks: 0 };
  for (let waited = 0; waited < 30_000; waited += 100) {
    const [pid] = requests.enginePids();
    if (pid !== undefined) {
      const tree = processTree(pid);
      const members = tree.join(",");
      if (since.members !== members) since = { members, ticks: cpuTicks(tree) };
      else if (cpuTicks(tree) - since.ticks >= 50) return tree;
    }
    await sleep(100);
  }
  throw new Error("The engine never started burning CPU");
}

for (const boundary of BOUNDARIES) {
  Deno.test(`engine: close() stops a CPU-burning query within 2 s [${boundary.mechanism ?? "no boundary"}]`, async () => {
    const { requests, inline, cleanup } = await setup({ boundary });
    try {
      const burning = inline(CPU_BURN);
      burning.catch(() => {});
      const tree = await untilBurning(requests);
      const started = performance.now();
      await requests.close();
      await assert.rejects(() => burning, /The run ended/);
      assert(performance.now() - started < 2_000, "close() took more than 2 s");
      assertEquals(tree.filter(alive), [], "every process of the engine is gone");
      assertEquals(requests.enginePids(), []);
    } finally {
      await cleanup();
    }
  });
}

Deno.test("engine: dies with the daemon that started it", async () => {
  const script = `
    import { runRequests } from "${new URL("./run_requests.ts", import.meta.url)}";
    import { parseConnections } from "${new URL("./registry.ts", import.meta.url)}";
    import { detectOsBoundary } from "${new URL("../sandbox/os_boundary.ts", import.meta.url)}";
    const scratch = Deno.makeTempDirSync();
    for (const mode of ["off", "auto"]) {
      const requests = runRequests({ declared: [], registry: parseConnections({}), home: scratch,
        scratchDir: scratch, limits: ${
    JSON.stringify(LIMITS)
  }, boundary: await detectOsBoundary(mode) });
      requests.handle("duckdb.query", { inline_path: ":memory:", sql: ${JSON.stringify(CPU_BURN)} })
        .catch(() => {});
      while (requests.enginePids().length === 0) await new Promise((r) => setTimeout(r, 50));
      console.log(requests.enginePids()[0]);
    }
  `;
  // A killed daemon leaves its temporary folders behind: keep them where this test removes them.
  const tmp = await Deno.makeTempDir({ prefix: "tau_engine_daemon_" });
  const daemon = new Deno.Command(Deno.execPath(), {
    args: ["eval", "--config", new URL("../../deno.json", import.meta.url).pathname, script],
    env: { TMPDIR: tmp },
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = daemon.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  while (text.split("\n").length < 3) text += (await reader.read()).value ?? "";
  const trees = text.trim().split("\n").map((pid) => processTree(Number(pid)));
  await sleep(1_000); // both engines are running their query now
  daemon.kill("SIGKILL");
  await daemon.status;
  await reader.cancel();
  for (let waited = 0; waited < 2_000 && trees.flat().some(alive); waited += 100) await sleep(100);
  const survivors = trees.flat().filter(alive);
  for (const pid of survivors) Deno.kill(pid, "SIGKILL");
  await Deno.remove(tmp, { recursive: true });
  assertEquals(survivors, [], "no engine outlives its daemon");
});

Deno.test({
  name: "engine: held to the run's CPU seconds (RLIMIT_CPU)",
  ignore: bubblewrap.prlimit === null,
  fn: async () => {
    const boundary = { ...NO_OS_BOUNDARY, prlimit: bubblewrap.prlimit };
    const { inline, cleanup } = await setup({ boundary, limits: { ...LIMITS, cpu_s: 2 } });
    try {
      await assert.rejects(
        () => inline(CPU_BURN),
        /The DuckDB engine of this run stopped \(killed by SIGXCPU, out of CPU time\)/,
      );
    } finally {
      await cleanup();
    }
  },
});

Deno.test("engine: a memory-hungry aggregate is held to the run's memory, outside the daemon", async () => {
  const memory_mb = 256;
  const { scratch, requests, inline, cleanup } = await setup({ limits: { ...LIMITS, memory_mb } });
  try {
    assertEquals(
      JSON.parse(
        await inline(
          "SELECT current_setting('memory_limit') AS m, current_setting('threads') AS t",
        ),
      ),
      [{ m: "128.0 MiB", t: 1 }],
    );
    const engine = processTree(requests.enginePids()[0]!);
    const rssBefore = Deno.memoryUsage().rss;
    let growth = 0, enginePeak = 0, spilled = false;
    const sampler = setInterval(() => {
      growth = Math.max(growth, Deno.memoryUsage().rss - rssBefore);
      enginePeak = Math.max(enginePeak, rssMb(engine));
      try {
        spilled ||= [...Deno.readDirSync(`${scratch}/.duckdb_tmp`)].length > 0;
      } catch { /* not created yet */ }
    }, 25);
    // 10 million groups of ~50 bytes: far more than 128 MiB in a hash table.
    const result = await inline(
      "SELECT count(*) AS groups FROM (SELECT range % 10000000 AS k, max(repeat('x', 40) || range::VARCHAR) AS s FROM range(20000000) GROUP BY k)",
    ).then((text) => JSON.parse(text), (err: Error) => err);
    clearInterval(sampler);
    if (result instanceof Error) assert(/Out of Memory/i.test(result.message), result.message);
    else {
      assertEquals(result, [{ groups: 10_000_000 }]);
      assert(spilled, "a result within 128 MiB of memory must have spilled to scratch");
    }
    // The engine held DuckDB's memory; this process (shared by every test module under
    // --parallel, so only loosely bounded here: tests/e2e/hostile_daemon_test.ts measures the
    // daemon alone) did not.
    assert(enginePeak > memory_mb / 2, `the engine reached only ${enginePeak} MiB`);
    assert(enginePeak < 2 * memory_mb, `the engine reached ${enginePeak} MiB`);
    assert(growth < 150 * 1024 * 1024, `this process grew by ${growth} bytes`);
  } finally {
    await cleanup();
  }
});

Deno.test("engine: replies are capped in bytes and cursor batches end at their byte budget", async () => {
  const { requests, inline, cleanup } = await setup();
  const wide = "SELECT range AS i, repeat('x', 1000) AS s FROM range(20000)"; // ~20 MB of JSON
  try {
    await assert.rejects(
      () => inline(wide),
      /more than 16 MiB of JSON; read large results with extractStream/,
    );
    const batches = [];
    const { cursor } = JSON.parse(
      await requests.handle("duckdb.cursor_open", { inline_path: ":memory:", sql: wide }),
    );
    for (;;) {
      const text = await requests.handle("duckdb.cursor_next", { cursor, batchSize: 100_000 });
      const { rows, done } = JSON.parse(text);
      batches.push({ bytes: new TextEncoder().encode(JSON.stringify(rows)).length, rows });
      if (done) break;
    }
    assert(batches.length >= 5, `${batches.length} batches`);
    for (const { bytes } of batches) assert(bytes <= 4 * 1024 * 1024, `a batch of ${bytes} bytes`);
    const ids = batches.flatMap((b) => b.rows.map((r: { i: number }) => r.i));
    assertEquals(ids, Array.from({ length: 20_000 }, (_, i) => i));

    // A row wider than the budget travels alone; one wider than a whole reply is refused.
    const { cursor: big } = JSON.parse(
      await requests.handle("duckdb.cursor_open", {
        inline_path: ":memory:",
        sql: "SELECT repeat('y', 5000000) AS s FROM range(3)",
      }),
    );
    const sizes = [];
    for (;;) {
      const { rows, done } = JSON.parse(
        await requests.handle("duckdb.cursor_next", { cursor: big, batchSize: 10 }),
      );
      sizes.push(rows.length);
      if (done) break;
    }
    assertEquals(sizes, [1, 1, 1]);
    const { cursor: huge } = JSON.parse(
      await requests.handle("duckdb.cursor_open", {
        inline_path: ":memory:",
        sql: "SELECT repeat('z', 17000000) AS s",
      }),
    );
    await assert.rejects(
      () => requests.handle("duckdb.cursor_next", { cursor: huge }),
      /larger than 16 MiB of JSON/,
    );
  } finally {
    await cleanup();
  }
});

Deno.test("engine: killed from outside, its pending and later requests fail clearly", async () => {
  const { requests, inline, cleanup } = await setup();
  try {
    const burning = inline(CPU_BURN);
    burning.catch(() => {});
    await untilBurning(requests);
    Deno.kill(requests.enginePids()[0]!, "SIGKILL");
    const stopped = /The DuckDB engine of this run stopped \(killed by SIGKILL\)/;
    await assert.rejects(() => burning, stopped);
    await assert.rejects(() => inline("SELECT 1"), stopped);
    assertEquals(requests.enginePids(), []);
  } finally {
    await cleanup();
  }
});

Deno.test("engine: enginePids() is empty before the first request and after close()", async () => {
  const { requests, inline, cleanup } = await setup();
  try {
    assertEquals(requests.enginePids(), []);
    await assert.rejects(() => requests.handle("duckdb.nope", {}), /Unknown request duckdb.nope/);
    await assert.rejects(
      () => requests.handle("duckdb.query", { inline_path: ":memory:" }),
      /Invalid request duckdb.query: sql: expected string/,
    );
    assertEquals(requests.enginePids(), [], "refused requests start no engine");
    assertEquals(JSON.parse(await inline("SELECT 42 AS x")), [{ x: 42 }]);
    const pids = requests.enginePids();
    assertEquals(pids.length, 1);
    assert(alive(pids[0]!));
    assert(Deno.readTextFileSync(`/proc/${pids[0]}/cmdline`).includes("engine_main.ts"));
    await requests.close();
    assertEquals(requests.enginePids(), []);
    assert(!alive(pids[0]!));
    await assert.rejects(() => inline("SELECT 1"), /The run ended/);
    await requests.close(); // idempotent
  } finally {
    await cleanup();
  }
});

Deno.test({
  name: "engine: inside bubblewrap it sees only its mounts, and the scratch folder at its view",
  ignore: bubblewrap.mechanism === null,
  fn: async () => {
    const home = await Deno.makeTempDir({ prefix: "tau_engine_home_" });
    await Deno.mkdir(`${home}/db`);
    await Deno.mkdir(`${home}/data`);
    await Deno.writeTextFile(`${home}/data/people.csv`, "id,name\n1,ann\n2,bob\n");
    await Deno.writeTextFile(`${home}/api_key`, "secret");
    const { scratch, requests, inline, cleanup } = await setup({
      home,
      declared: ["lake"],
      registry: parseConnections({
        lake: { type: "duckdb", path: "db/lake.duckdb", allowed_directories: ["data"] },
      }),
      boundary: bubblewrap,
      scratchView: "/tau/scratch",
    });
    await Deno.writeTextFile(`${scratch}/x.csv`, "a,b\n1,2\n3,4\n");
    const lake = (sql: string) => requests.handle("duckdb.query", { connection: "lake", sql });
    try {
      const count = "SELECT count(*) AS n FROM read_csv";
      assertEquals(JSON.parse(await lake(`${count}('${home}/data/people.csv')`)), [{ n: 2 }]);
      assertEquals(JSON.parse(await lake(`${count}('x.csv')`)), [{ n: 2 }]);
      assertEquals(JSON.parse(await lake(`${count}('/tau/scratch/x.csv')`)), [{ n: 2 }]);
      await assert.rejects(() => lake("SELECT * FROM read_text('/etc/passwd')"));
      await inline("CREATE TABLE t AS SELECT 1 AS x", "inline.duckdb");
      assert((await Deno.stat(`${scratch}/inline.duckdb`)).isFile, "inline database in scratch");

      // What the engine's own process sees, independent of DuckDB's allowed_directories.
      const [root] = requests.enginePids();
      const deno = processTree(root!).find((pid) =>
        Deno.readTextFileSync(`/proc/${pid}/cmdline`).split("\0")[0] === Deno.execPath()
      );
      const sees = (path: string) => {
        try {
          Deno.statSync(`/proc/${deno}/root${path}`);
          return true;
        } catch {
          return false;
        }
      };
      const own = (path: string) => new URL(path, import.meta.url).pathname;
      for (const path of [`${home}/data/people.csv`, `${home}/db`, "/tau/scratch/x.csv"]) {
        assert(sees(path), `the engine does not see ${path}`);
      }
      assert(sees(own("./engine_main.ts")), "the engine sees its own program");
      for (
        const path of ["/etc/passwd", `${home}/api_key`, `${scratch}/x.csv`, own("../../deno.json")]
      ) {
        assert(!sees(path), `the engine sees ${path}`);
      }
      assertEquals(Deno.readLinkSync(`/proc/${deno}/cwd`), "/tau/scratch");
    } finally {
      await cleanup();
      await Deno.remove(home, { recursive: true });
    }
  },
});
