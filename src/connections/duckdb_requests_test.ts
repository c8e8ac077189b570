import { assert, assertEquals } from "../../tests/helpers/assert.ts";
import { type RequestHandler, runRequests, type RunRequestsOptions } from "./run_requests.ts";
import { type Connection, parseConnections } from "./registry.ts";
import { NO_OS_BOUNDARY } from "../sandbox/os_boundary.ts";
import { inferColumns } from "../../sdk/connectors/_columns.ts";
import { LoadStager } from "../../sdk/connectors/_duckdb_load.ts";

const LIMITS = { memory_mb: 1024, cpu_s: 600, threads: 64, timeout_ms: 600_000 };

/** A handler as a run gets it, with no OS boundary (bubblewrap has its own test). */
function handlerFor(
  declared: string[],
  registry: Map<string, Connection>,
  home: string,
  scratchDir: string,
  options: Partial<RunRequestsOptions> = {},
): RequestHandler {
  return runRequests({
    declared,
    registry,
    home,
    scratchDir,
    limits: LIMITS,
    boundary: NO_OS_BOUNDARY,
    ...options,
  });
}

/** Sends a request and parses its reply, as the run's channel does. */
async function ask(requests: RequestHandler, op: string, payload: Record<string, unknown>) {
  return JSON.parse(await requests.handle(op, payload));
}

async function setup() {
  const home = await Deno.makeTempDir({ prefix: "tau_duck_" });
  const scratch = await Deno.makeTempDir({ prefix: "tau_duck_scratch_" });
  await Deno.mkdir(`${home}/data`);
  await Deno.writeTextFile(`${home}/data/people.csv`, "id,name\n1,ann\n2,bob\n");
  const registry = parseConnections({
    lake: { type: "duckdb", path: "lake.duckdb", allowed_directories: ["data"] },
  });
  const requests = handlerFor(["lake"], registry, home, scratch);
  const call: Call = (op: string, payload: Record<string, unknown>) =>
    ask(requests, op, { connection: "lake", ...payload });
  call.scratch = scratch;
  const cleanup = async () => {
    await requests.close();
    await Deno.remove(home, { recursive: true });
    await Deno.remove(scratch, { recursive: true });
  };
  return { home, scratch, call, cleanup, requests };
}

/** A request to the run's session, and the run's scratch folder (where loads stage rows). */
type Call = ((op: string, p: Record<string, unknown>) => Promise<unknown>) & { scratch?: string };

/** Loads batches as the connector does: each staged as a file in scratch, then inserted. */
async function load(
  call: Call,
  table: string,
  batches: Record<string, unknown>[][],
  options: Record<string, unknown> = {},
) {
  const begun = await call("duckdb.load_begin", {
    table,
    columns: inferColumns(batches[0] ?? []),
    ...options,
  }) as { load: number } | { refused: { message: string } };
  if ("refused" in begun) throw new Error(begun.refused.message);
  const { load } = begun;
  const stager = new LoadStager(load, call.scratch!);
  for (const rows of batches) {
    for (const text of stager.texts(rows)) {
      await call("duckdb.load_file", { load, file: await stager.write(text) });
    }
  }
  return await call("duckdb.load_commit", { load }) as { rows: number };
}

Deno.test("duckdb: locked down to its allowed directories", async () => {
  const { home, call, cleanup } = await setup();
  try {
    const ok = await call("duckdb.query", {
      sql: `SELECT count(*) AS n FROM read_csv('${home}/data/people.csv')`,
    });
    assertEquals(ok, [{ n: 2 }]);
    for (
      const sql of [
        "SELECT * FROM read_csv('/etc/passwd')",
        `SELECT * FROM read_text('${home}/api_key')`,
        "COPY (SELECT 1) TO '/tmp/tau_duck_escape.csv'",
        "ATTACH '/tmp/tau_duck_evil.db' AS evil",
        "INSTALL httpfs",
        "LOAD httpfs",
        "SET enable_external_access = true",
        "SET allowed_directories = ['/']",
      ]
    ) {
      await assert.rejects(() => call("duckdb.query", { sql }), Error, sql);
    }
    await assert.rejects(() => Deno.stat("/tmp/tau_duck_escape.csv"));
  } finally {
    await cleanup();
  }
});

