import { assert, assertEquals, assertMatch } from "../../tests/helpers/assert.ts";
import { clickhouse } from "./clickhouse.ts";
import { type Seen, standIn } from "../../tests/helpers/http_standin.ts";
import { SchemaChangeError } from "./_schema.ts";
import { ConnectorError } from "./types.ts";

const PASSWORD = "s3cr3t-pw";
const OUTPUT = {
  database: "analytics",
  default_format: "JSONCompactEachRowWithNamesAndTypes",
  date_time_output_format: "iso",
  output_format_json_quote_decimals: "1",
};
const INSERT = {
  database: "analytics",
  date_time_input_format: "best_effort",
  input_format_skip_unknown_fields: "0",
};

/** A result body in the format the connector asks for. */
function result(names: string[], types: string[], rows: unknown[][]): string {
  return [names, types, ...rows].map((line) => JSON.stringify(line)).join("\n") + "\n";
}

/** Answers statements with an empty body, and SELECTs with `select(sql)`. */
function server(select: (sql: string) => string | Response = () => result([], [], [])) {
  return standIn((seen) => {
    if (seen.query.query?.startsWith("INSERT")) return new Response("");
    if (/^\s*SELECT/i.test(seen.body)) {
      const answer = select(seen.body);
      return answer instanceof Response ? answer : new Response(answer);
    }
    return new Response("");
  });
}

function connect(url: string) {
  return clickhouse({ url, user: "etl", password: PASSWORD, database: "analytics", name: "ch" });
}

/** Requests as (kind, SQL) pairs: statements carry SQL in the body, inserts in `query`. */
function statements(requests: Seen[]): string[] {
  return requests.map((r) => r.query.query ? `${r.query.query}\n${r.body}` : r.body);
}

function assertAuth(seen: Seen) {
  assertEquals(seen.method, "POST");
  assertEquals(seen.path, "/");
  assertEquals(seen.headers["x-clickhouse-user"], "etl");
  assertEquals(seen.headers["x-clickhouse-key"], PASSWORD);
  assert(!seen.url.includes(PASSWORD), "password must not be in the URL");
  assert(!seen.url.includes("etl@"), "user must not be in the URL");
}

Deno.test("clickhouse extract: positional params as {pN:Type} query parameters, typed results", async () => {
  const srv = server(() =>
    result(
      ["id", "big", "price", "at", "tags", "ok", "label"],
      [
        "Nullable(Int64)",
        "UInt64",
        "Decimal(18, 2)",
        "DateTime64(6, 'UTC')",
        "Array(Int64)",
        "Bool",
        "LowCardinality(Nullable(String))",
      ],
      [
        [
          "42",
          "18446744073709551615",
          "12.50",
          "2024-05-01T10:00:00.123456Z",
          ["1", "2"],
          true,
          "x",
        ],
        [null, "7", "0.00", "2024-05-02T00:00:00.000000Z", [], false, null],
      ],
    )
  );
  try {
    await using ch = connect(srv.url);
    const rows = await ch.extract({
      query:
        "SELECT * FROM t WHERE a = {p1:String} AND b = {p2:Nullable(Int64)} AND c IN {p3:Array(String)} AND d = {p4:DateTime64(3)} AND e = {p5:Bool}",
      params: [
        "tab\there\\ and\nnewline",
        null,
        ["x", "it's"],
        new Date("2024-05-01T10:00:00Z"),
        true,
      ],
    });
    assertEquals(rows, [
      {
        id: 42,
        big: "18446744073709551615",
        price: "12.50",
        at: "2024-05-01T10:00:00.123456Z",
        tags: [1, 2],
        ok: true,
        label: "x",
      },
      {
        id: null,
        big: 7,
        price: "0.00",
        at: "2024-05-02T00:00:00.000000Z",
        tags: [],
        ok: false,
        label: null,
      },
    ]);
    assertEquals(srv.requests.length, 1);
    const [seen] = srv.requests as [Seen];
    assertAuth(seen);
    assertEquals(
      seen.body,
      "SELECT * FROM t WHERE a = {p1:String} AND b = {p2:Nullable(Int64)} AND c IN {p3:Array(String)} AND d = {p4:DateTime64(3)} AND e = {p5:Bool}",
    );
    assertEquals(seen.query, {
      ...OUTPUT,
      param_p1: "tab\\there\\\\ and\\nnewline",
      param_p2: "\\N",
      param_p3: "['x','it\\'s']",
      param_p4: "2024-05-01T10:00:00.000Z",
      param_p5: "true",
    });
  } finally {
    await srv.close();
  }
});

