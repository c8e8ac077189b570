import { assert, assertEquals } from "../../tests/helpers/assert.ts";
import { DEFAULT_LIMITS } from "../sandbox/permissions.ts";
import { NO_OS_BOUNDARY } from "../sandbox/os_boundary.ts";
import type { ChildSpec, RunChild } from "./run_child.ts";
import { type WarmFor, WarmPool, type WarmPoolOptions } from "./warm_pool.ts";

/**
 * The pool's bookkeeping with children that are plain records (the real ones, spawned under the
 * sandbox, are exercised end to end in tests/e2e/warm_pool_test.ts).
 */
function harness(options: Partial<WarmPoolOptions> & { rssMb?: number } = {}) {
  let nextPid = 1000;
  const started: RunChild[] = [];
  const discarded: number[] = [];
  const current = new Map<string, number | null>();
  const pool = new WarmPool({
    budgetMb: 256,
    idleMs: 60_000,
    start: (spec) => {
      const child = {
        dir: `/runs/${nextPid}`,
        spec,
        child: { pid: nextPid++, exited: false },
      } as unknown as RunChild;
      started.push(child);
      return Promise.resolve(child);
    },
    discard: (child) => {
      discarded.push(child.child.pid);
      return Promise.resolve();
    },
    currentVersion: (name) => Promise.resolve(current.has(name) ? current.get(name)! : 1),
    rssKb: () => (options.rssMb ?? 50) * 1024,
    ...options,
  });
  const settle = () => new Promise((resolve) => setTimeout(resolve, 0));
  return { pool, started, discarded, current, settle };
}

function spec(overrides: Partial<ChildSpec> = {}): ChildSpec {
  return {
    entry: "/code/p/v1-h1/entry.ts",
    metadata: { net: ["api.example.com"], secrets: ["TOKEN"] },
    connectionHosts: [],
    secretValues: { TOKEN: "first" },
    daemonPorts: [8400],
    limits: DEFAULT_LIMITS,
    boundary: NO_OS_BOUNDARY,
    ...overrides,
  };
}

const P1 = { pipeline: "p", version: 1 };

/** Two runs of the spec begin (a child is kept only for a spec that runs again soon). */
async function ranTwice(pool: WarmPool, of: WarmFor, s: ChildSpec) {
  assertEquals(await pool.take(of, s), null);
  assertEquals(await pool.take(of, s), null);
}

Deno.test("a child is handed to one run of exactly its spec, never twice", async () => {
  const { pool, started, settle } = harness();
  await ranTwice(pool, P1, spec());
  pool.keep(P1, spec());
  pool.keep(P1, spec()); // one waiting child per spec is enough
  await settle();
  assertEquals(started.length, 1);
  const taken = await pool.take(P1, spec());
  assertEquals(taken, started[0]);
  assertEquals(await pool.take(P1, spec()), null, "a child serves one run only");
  const status = pool.status();
  assertEquals([status.hits, status.misses, status.children.length], [1, 3, 0]);
  await pool.close();
});

for (
  const [change, other] of [
    ["a new secret value", spec({ secretValues: { TOKEN: "second" } })],
    ["a redeploy", spec({ entry: "/code/p/v2-h2/entry.ts" })],
    ["a permission change", spec({ metadata: { net: ["other.example.com"], secrets: ["TOKEN"] } })],
    ["a config change", spec({ limits: { ...DEFAULT_LIMITS, memory_mb: 2048 } })],
    ["another connection host", spec({ connectionHosts: ["db.example.com:5432"] })],
  ] as const
) {
  Deno.test(`after ${change}, the run starts cold and the stale child is discarded`, async () => {
    const { pool, started, discarded, settle } = harness();
    await ranTwice(pool, P1, spec());
    pool.keep(P1, spec());
    await settle();
    assertEquals(await pool.take(P1, other), null);
    await settle();
    assertEquals(discarded, [started[0]!.child.pid]);
    assertEquals(pool.status().children, []);
    await pool.close();
  });
}

