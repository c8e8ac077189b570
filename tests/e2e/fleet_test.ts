/**
 * Production mode for real: several `taud` processes, each with its own TAU_HOME, sharing one
 * PostgreSQL database. The pipeline records every execution in PostgreSQL, so "run once"
 * is counted, not assumed.
 */
import { assert, assertEquals } from "../helpers/assert.ts";
import { cleanEnv, FIXTURES, TAU } from "../helpers/daemon.ts";
import { type Fleet, type FleetDaemon, startFleet, until } from "../helpers/fleet.ts";
import { MIGRATIONS } from "../../src/store/postgres/migrations.ts";

/** Short leases, so a lost worker is noticed within seconds. */
const FAST = '[daemon]\nlease = "3s"\ndrain_grace = "1s"\n';

async function setUp() {
  const table = "executions";
  const fleet = await startFleet();
  await fleet.sql.unsafe(
    `CREATE TABLE ${fleet.schema}.${table} (run_id text, attempt int, started timestamptz)`,
  );
  return { fleet, table: `${fleet.schema}.${table}` };
}

function jobEnv(fleet: Fleet, table: string) {
  return { FLEET_DSN: fleet.url.replace(/\?.*$/, ""), FLEET_TABLE: table };
}

async function deployJob(fleet: Fleet, api: FleetDaemon) {
  const res = await fleet.tau(api, "deploy", `${FIXTURES}fleet_job.ts`);
  assertEquals(res.code, 0, res.stdout);
}