Deno.test("clickhouse extract: named params object binds {name:Type}", async () => {
  const srv = server(() => result(["n"], ["UInt8"], [[1]]));
  try {
    await using ch = connect(srv.url);
    const rows = await ch.extract({
      query: "SELECT 1 AS n WHERE {day:Date} > {min:UInt32}",
      params: { day: "2024-05-01", min: 3 },
    });
    assertEquals(rows, [{ n: 1 }]);
    assertEquals(srv.requests[0]?.query, { ...OUTPUT, param_day: "2024-05-01", param_min: "3" });
    let error: unknown;
    try {
      await ch.extract({ query: "SELECT 1", params: { "bad name": 1 } });
    } catch (e) {
      error = e;
    }
    assert(error instanceof ConnectorError);
    assertEquals(srv.requests.length, 1, "an invalid name is refused before any request");
  } finally {
    await srv.close();
  }
});

Deno.test("clickhouse extractStream: reads the body line by line in batches", async () => {
  const body = result(["i"], ["Int64"], [["1"], ["2"], ["3"], ["4"], ["5"]]);
  // Chunks that cut lines (and a UTF-8 header) in the middle.
  const chunks = body.match(/.{1,7}/gs) ?? [];
  const srv = standIn(() =>
    new Response(
      new ReadableStream({
        start(controller) {
          for (const chunk of chunks) controller.enqueue(new TextEncoder().encode(chunk));
          controller.close();
        },
      }),
    )
  );
  try {
    await using ch = connect(srv.url);
    const batches: unknown[][] = [];
    for await (const batch of ch.extractStream({ query: "SELECT i FROM t", batchSize: 2 })) {
      batches.push(batch);
    }
    assertEquals(batches, [[{ i: 1 }, { i: 2 }], [{ i: 3 }, { i: 4 }], [{ i: 5 }]]);
    assertEquals(
      srv.requests[0]?.query,
      OUTPUT,
      "streaming does not wait for the end of the query",
    );
  } finally {
    await srv.close();
  }
});

Deno.test("clickhouse extractStream: stopping early cancels the response body", async () => {
  let cancelled = false;
  let sent = 0;
  const srv = standIn(() =>
    new Response(
      new ReadableStream({
        start(controller) {
          controller.enqueue(new TextEncoder().encode('["i"]\n["Int64"]\n'));
        },
        pull(controller) {
          sent++;
          controller.enqueue(new TextEncoder().encode(`["${sent}"]\n`));
          return new Promise((resolve) => setTimeout(resolve, 5));
        },
        cancel() {
          cancelled = true;
        },
      }),
    )
  );
  try {
    await using ch = connect(srv.url);
    for await (
      const batch of ch.extractStream({ query: "SELECT i FROM numbers(1e12)", batchSize: 3 })
    ) {
      assertEquals(batch, [{ i: 1 }, { i: 2 }, { i: 3 }]);
      break;
    }
    for (let i = 0; i < 100 && !cancelled; i++) await new Promise((r) => setTimeout(r, 10));
    assert(cancelled, "the server's stream was cancelled");
    assert(sent < 50, `the body stopped being read (sent ${sent})`);
  } finally {
    await srv.close();
  }
});

Deno.test("clickhouse errors: HTTP errors and mid-stream exceptions carry the server's message", async () => {
  const srv = standIn((seen) => {
    if (seen.body.includes("nope")) {
      return new Response(
        "Code: 60. DB::Exception: Table analytics.nope does not exist. (UNKNOWN_TABLE) (version 24.3.1.1)\n",
        { status: 404, headers: { "X-ClickHouse-Exception-Code": "60" } },
      );
    }
    return new Response(
      '["i"]\n["Int64"]\n["1"]\nCode: 241. DB::Exception: Memory limit (total) exceeded. (MEMORY_LIMIT_EXCEEDED)\n',
    );
  });
  try {
    await using ch = connect(srv.url);
    const failure = async (run: () => Promise<unknown>) => {
      try {
        await run();
      } catch (error) {
        assert(error instanceof ConnectorError, `not a ConnectorError: ${error}`);
        assert(!error.message.includes(PASSWORD));
        return error.message;
      }
      throw new Error("expected a failure");
    };
    assertEquals(
      await failure(() => ch.extract({ query: "SELECT * FROM nope" })),
      "ch: ClickHouse error (HTTP 404): Code: 60. DB::Exception: Table analytics.nope does not exist. (UNKNOWN_TABLE) (version 24.3.1.1)",
    );
    assertEquals(
      await failure(() => ch.extract({ query: "SELECT * FROM big" })),
      "ch: ClickHouse error: Code: 241. DB::Exception: Memory limit (total) exceeded. (MEMORY_LIMIT_EXCEEDED)",
    );
    assertEquals(
      await failure(() => ch.execute("DROP TABLE nope")),
      "ch: ClickHouse error (HTTP 404): Code: 60. DB::Exception: Table analytics.nope does not exist. (UNKNOWN_TABLE) (version 24.3.1.1)",
    );
  } finally {
    await srv.close();
  }
});