Deno.test("the budget holds: the least recently kept child gives way", async () => {
  const { pool, started, discarded, settle } = harness({ budgetMb: 120, rssMb: 50 });
  const specOf = (n: number) => spec({ entry: `/code/p${n}/v1-h/entry.ts` });
  for (const n of [1, 2, 3]) {
    await ranTwice(pool, { pipeline: `p${n}`, version: 1 }, specOf(n));
    pool.keep({ pipeline: `p${n}`, version: 1 }, specOf(n));
    await settle();
  }
  assertEquals(started.length, 3);
  assertEquals(discarded, [started[0]!.child.pid], "two fit in 120 MiB at 50 MiB each");
  assertEquals(pool.status().children.map((c) => c.pipeline), ["p2", "p3"]);
  assertEquals(pool.status().used_mb, 100);
  await pool.close();
  assertEquals(discarded.length, 3, "close discards every idle child");
});

Deno.test("a budget smaller than one child keeps none, and 0 turns the pool off", async () => {
  for (const budgetMb of [10, 0]) {
    const { pool, started } = harness({ budgetMb, rssMb: 50 });
    await ranTwice(pool, P1, spec());
    pool.keep(P1, spec());
    assertEquals(started.length, 0, `budget ${budgetMb} MiB`);
    await pool.close();
  }
});

Deno.test("the sweep drops expired, dead and superseded children", async () => {
  const { pool, started, discarded, current, settle } = harness({ idleMs: 50 });
  await ranTwice(pool, P1, spec());
  pool.keep(P1, spec());
  await ranTwice(pool, { pipeline: "q", version: 3 }, spec({ entry: "/code/q/v3-h/entry.ts" }));
  pool.keep({ pipeline: "q", version: 3 }, spec({ entry: "/code/q/v3-h/entry.ts" }));
  await ranTwice(pool, { pipeline: "r", version: 1 }, spec({ entry: "/code/r/v1-h/entry.ts" }));
  pool.keep({ pipeline: "r", version: 1 }, spec({ entry: "/code/r/v1-h/entry.ts" }));
  await settle();
  current.set("q", 4); // q was redeployed (by this daemon or another)
  (started[2]!.child as unknown as { exited: boolean }).exited = true; // r's child died
  await pool.sweep();
  await settle();
  assertEquals(discarded.sort(), [started[1]!.child.pid, started[2]!.child.pid].sort());
  assertEquals(pool.status().children.map((c) => c.pipeline), ["p"]);
  await new Promise((resolve) => setTimeout(resolve, 60));
  await pool.sweep();
  await settle();
  assertEquals(pool.status().children, [], "idle longer than idleMs");
  assert.ok(discarded.includes(started[0]!.child.pid));
  await pool.close();
});

Deno.test("a child that died while it waited is never handed out", async () => {
  const { pool, started, discarded, settle } = harness();
  await ranTwice(pool, P1, spec());
  pool.keep(P1, spec());
  await settle();
  (started[0]!.child as unknown as { exited: boolean }).exited = true;
  assertEquals(await pool.take(P1, spec()), null);
  await settle();
  assertEquals(discarded, [started[0]!.child.pid]);
  await pool.close();
});

Deno.test("a child that fails to start is reported and forgotten", async () => {
  const errors: unknown[] = [];
  const { pool } = harness({
    start: () => Promise.reject(new Error("disk full")),
    onError: (err) => errors.push(err),
  });
  await ranTwice(pool, P1, spec());
  pool.keep(P1, spec());
  assertEquals(await pool.take(P1, spec()), null);
  assertEquals(errors.map(String), ["Error: disk full"]);
  assertEquals(pool.status().children, []);
  await pool.close();
});

Deno.test("nothing is kept after close", async () => {
  const { pool, started } = harness();
  await ranTwice(pool, P1, spec());
  await pool.close();
  pool.keep(P1, spec());
  assertEquals(started.length, 0);
});

Deno.test("a child is kept only for a spec whose last two runs began within the idle time", async () => {
  const { pool, started } = harness({ idleMs: 40 });
  await pool.take(P1, spec());
  pool.keep(P1, spec());
  assertEquals(started.length, 0, "run once: it may never run again");
  await new Promise((resolve) => setTimeout(resolve, 60));
  await pool.take(P1, spec());
  pool.keep(P1, spec());
  assertEquals(started.length, 0, "runs further apart than a child may wait");
  await pool.take(P1, spec());
  pool.keep(P1, spec());
  assertEquals(started.length, 1, "runs often enough: the next one starts warm");
  await pool.close();
});