Deno.test("duckdb: a named connection must be declared", async () => {
  const { home, scratch, cleanup } = await setup();
  const registry = parseConnections({ lake: { type: "duckdb", path: "lake.duckdb" } });
  const requests = handlerFor([], registry, home, scratch);
  try {
    await assert.rejects(
      () => requests.handle("duckdb.query", { connection: "lake", sql: "SELECT 1" }),
      /not declared/,
    );
    await assert.rejects(
      () => requests.handle("duckdb.query", { inline_path: "../../escape.db", sql: "SELECT 1" }),
      /scratch folder/,
    );
  } finally {
    await requests.close();
    await cleanup();
  }
});

Deno.test("duckdb: append, replace and upsert with inferred types", async () => {
  const { call, cleanup } = await setup();
  try {
    const rows = [
      {
        id: 1,
        name: "a",
        score: 1.5,
        ok: true,
        day: "2026-01-02",
        at: "2026-01-02T03:04:05Z",
        tags: { x: 1 },
      },
      {
        id: 2,
        name: "b",
        score: 2,
        ok: false,
        day: "2026-01-03",
        at: "2026-01-03T03:04:05Z",
        tags: null,
      },
    ];
    assertEquals((await load(call, "raw.items", [rows])).rows, 2);
    const types = await call("duckdb.query", {
      sql:
        "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = 'items' ORDER BY ordinal_position",
    }) as { column_name: string; data_type: string }[];
    assertEquals(types.map((t) => t.data_type), [
      "BIGINT",
      "VARCHAR",
      "DOUBLE",
      "BOOLEAN",
      "DATE",
      "TIMESTAMP WITH TIME ZONE",
      "JSON",
    ]);
    await load(call, "raw.items", [[{ id: 3, name: "c" }]]);
    assertEquals(await call("duckdb.query", { sql: "SELECT count(*) AS n FROM raw.items" }), [{
      n: 3,
    }]);

    await load(call, "raw.items", [[{ id: 2, name: "B" }, { id: 4, name: "d" }]], {
      mode: "upsert",
      mergeKey: ["id"],
    });
    assertEquals(
      await call("duckdb.query", { sql: "SELECT id, name FROM raw.items ORDER BY id" }),
      [{ id: 1, name: "a" }, { id: 2, name: "B" }, { id: 3, name: "c" }, { id: 4, name: "d" }],
    );

    await load(call, "raw.items", [[{ id: 9, name: "only" }]], { mode: "replace" });
    assertEquals(await call("duckdb.query", { sql: "SELECT id, name FROM raw.items" }), [{
      id: 9,
      name: "only",
    }]);
  } finally {
    await cleanup();
  }
});

Deno.test("duckdb: upsert refuses duplicate keys and a failed load leaves the table unchanged", async () => {
  const { call, cleanup } = await setup();
  try {
    await load(call, "t", [[{ id: 1, v: "x" }]]);
    await assert.rejects(
      () =>
        load(call, "t", [[{ id: 5, v: "a" }, { id: 5, v: "b" }]], {
          mode: "upsert",
          mergeKey: "id",
        }),
      /id=5/,
    );
    await assert.rejects(
      () => load(call, "t", [[{ id: null, v: "n" }]], { mode: "upsert", mergeKey: "id" }),
      /NULL in id/,
    );
    await assert.rejects(
      () => load(call, "t", [[{ id: 2, v: "y" }], [{ id: "not a number", v: "z" }]]),
      Error,
      'Conversion Error: row 1 of the load: Failed to cast value to numerical: "not a number"',
    );
    await assert.rejects(() =>
      load(call, "t", [[{ id: 3, v: "y" }], [{ id: "bad", v: "z" }]], { mode: "replace" })
    );
    assertEquals(await call("duckdb.query", { sql: "SELECT id, v FROM t" }), [{ id: 1, v: "x" }]);
  } finally {
    await cleanup();
  }
});