Deno.test("clickhouse options: credentials in the url are refused without echoing them", () => {
  let error: unknown;
  try {
    clickhouse({ url: `http://etl:${PASSWORD}@ch.internal:8123` });
  } catch (e) {
    error = e;
  }
  assert(error instanceof ConnectorError);
  assertMatch(error.message, /must not contain credentials/);
  assert(!error.message.includes(PASSWORD));
});

const ROWS = [
  {
    id: 1,
    name: "a",
    at: new Date("2024-05-01T00:00:00Z"),
    meta: { k: [1] },
    ok: true,
    score: 1.5,
  },
  { id: 2, name: "b\nc", at: new Date("2024-05-02T00:00:00Z"), meta: null, ok: false, score: 2 },
  {
    id: 3,
    name: null,
    at: new Date("2024-05-03T00:00:00Z"),
    meta: { k: [] },
    ok: true,
    score: 0.25,
  },
];
const CREATE_COLUMNS = "(`id` Nullable(Int64), `name` Nullable(String), " +
  "`at` Nullable(DateTime64(6, 'UTC')), `meta` Nullable(String), `ok` Nullable(Bool), " +
  "`score` Nullable(Float64)) ENGINE = MergeTree ORDER BY tuple()";
const LINES = [
  '{"id":1,"name":"a","at":"2024-05-01T00:00:00.000Z","meta":"{\\"k\\":[1]}","ok":true,"score":1.5}',
  '{"id":2,"name":"b\\nc","at":"2024-05-02T00:00:00.000Z","meta":null,"ok":false,"score":2}',
  '{"id":3,"name":null,"at":"2024-05-03T00:00:00.000Z","meta":"{\\"k\\":[]}","ok":true,"score":0.25}',
];

Deno.test("clickhouse load append: stage, then one INSERT … SELECT into the target", async () => {
  const srv = server();
  try {
    await using ch = connect(srv.url);
    assertEquals((await ch.load(ROWS, { table: "raw.events", batchSize: 2 })).rows, 3);
    assertEquals(statements(srv.requests), [
      "SELECT name, type FROM system.columns WHERE database = 'raw' AND table = 'events' ORDER BY position",
      `CREATE TABLE IF NOT EXISTS \`raw\`.\`events\` ${CREATE_COLUMNS}`,
      "DROP TABLE IF EXISTS `raw`.`events__tau_stage`",
      "CREATE TABLE `raw`.`events__tau_stage` AS `raw`.`events` ENGINE = MergeTree ORDER BY tuple()",
      `INSERT INTO \`raw\`.\`events__tau_stage\` FORMAT JSONEachRow\n${LINES[0]}\n${LINES[1]}\n`,
      `INSERT INTO \`raw\`.\`events__tau_stage\` FORMAT JSONEachRow\n${LINES[2]}\n`,
      "INSERT INTO `raw`.`events` SELECT * FROM `raw`.`events__tau_stage`",
      "DROP TABLE IF EXISTS `raw`.`events__tau_stage`",
    ]);
    for (const seen of srv.requests) assertAuth(seen);
    const statementQuery = { ...OUTPUT, wait_end_of_query: "1" };
    assertEquals(srv.requests[1]?.query, statementQuery); // [0] reads the target's columns
    assertEquals(srv.requests[4]?.query, {
      ...INSERT,
      query: "INSERT INTO `raw`.`events__tau_stage` FORMAT JSONEachRow",
    });
  } finally {
    await srv.close();
  }
});