async function apiCall(api: FleetDaemon, method: string, path: string, body?: unknown) {
  const key = (await Deno.readTextFile(`${api.home}/api_key`)).trim();
  const res = await fetch(`http://127.0.0.1:${api.port}/api/v1${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const json = await res.json();
  if (!res.ok) throw new Error(`${method} ${path}: ${JSON.stringify(json)}`);
  return json;
}

async function statusCounts(fleet: Fleet): Promise<Record<string, number>> {
  const rows = await fleet.sql`SELECT status, count(*)::int AS n FROM runs GROUP BY status`;
  return Object.fromEntries(rows.map((r) => [r.status, r.n]));
}

Deno.test("fleet: two workers run 200 queued runs, each exactly once, none lost", async () => {
  const { fleet, table } = await setUp();
  try {
    const api = await fleet.start("api,scheduler");
    const env = jobEnv(fleet, table);
    // Default leases (15 s): two workers of ten slots each saturate this machine's two cores.
    const workers = [await startWorker(fleet, env, ""), await startWorker(fleet, env, "")];
    await deployJob(fleet, api);
    for (let i = 0; i < 200; i++) await apiCall(api, "POST", "/pipelines/fleet_job/runs", {});
    await until("200 finished runs", async () => {
      const counts = await statusCounts(fleet);
      return (counts.success ?? 0) + (counts.failed ?? 0) === 200 ? counts : undefined;
    }, 240_000);
    assertEquals(await statusCounts(fleet), { success: 200 });
    const executions = await fleet.sql.unsafe(
      `SELECT run_id, count(*)::int AS n FROM ${table} GROUP BY run_id`,
    );
    assertEquals(executions.length, 200);
    assert.ok(executions.every((e) => e.n === 1), "a run executed twice");
    const byWorker = await fleet.sql`SELECT worker_id, count(*)::int AS n FROM runs GROUP BY 1`;
    assertEquals(byWorker.length, 2, JSON.stringify(byWorker)); // both workers took a share
    const listed = (await fleet.tau(api, "workers")).json;
    const active = listed.workers.filter((w: { roles: string[]; status: string }) =>
      w.roles.includes("worker") && w.status === "active"
    );
    assertEquals(active.length, 2);
    assert.ok(workers.every((w) => w.pid > 0));
    const status = (await fleet.tau(api, "status")).json;
    assertEquals([status.store, status.roles], ["postgres", ["api", "scheduler"]]);
  } finally {
    await fleet.close();
  }
});

/** A worker whose environment holds the job's secrets, as on a real worker machine. */
function startWorker(fleet: Fleet, env: Record<string, string>, config = FAST) {
  return fleet.start("worker", { config, env });
}

Deno.test("fleet: a worker killed mid-run has its run retried elsewhere within the lease", async () => {
  const { fleet, table } = await setUp();
  try {
    const api = await fleet.start("api,scheduler", { config: FAST });
    const env = jobEnv(fleet, table);
    const first = await startWorker(fleet, env);
    await deployJob(fleet, api);
    const run = await apiCall(api, "POST", "/pipelines/fleet_job/runs", { params: { ms: 4000 } });
    await until("the run to start on the first worker", async () => {
      const [row] = await fleet.sql.unsafe(`SELECT count(*)::int AS n FROM ${table}`);
      return row?.n === 1 ? true : undefined;
    });
    const second = await startWorker(fleet, env);
    first.signal("SIGKILL");
    const killedAt = Date.now();
    const requeued = await until("the run to be taken over", async () => {
      const [row] = await fleet
        .sql`SELECT worker_id, attempt FROM runs WHERE run_id = ${run.run_id}`;
      return row?.worker_id && row.attempt === 2 ? Date.now() : undefined;
    }, 30_000);
    assert.ok(requeued - killedAt < 3_000 + 3_000, `took ${requeued - killedAt} ms`);
    const done = await until("the run to finish", async () => {
      const r = await apiCall(api, "GET", `/runs/${run.run_id}`);
      return r.status === "success" || r.status === "failed" ? r : undefined;
    }, 30_000);
    assertEquals(done.status, "success", JSON.stringify(done.error));
    assertEquals(done.attempts.map((a: { status: string }) => a.status), ["failed", "success"]);
    assertEquals(done.attempts[0].error.kind, "worker_lost");
    const [row] = await fleet.sql`SELECT worker_id FROM runs WHERE run_id = ${run.run_id}`;
    assert.ok(String(row?.worker_id).includes(String(second.pid)), row?.worker_id);
    const executions = await fleet.sql.unsafe(
      `SELECT attempt FROM ${table} WHERE run_id = $1 ORDER BY attempt`,
      [run.run_id],
    );
    assertEquals(executions.map((e) => e.attempt), [1, 2]);
  } finally {
    await fleet.close();
  }
});

Deno.test("fleet: without retries a lost run fails as worker_lost, never stuck running", async () => {
  const { fleet, table } = await setUp();
  try {
    const api = await fleet.start("api,scheduler", { config: FAST });
    const worker = await startWorker(fleet, jobEnv(fleet, table));
    const res = await fleet.tau(api, "deploy", `${FIXTURES}sleepy.ts`);
    assertEquals(res.code, 0, res.stdout);
    const run = await apiCall(api, "POST", "/pipelines/sleepy/runs", {});
    await until("the run to start", async () => {
      const r = await apiCall(api, "GET", `/runs/${run.run_id}`);
      return r.status === "running" && r.attempt === 1 ? true : undefined;
    });
    worker.signal("SIGKILL");
    const done = await until("the lost run to fail", async () => {
      const r = await apiCall(api, "GET", `/runs/${run.run_id}`);
      return r.status === "failed" ? r : undefined;
    }, 20_000);
    assertEquals(done.error.kind, "worker_lost");
  } finally {
    await fleet.close();
  }
});

Deno.test("fleet: killing the scheduler's holder hands over without a duplicate tick", async () => {
  const { fleet } = await setUp();
  try {
    const holder = await fleet.start("scheduler,worker");
    await until("the first daemon to hold the scheduler lease", async () => {
      const [row] = await fleet.sql`SELECT holder FROM leases WHERE name = 'scheduler'`;
      return row?.holder?.includes(String(holder.pid)) ? true : undefined;
    });
    const api = await fleet.start("api,scheduler,worker");
    const res = await fleet.tau(api, "deploy", `${FIXTURES}fleet_tick.ts`);
    assertEquals(res.code, 0, res.stdout);
    await until("a few ticks", async () => {
      const [row] = await fleet.sql`SELECT count(*)::int AS n FROM ticks`;
      return row!.n >= 3 ? true : undefined;
    }, 20_000);
    holder.signal("SIGKILL");
    const killedAt = new Date();
    await until("the other daemon to take the lease and tick", async () => {
      const [row] = await fleet.sql`SELECT count(*)::int AS n FROM ticks
        WHERE recorded_at > ${new Date(killedAt.getTime() + 500).toISOString()}`;
      return row!.n >= 3 ? true : undefined;
    }, 30_000);
    const [lease] = await fleet.sql`SELECT holder FROM leases WHERE name = 'scheduler'`;
    assert.ok(lease?.holder.includes(String(api.pid)), lease?.holder);
    const duplicates = await fleet.sql`SELECT scheduled_at FROM runs WHERE trigger = 'schedule'
      GROUP BY scheduled_at HAVING count(*) > 1`;
    assertEquals(duplicates.length, 0);
  } finally {
    await fleet.close();
  }
});

Deno.test("fleet: three daemons starting at once on an empty database migrate once", async () => {
  const { fleet } = await setUp();
  try {
    const daemons = await Promise.all([
      fleet.start("api"),
      fleet.start("worker"),
      fleet.start("scheduler"),
    ]);
    assertEquals(daemons.length, 3);
    const rows = await fleet.sql`SELECT version FROM schema_migrations ORDER BY version`;
    // Each migration exactly once: no duplicate, none missing.
    assertEquals(rows.map((r) => r.version), MIGRATIONS.map((m) => m.version));
  } finally {
    await fleet.close();
  }
});

Deno.test("fleet: SIGTERM drains a worker: a short run finishes, a long one goes back", async () => {
  const { fleet, table } = await setUp();
  try {
    const api = await fleet.start("api,scheduler", { config: FAST });
    const env = jobEnv(fleet, table);
    const draining = await startWorker(fleet, env, '[daemon]\nlease = "3s"\ndrain_grace = "3s"\n');
    await deployJob(fleet, api);
    const short = await apiCall(api, "POST", "/pipelines/fleet_job/runs", { params: { ms: 1500 } });
    const long = await apiCall(api, "POST", "/pipelines/fleet_job/runs", { params: { ms: 9000 } });
    await until("both runs to start", async () => {
      const [row] = await fleet.sql.unsafe(`SELECT count(*)::int AS n FROM ${table}`);
      return row?.n === 2 ? true : undefined;
    });
    draining.signal("SIGTERM");
    // Queued after the SIGTERM: a draining worker claims nothing more.
    const late = await apiCall(api, "POST", "/pipelines/fleet_job/runs", {});
    assertEquals((await draining.exited).code, 0);
    const shortRun = await apiCall(api, "GET", `/runs/${short.run_id}`);
    assertEquals(shortRun.status, "success", JSON.stringify(shortRun.error));
    const back = await apiCall(api, "GET", `/runs/${long.run_id}`);
    assertEquals([back.status, back.worker_id], ["queued", null]);
    assertEquals(back.attempts[0].error.kind, "worker_stopped");
    assertEquals((await apiCall(api, "GET", `/runs/${late.run_id}`)).status, "queued");
    await startWorker(fleet, env);
    for (const run of [long, late]) {
      const done = await until("the waiting runs to finish elsewhere", async () => {
        const r = await apiCall(api, "GET", `/runs/${run.run_id}`);
        return r.status === "success" || r.status === "failed" ? r : undefined;
      }, 30_000);
      assertEquals(done.status, "success", JSON.stringify(done.error));
    }
    const workers = (await fleet.tau(api, "workers")).json.workers;
    assert.ok(
      workers.some((w: { pid: number; status: string }) =>
        w.pid === draining.pid && w.status === "stopped"
      ),
      JSON.stringify(workers),
    );
  } finally {
    await fleet.close();
  }
});

Deno.test("fleet: the remote CLI waits for a run a worker executes and follows its logs", async () => {
  const { fleet, table } = await setUp();
  try {
    const api = await fleet.start("api,scheduler");
    await startWorker(fleet, jobEnv(fleet, table), "");
    await deployJob(fleet, api);
    // `tau run` through TAU_HOST/TAU_API_KEY returns as soon as another process finishes it.
    const started = Date.now();
    const ran = await fleet.tau(api, "run", "fleet_job");
    assertEquals(ran.json.status, "success", ran.stdout);
    assert.ok(Date.now() - started < 20_000, `tau run took ${Date.now() - started} ms`);
    const queued = await fleet.tau(
      api,
      "run",
      "fleet_job",
      "--no-wait",
      "--params",
      JSON.stringify({ ms: 1500 }),
    );
    const followed = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", TAU, "logs", "fleet_job", "--run", queued.json.run_id, "--follow"],
      clearEnv: true,
      env: cleanEnv({
        TAU_HOST: `http://127.0.0.1:${api.port}`,
        TAU_API_KEY: (await Deno.readTextFile(`${api.home}/api_key`)).trim(),
      }),
      stdout: "piped",
    }).output();
    assertEquals(followed.code, 0);
    const lines = new TextDecoder().decode(followed.stdout).trim().split("\n");
    const messages = lines.slice(0, -1).map((l) => JSON.parse(l).message);
    assertEquals(messages, ["started attempt 1", "done"]);
    const summary = JSON.parse(lines.at(-1)!);
    assertEquals([summary.status, summary.lines], ["success", 2]);
  } finally {
    await fleet.close();
  }
});