Deno.test("duckdb: staged rows keep every value, and the files are only the load's", async () => {
  const { call, cleanup, requests } = await setup();
  try {
    const text = 'a,"b"\nc\r\nd \u0000 é 😀 \\N';
    const rows = [
      { id: 1, s: text, n: 0.1 + 0.2, big: 2n ** 63n - 1n, obj: { x: [1, "y"] }, ts: new Date(0) },
      { id: 2, s: "", n: 5e-324, big: null, obj: null, ts: null },
      { id: 3, s: null, n: -0, big: -(2n ** 62n), obj: [null], ts: "1999-12-31T23:00:00-01:00" },
    ];
    await call("duckdb.execute", {
      sql:
        "CREATE TABLE kinds (id BIGINT, s VARCHAR, n DOUBLE, big HUGEINT, obj JSON, ts TIMESTAMPTZ)",
    });
    assertEquals((await load(call, "kinds", [rows])).rows, 3);
    const back = await call("duckdb.query", {
      sql: "SELECT id, s, n, big::VARCHAR AS big, obj::VARCHAR AS obj, " +
        "epoch_ms(ts) AS ts FROM kinds ORDER BY id",
    });
    assertEquals(back, [
      { id: 1, s: text, n: 0.1 + 0.2, big: String(2n ** 63n - 1n), obj: '{"x":[1,"y"]}', ts: 0 },
      { id: 2, s: "", n: 5e-324, big: null, obj: null, ts: null },
      { id: 3, s: null, n: 0, big: String(-(2n ** 62n)), obj: "[null]", ts: 946684800000 },
    ]);
    // Only a bare name in the load folder is read; the engine never sees another path.
    const begun = await call("duckdb.load_begin", {
      table: "kinds",
      columns: inferColumns([{ id: 1 }]),
    }) as { load: number };
    for (const file of ["../people.csv", "/etc/passwd", "1_1.csv", "x_1.json"]) {
      await assert.rejects(
        () => requests.handle("duckdb.load_file", { connection: "lake", load: begun.load, file }),
        Error,
        "file: expected a staged load file name",
      );
    }
  } finally {
    await cleanup();
  }
});

Deno.test("duckdb: 100k rows in batches, streamed back in batches", async () => {
  const { call, cleanup } = await setup();
  try {
    const batches = Array.from(
      { length: 20 },
      (_, b) => Array.from({ length: 5_000 }, (_, i) => ({ id: b * 5_000 + i, name: `row ${i}` })),
    );
    assertEquals((await load(call, "big", batches)).rows, 100_000);
    const { cursor } = await call("duckdb.cursor_open", {
      sql: "SELECT * FROM big ORDER BY id",
    }) as { cursor: number };
    let total = 0;
    let sizes = new Set<number>();
    for (;;) {
      const { rows, done } = await call("duckdb.cursor_next", { cursor, batchSize: 30_000 }) as {
        rows: unknown[];
        done: boolean;
      };
      total += rows.length;
      sizes.add(rows.length);
      if (done) break;
    }
    assertEquals(total, 100_000);
    sizes = new Set([...sizes].filter((s) => s !== 10_000));
    assertEquals([...sizes], [30_000]);
  } finally {
    await cleanup();
  }
});

Deno.test("duckdb: one query cannot return an unbounded result into the daemon", async () => {
  const { call, cleanup } = await setup();
  try {
    // Narrow rows reach the row cap first; wider ones (`{"range":1234567}`) the byte cap.
    await assert.rejects(
      () => call("duckdb.query", { sql: "SELECT 1 AS x FROM range(2000000)" }),
      /more than 1000000 rows; read large results with extractStream/,
    );
    await assert.rejects(
      () => call("duckdb.query", { sql: "SELECT * FROM range(2000000)" }),
      /more than 16 MiB of JSON; read large results with extractStream/,
    );
    assertEquals(await call("duckdb.query", { sql: "SELECT current_setting('threads') AS t" }), [{
      t: 2,
    }]);
  } finally {
    await cleanup();
  }
});

Deno.test("duckdb: one database file serves one run at a time", async () => {
  const { home, scratch, cleanup } = await setup();
  const registry = parseConnections({ lake: { type: "duckdb", path: "shared.duckdb" } });
  const first = handlerFor(["lake"], registry, home, scratch);
  const second = handlerFor(["lake"], registry, home, scratch);
  try {
    await ask(first, "duckdb.query", {
      connection: "lake",
      sql: "CREATE TABLE t AS SELECT 1 AS x",
    });
    let secondDone = false;
    const waiting = ask(second, "duckdb.query", {
      connection: "lake",
      sql: "SELECT count(*) AS n FROM t",
    })
      .then((rows) => {
        secondDone = true;
        return rows;
      });
    await new Promise((r) => setTimeout(r, 100));
    assertEquals(secondDone, false);
    assertEquals(second.enginePids(), [], "the waiting run has not even started its engine");
    await first.close();
    assertEquals(await waiting, [{ n: 1 }]);
  } finally {
    await second.close();
    await cleanup();
  }
});