Deno.test("clickhouse load: a failure while inserting leaves the target untouched", async () => {
  let inserts = 0;
  const srv = standIn((seen) => {
    if (seen.query.query?.startsWith("INSERT") && ++inserts === 2) {
      return new Response(
        "Code: 27. DB::Exception: Cannot parse input. (CANNOT_PARSE_INPUT_ASSERTION_FAILED)",
        {
          status: 400,
        },
      );
    }
    return new Response("");
  });
  try {
    await using ch = connect(srv.url);
    let error: unknown;
    try {
      await ch.load(ROWS, { table: "events", batchSize: 2 });
    } catch (e) {
      error = e;
    }
    assert(error instanceof ConnectorError);
    assertMatch(error.message, /CANNOT_PARSE_INPUT/);
    const sql = statements(srv.requests);
    assert(!sql.some((s) => s.startsWith("INSERT INTO `events` ")), "target never written");
    assertEquals(sql.at(-1), "DROP TABLE IF EXISTS `events__tau_stage`");
  } finally {
    await srv.close();
  }
});

Deno.test("clickhouse load replace: build t__tau_new, EXCHANGE TABLES, drop the old rows", async () => {
  const srv = server();
  try {
    await using ch = connect(srv.url);
    assertEquals((await ch.load(ROWS.slice(0, 1), { table: "events", mode: "replace" })).rows, 1);
    assertEquals(statements(srv.requests), [
      "SELECT name, type FROM system.columns WHERE database = currentDatabase() AND table = 'events' ORDER BY position",
      "DROP TABLE IF EXISTS `events__tau_new`",
      `CREATE TABLE IF NOT EXISTS \`events__tau_new\` ${CREATE_COLUMNS}`,
      `INSERT INTO \`events__tau_new\` FORMAT JSONEachRow\n${LINES[0]}\n`,
      `CREATE TABLE IF NOT EXISTS \`events\` ${CREATE_COLUMNS}`,
      "EXCHANGE TABLES `events` AND `events__tau_new`",
      "DROP TABLE IF EXISTS `events__tau_new`",
    ]);
  } finally {
    await srv.close();
  }
});

Deno.test("clickhouse load replace with no rows empties the table", async () => {
  const srv = server();
  try {
    await using ch = connect(srv.url);
    assertEquals((await ch.load([], { table: "events", mode: "replace" })).rows, 0);
    assertEquals((await ch.load([], { table: "events", mode: "append" })).rows, 0);
    assertEquals(statements(srv.requests), ["TRUNCATE TABLE IF EXISTS `events`"]);
  } finally {
    await srv.close();
  }
});

Deno.test("clickhouse load upsert: stage, check duplicates, rebuild and EXCHANGE", async () => {
  const srv = server(() => result(["id", "name"], ["Nullable(Int64)", "Nullable(String)"], []));
  async function* source() {
    yield ROWS.slice(0, 2);
    yield ROWS.slice(2);
  }
  try {
    await using ch = connect(srv.url);
    assertEquals(
      (await ch.load(source(), { table: "events", mode: "upsert", mergeKey: ["id", "name"] })).rows,
      3,
    );
    assertEquals(statements(srv.requests), [
      "SELECT name, type FROM system.columns WHERE database = currentDatabase() AND table = 'events' ORDER BY position",
      `CREATE TABLE IF NOT EXISTS \`events\` ${CREATE_COLUMNS}`,
      "DROP TABLE IF EXISTS `events__tau_stage`",
      "CREATE TABLE `events__tau_stage` AS `events` ENGINE = MergeTree ORDER BY tuple()",
      `INSERT INTO \`events__tau_stage\` FORMAT JSONEachRow\n${LINES[0]}\n${LINES[1]}\n`,
      `INSERT INTO \`events__tau_stage\` FORMAT JSONEachRow\n${LINES[2]}\n`,
      "SELECT `id`, `name` FROM `events__tau_stage` GROUP BY `id`, `name` HAVING count() > 1 LIMIT 1",
      "DROP TABLE IF EXISTS `events__tau_new`",
      "CREATE TABLE `events__tau_new` AS `events`",
      "INSERT INTO `events__tau_new` SELECT * FROM `events` WHERE (`id`, `name`) NOT IN (SELECT `id`, `name` FROM `events__tau_stage`)",
      "INSERT INTO `events__tau_new` SELECT * FROM `events__tau_stage`",
      "EXCHANGE TABLES `events` AND `events__tau_new`",
      "DROP TABLE IF EXISTS `events__tau_new`",
      "DROP TABLE IF EXISTS `events__tau_stage`",
    ]);
  } finally {
    await srv.close();
  }
});

Deno.test("clickhouse load upsert: duplicate keys are refused and the target is not swapped", async () => {
  const dupes = server(() => result(["id"], ["Nullable(Int64)"], [["2"]]));
  try {
    await using ch = connect(dupes.url);
    const attempt = async (
      rows: Record<string, unknown>[] | AsyncIterable<Record<string, unknown>[]>,
    ) => {
      try {
        await ch.load(rows, { table: "events", mode: "upsert", mergeKey: "id" });
      } catch (e) {
        assert(e instanceof ConnectorError);
        return e.message;
      }
      throw new Error("expected a failure");
    };
    // Within one batch: caught before the batch is sent.
    assertEquals(
      await attempt([{ id: 1 }, { id: 1 }]),
      "Cannot upsert into events: more than one row has id = 1",
    );
    // Across batches: found by the staged-duplicates query.
    const twoBatches = async function* () {
      yield [{ id: 2 }];
      yield [{ id: 2 }];
    };
    assertEquals(
      await attempt(twoBatches()),
      "Cannot upsert into events: more than one row has id = 2",
    );
    const sql = statements(dupes.requests);
    assert(!sql.some((s) => s.startsWith("EXCHANGE")), "never swapped");
    assertEquals(sql.filter((s) => s === "DROP TABLE IF EXISTS `events__tau_stage`").length, 4);
    assertEquals(
      await attempt([{ name: "x" }]),
      'Cannot upsert into events: mergeKey column "id" is not in the rows',
    );
  } finally {
    await dupes.close();
  }
});

Deno.test("clickhouse execute, ping and close", async () => {
  const srv = standIn((seen) => {
    if (seen.body === "SELECT 1") return new Response(result(["1"], ["UInt8"], [[1]]));
    return new Response("", {
      headers: {
        "X-ClickHouse-Summary": '{"read_rows":"10","written_rows":"10","written_bytes":"80"}',
      },
    });
  });
  try {
    const ch = connect(srv.url);
    assertEquals(await ch.execute("INSERT INTO a SELECT * FROM b WHERE x = {p1:UInt8}", [1]), {
      rowCount: 10,
      rows: [],
    });
    assertEquals(srv.requests[0]?.query, { ...OUTPUT, wait_end_of_query: "1", param_p1: "1" });
    await ch.ping();
    assertEquals(srv.requests[1]?.body, "SELECT 1");
    await ch.close();
    let error: unknown;
    try {
      await ch.ping();
    } catch (e) {
      error = e;
    }
    assert(error instanceof ConnectorError);
    assertEquals(error.message, "ch: the connector is closed");
    assertEquals(srv.requests.length, 2);
  } finally {
    await srv.close();
  }
});

Deno.test("clickhouse load across a schema change: new column added, a missing one kept", async () => {
  const srv = server((sql) =>
    sql.includes("system.columns")
      ? result(["name", "type"], ["String", "String"], [
        ["id", "Nullable(Int64)"],
        ["customer", "Nullable(String)"],
        ["amount", "Nullable(Int64)"],
      ])
      : result([], [], [])
  );
  try {
    await using ch = connect(srv.url);
    const rows = [{ id: 1, customer_name: "Ann", amount: 11 }];
    const loaded = await ch.load(rows, { table: "events", mode: "upsert", mergeKey: "id" });
    assertEquals(loaded.schema_changes?.added, [{ column: "customer_name", type: "String" }]);
    assertEquals(loaded.schema_changes?.missing, ["customer"]);
    assertEquals(statements(srv.requests).slice(0, 2), [
      "SELECT name, type FROM system.columns WHERE database = currentDatabase() AND table = 'events' ORDER BY position",
      "ALTER TABLE `events` ADD COLUMN `customer_name` Nullable(String)",
    ]);
    // Matched rows keep the target's `customer`: it is read from the target, never set to NULL.
    assert(
      statements(srv.requests).includes(
        "INSERT INTO `events__tau_new` (`id`, `customer_name`, `amount`, `customer`) " +
          "SELECT s.`id`, s.`customer_name`, s.`amount`, t.`customer` " +
          "FROM `events__tau_stage` AS s LEFT JOIN `events` AS t ON s.`id` = t.`id`",
      ),
    );

    srv.requests.length = 0;
    let refused: unknown;
    try {
      await ch.load([{ id: 2, customer: "bob", amount: "ten" }], { table: "events" });
    } catch (e) {
      refused = e;
    }
    assert(refused instanceof SchemaChangeError);
    assertMatch(refused.message, /^Cannot load into events: column amount is Nullable\(Int64\)/);
    assertEquals(statements(srv.requests).length, 1, "nothing but the column query was sent");
  } finally {
    await srv.close();
  }
});
