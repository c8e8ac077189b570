/** The PostgreSQL and Redshift connectors against the real PostgreSQL at 127.0.0.1:5432. */
import { assert, assertEquals, assertMatch } from "../../tests/helpers/assert.ts";
import { postgres, redshift } from "./postgres.ts";
import type { Connector, Row } from "./types.ts";

const SERVER = { host: "127.0.0.1", port: 5432, user: "postgres", database: "test" };
const SCHEMA = `tau_pg_${crypto.randomUUID().slice(0, 8)}`;
const Q = `"${SCHEMA}"`;

async function count(db: Connector, table: string): Promise<number> {
  const [row] = await db.extract({ query: `SELECT count(*) AS n FROM ${table}` });
  return row?.n as number;
}

async function columnTypes(db: Connector, table: string): Promise<Record<string, string>> {
  const rows = await db.extract({
    query: `SELECT column_name, data_type FROM information_schema.columns
             WHERE table_schema = $1 AND table_name = $2 ORDER BY ordinal_position`,
    params: [SCHEMA, table],
  });
  return Object.fromEntries(rows.map((r) => [r.column_name, r.data_type]));
}

async function* stream(batches: Row[][], failAt = -1): AsyncIterable<Row[]> {
  for (const [i, batch] of batches.entries()) {
    if (i === failAt) throw new Error("source broke");
    yield batch;
  }
}

const ids = (n: number, from = 0) => Array.from({ length: n }, (_, i) => ({ id: from + i }));

/** Strings COPY text format must escape, plus values that look like its markers. */
const TRICKY = [
  "quote \" and ' single",
  "comma, separated",
  "new\nline",
  "crlf\r\nend",
  "tab\there",
  "back\\slash \\N \\t",
  "\\N",
  "\\.",
  "",
  "  padded  ",
  "unicode ✓ 𝄞",
  "x'); DROP TABLE victims; --",
  "$1 ? :name",
];

Deno.test("postgres connector", async (t) => {
  const db = postgres({ ...SERVER, schema: SCHEMA });
  await db.execute(`CREATE SCHEMA ${Q}`);
  try {
    await t.step("extract binds parameters; types come back usable", async () => {
      await db.execute(`CREATE TABLE ${Q}.typed (id bigint, big bigint, price numeric, day date,
        at timestamptz, doc jsonb, name text)`);
      await db.execute(
        `INSERT INTO ${Q}.typed VALUES ($1, $2, $3, $4, $5, $6, $7), (2, 3, 1, null, null, null, 'b')`,
        [1, "9007199254740993", "12.50", "2024-05-01", "2024-05-01T10:00:00Z", '{"a":[1]}', "a"],
      );
      const rows = await db.extract({ query: "SELECT * FROM typed WHERE id = $1", params: [1] });
      assertEquals(rows, [{
        id: 1,
        big: "9007199254740993", // beyond 2^53: text, exact
        price: "12.50",
        day: "2024-05-01",
        at: new Date("2024-05-01T10:00:00Z"),
        doc: { a: [1] },
        name: "a",
      }]);
      const injected = await db.extract({
        query: "SELECT id FROM typed WHERE name = $1",
        params: ["a' OR '1'='1"],
      });
      assertEquals(injected, []);
    });

    await t.step("execute: scripts, row counts, session settings", async () => {
      const script = await db.execute(
        `CREATE TABLE ${Q}.script (n int); INSERT INTO ${Q}.script VALUES (1), (2), (3)`,
      );
      assertEquals(script.rowCount, 3);
      const updated = await db.execute(`UPDATE ${Q}.script SET n = n + 1 WHERE n > $1`, [1]);
      assertEquals(updated, { rowCount: 2, rows: [] });
      const [session] = await db.extract({
        query: "SELECT current_setting('application_name') AS app, current_schema() AS s",
      });
      assertEquals(session, { app: "tau", s: SCHEMA });
      await db.ping();
    });

    await t.step("append creates the table with inferred column types", async () => {
      const at = new Date("2024-05-01T10:00:00.123Z");
      const rows = [
        { id: 1, score: 1.5, ok: true, day: "2024-05-01", at, doc: { k: "v" }, note: "x" },
        { id: 2, score: 2, ok: false, day: null, at: null, doc: [1, 2], note: null },
      ];
      assertEquals((await db.load(rows, { table: "inferred" })).rows, 2);
      assertEquals(await columnTypes(db, "inferred"), {
        id: "bigint",
        score: "double precision",
        ok: "boolean",
        day: "date",
        at: "timestamp with time zone",
        doc: "jsonb",
        note: "text",
      });
      assertEquals(
        (await db.load([{ id: 3, note: "y" }], { table: "inferred", mode: "append" })).rows,
        1,
      );
      const back = await db.extract({ query: "SELECT * FROM inferred ORDER BY id" });
      assertEquals(back.map((r) => r.id), [1, 2, 3]);
      assertEquals(back[0], rows[0]);
      assertEquals(back[1]?.doc, [1, 2]);
    });

    await t.step("values round-trip exactly through COPY (NULL vs empty too)", async () => {
      const rows = TRICKY.flatMap((text, i) => [
        { id: i, text, doc: { text, nested: { 'k"ey': [text, null] } } },
      ]);
      rows.push({ id: 100, text: null as unknown as string, doc: null as never });
      await db.load(rows, { table: "tricky" });
      const back = await db.extract({ query: "SELECT id, text, doc FROM tricky ORDER BY id" });
      assertEquals(back, rows);
      const [empty] = await db.extract({
        query: "SELECT count(*) FILTER (WHERE text = '') AS empty, " +
          "count(*) FILTER (WHERE text IS NULL) AS nulls FROM tricky",
      });
      assertEquals(empty, { empty: 1, nulls: 1 });
    });

    await t.step("replace swaps in a new table with the new columns", async () => {
      await db.load(ids(5), { table: "swap" });
      const n = await db.load([{ id: 10, label: "new" }], { table: "swap", mode: "replace" });
      assertEquals(n.rows, 1);
      assertEquals(await db.extract({ query: "SELECT * FROM swap" }), [{ id: 10, label: "new" }]);
      assertEquals(await columnTypes(db, "swap__tau_new"), {});
      // No rows: the table stays, emptied.
      assertEquals((await db.load([], { table: "swap", mode: "replace" })).rows, 0);
      assertEquals(await count(db, "swap"), 0);
      assertEquals((await db.load([], { table: "swap" })).rows, 0);
    });

    await t.step("upsert on one key and on a composite key", async () => {
      await db.load([{ id: 1, v: "a" }, { id: 2, v: "b" }], { table: "up1" });
      const rows = [{ id: 2, v: "B" }, { id: 3, v: "c" }];
      assertEquals((await db.load(rows, { table: "up1", mode: "upsert", mergeKey: "id" })).rows, 2);
      assertEquals(await db.extract({ query: "SELECT * FROM up1 ORDER BY id" }), [
        { id: 1, v: "a" },
        { id: 2, v: "B" },
        { id: 3, v: "c" },
      ]);

      const key = ["region", "day"];
      await db.load([
        { region: "eu", day: "2024-05-01", n: 1 },
        { region: "us", day: "2024-05-01", n: 2 },
      ], { table: "up2" });
      await db.load(
        stream([[{ region: "eu", day: "2024-05-01", n: 10 }], [{
          region: "eu",
          day: "2024-05-02",
          n: 20,
        }]]),
        { table: "up2", mode: "upsert", mergeKey: key },
      );
      assertEquals(await db.extract({ query: "SELECT * FROM up2 ORDER BY region, day" }), [
        { region: "eu", day: "2024-05-01", n: 10 },
        { region: "eu", day: "2024-05-02", n: 20 },
        { region: "us", day: "2024-05-01", n: 2 },
      ]);
    });

    await t.step("upsert refuses duplicate or NULL keys, naming the key", async () => {
      const before = await db.extract({ query: "SELECT * FROM up1 ORDER BY id" });
      const opts = { table: "up1", mode: "upsert" as const, mergeKey: "id" };
      const inBatch = [{ id: 7, v: "x" }, { id: 7, v: "y" }];
      await assert.rejects(db.load(inBatch, opts), /id = 7/);
      const acrossBatches = stream([[{ id: 8, v: "x" }], [{ id: 8, v: "y" }]]);
      await assert.rejects(db.load(acrossBatches, opts), /more than one row has id = 8/);
      await assert.rejects(db.load([{ id: null, v: "x" }], opts), /NULL in mergeKey id/);
      await assert.rejects(db.load(inBatch, { table: "up1", mode: "upsert" }), /needs mergeKey/);
      await assert.rejects(db.load([{ v: "x" }], opts), /mergeKey column "id"/);
      assertEquals(await db.extract({ query: "SELECT * FROM up1 ORDER BY id" }), before);
    });

    await t.step("a load failing halfway leaves the table exactly as it was", async () => {
      await db.load([{ id: 1, v: "keep" }, { id: 2, v: "me" }], { table: "atomic" });
      const before = await db.extract({ query: "SELECT * FROM atomic ORDER BY id" });
      const good = [{ id: 3, v: "a" }];
      // Wrong type in the last row: the server reports it only after the final chunk.
      const lateBadValue = [...ids(20_000, 100).map((r) => ({ ...r, v: "x" })), {
        id: "not a number",
        v: "x",
      }];
      // Wrong type at the start of the second batch, with 40k rows still to send.
      const earlyBadValue = [...ids(10_000), { id: "nope" }, ...ids(40_000, 20_000)];
      for (const mode of ["append", "replace"] as const) {
        const opts = { table: "atomic", mode };
        await assert.rejects(db.load(stream([good, good], 1), opts), /source broke/);
        await assert.rejects(db.load(lateBadValue, opts), /invalid input syntax for type bigint/);
        await assert.rejects(db.load(earlyBadValue, opts), /invalid input syntax for type bigint/);
        await assert.rejects(
          db.load(stream([good, [{ id: 4, extra: 1 }]]), opts),
          /column "extra" is not in the first batch/,
        );
        assertEquals(await db.extract({ query: "SELECT * FROM atomic ORDER BY id" }), before);
        assertEquals(await columnTypes(db, "atomic__tau_new"), {});
      }
    });

    await t.step("100k rows through COPY", async () => {
      const rows = Array.from({ length: 100_000 }, (_, i) => ({
        id: i,
        name: `row ${i}\twith\ttabs`,
        amount: i / 7,
        at: new Date(1_700_000_000_000 + i * 1000),
      }));
      const started = performance.now();
      assertEquals((await db.load(rows, { table: "big" })).rows, 100_000);
      const ms = performance.now() - started;
      assertEquals(await count(db, "big"), 100_000);
      const [sum] = await db.extract({ query: "SELECT sum(id) AS s FROM big" });
      assertEquals(sum?.s, "4999950000"); // sum(bigint) is numeric: text
      assert.ok(ms < 20_000, `100k rows took ${ms} ms`);
    });

    await t.step("streaming load and extractStream batch sizes", async () => {
      const batches = Array.from({ length: 5 }, (_, b) => ids(1000, b * 1000));
      assertEquals((await db.load(stream(batches), { table: "streamed" })).rows, 5000);
      const sizes: number[] = [];
      for await (
        const batch of db.extractStream({
          query: "SELECT id FROM streamed WHERE id < $1 ORDER BY id",
          params: [3500],
          batchSize: 1500,
        })
      ) sizes.push(batch.length);
      assertEquals(sizes, [1500, 1500, 500]);
      // Leaving a stream early releases its connection (a pool of one would hang otherwise).
      await using single = postgres({ ...SERVER, schema: SCHEMA, max: 1 });
      for await (
        const batch of single.extractStream({ query: "SELECT * FROM streamed", batchSize: 10 })
      ) {
        assertEquals(batch.length, 10);
        break;
      }
      let timer: ReturnType<typeof setTimeout> | undefined;
      const timeout = new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error("connection not released")), 5000);
      });
      assertEquals(await Promise.race([count(single, "streamed"), timeout]), 5000);
      clearTimeout(timer);
    });

    await t.step("identifiers with spaces and quotes are quoted", async () => {
      const table = `${SCHEMA} "odd".we"ird tab le`;
      const rows = [{ 'col "a", b': 1, "select": "x" }, { 'col "a", b': 2, "select": "y" }];
      await db.load(rows, { table });
      await db.load([{ 'col "a", b': 2, "select": "Y" }], {
        table,
        mode: "upsert",
        mergeKey: 'col "a", b',
      });
      const back = await db.extract({
        query: `SELECT * FROM "${SCHEMA} ""odd"""."we""ird tab le" ORDER BY 1`,
      });
      assertEquals(back, [{ 'col "a", b': 1, "select": "x" }, { 'col "a", b': 2, "select": "Y" }]);
      await db.load(rows, { table, mode: "replace" });
      assertEquals(await count(db, `"${SCHEMA} ""odd"""."we""ird tab le"`), 2);
      await db.execute(`DROP SCHEMA "${SCHEMA} ""odd""" CASCADE`);
    });

    await t.step("close, then use again reconnects; await using closes", async () => {
      await db.close();
      await db.ping();
      {
        await using other = postgres({ dsn: "postgres://postgres@127.0.0.1:5432/test" });
        assertEquals(await other.extract({ query: "SELECT 1 AS one" }), [{ one: 1 }]);
      }
    });
  } finally {
    await db.execute(`DROP SCHEMA IF EXISTS ${Q} CASCADE`);
    await db.close();
  }
});

Deno.test("redshift flavor loads with bounded multi-row INSERTs (run against PostgreSQL)", async () => {
  const db = redshift({ ...SERVER, schema: `${SCHEMA}_rs` });
  assertEquals([db.type, db.dialect, db.name], ["redshift", "redshift", "redshift"]);
  try {
    const rows = TRICKY.map((text, i) => ({ id: i, text, ok: i % 2 === 0 }));
    rows.push({ id: 99, text: null as never, ok: null as never });
    assertEquals((await db.load(rows, { table: "tricky" })).rows, rows.length);
    assertEquals(await db.extract({ query: "SELECT * FROM tricky ORDER BY id" }), rows);

    // 300 columns × 400 rows = 120k values: more than one statement's 65535 parameters.
    const wide = Array.from(
      { length: 400 },
      (_, r) => Object.fromEntries(Array.from({ length: 300 }, (_, c) => [`c${c}`, r * 1000 + c])),
    );
    assertEquals((await db.load(wide, { table: "wide", mode: "replace" })).rows, 400);
    assertEquals(await count(db, "wide"), 400);
    const [last] = await db.extract({ query: "SELECT c299 FROM wide ORDER BY c0 DESC LIMIT 1" });
    assertEquals(last, { c299: 399_299 });

    await db.load([{ id: 1, text: "new" }, { id: 1000, text: "added" }], {
      table: "tricky",
      mode: "upsert",
      mergeKey: ["id"],
    });
    assertEquals(await count(db, "tricky"), rows.length + 1);
    const [one] = await db.extract({ query: "SELECT text, ok FROM tricky WHERE id = 1" });
    assertEquals(one, { text: "new", ok: false }); // the upsert's rows lack `ok`: kept
    await assert.rejects(
      db.load(stream([[{ id: 5000, text: "a" }], [{ id: "bad", text: "b" }]]), { table: "tricky" }),
      /invalid input syntax/,
    );
    assertEquals(await count(db, "tricky"), rows.length + 1);
  } finally {
    await db.execute(`DROP SCHEMA IF EXISTS "${SCHEMA}_rs" CASCADE`);
    await db.close();
  }
});

Deno.test("options: DSN parsing, errors without secrets", async () => {
  const bad = (options: Parameters<typeof postgres>[0]) => {
    try {
      postgres(options);
    } catch (error) {
      return (error as Error).message;
    }
    throw new Error("expected a refusal");
  };
  const refusals: [string, RegExp][] = [
    [bad({ dsn: "postgres:///db" }), /no host/],
    [bad({ dsn: "postgres://u:s3cret@/db" }), /not a valid URL/],
    [bad({ dsn: "mysql://u:s3cret@h/db" }), /must start with postgres/],
    [bad({ dsn: "postgres://u:s3cret@h/db?sslmode=sometimes" }), /unknown sslmode/],
    [bad({ dsn: "postgres://u:s3cret@h/db?options=x" }), /"options" is not supported/],
    [bad({ dsn: "postgres://u:s3cret@h:99999/db" }), /not a valid URL/],
    [bad({ host: "h", password: "s3cret" }), /no user/],
    [bad({ host: "h", user: "u", port: 70000, password: "s3cret" }), /port/],
  ];
  for (const [message, pattern] of refusals) {
    assertMatch(message, pattern);
    assert.ok(!message.includes("s3cret"), message);
  }

  // Percent-encoded parts, sslmode=disable, explicit fields beating the URL's.
  const viaDsn = postgres({
    dsn: "postgres://post%67res:p%40ss@127.0.0.1:1/test?sslmode=disable",
    port: 5432,
  });
  try {
    assertEquals(await viaDsn.extract({ query: "SELECT current_user AS u" }), [{ u: "postgres" }]);
  } finally {
    await viaDsn.close();
  }
  const unreachable = postgres({ host: "127.0.0.1", port: 1, user: "u", password: "s3cret" });
  const error = await unreachable.ping().then(() => null, (e: Error) => e);
  assert.ok(error !== null);
  assert.ok(!String(error.message).includes("s3cret"));
  await unreachable.close();
});

Deno.test("runs in a locked-down child: only PGAPPNAME and PGTARGETSESSIONATTRS probed", async () => {
  const dir = await Deno.makeTempDir();
  const script = `${dir}/child.ts`;
  await Deno.writeTextFile(
    script,
    `import { postgres } from ${JSON.stringify(new URL("./postgres.ts", import.meta.url).href)};
     const db = postgres(${JSON.stringify({ ...SERVER, schema: `${SCHEMA}_child` })});
     await db.load([{ id: 1, s: "a\\tb" }], { table: "t", mode: "replace" });
     const [row] = await db.extract({ query: "SELECT s, current_setting('application_name') AS app FROM t" });
     await db.execute('DROP SCHEMA "${SCHEMA}_child" CASCADE');
     await db.close();
     console.log(JSON.stringify(row));`,
  );
  const config = new URL("../../deno.json", import.meta.url).pathname;
  const run = (allowEnv: string, env: Record<string, string>) =>
    new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--no-prompt",
        "--cached-only",
        "--no-remote",
        "--no-lock",
        `--config=${config}`,
        "--allow-net=127.0.0.1:5432",
        allowEnv,
        script,
      ],
      clearEnv: true,
      env: { HOME: Deno.env.get("HOME") ?? "/root", NO_COLOR: "1", ...env },
    }).output();
  try {
    const locked = await run("--allow-env=PGAPPNAME,PGTARGETSESSIONATTRS", {});
    const decode = (b: Uint8Array) => new TextDecoder().decode(b);
    assertEquals(locked.code, 0, decode(locked.stderr));
    assertEquals(JSON.parse(decode(locked.stdout)), { s: "a\tb", app: "tau" });
    // With every PG* variable pointing elsewhere, the explicit options still win.
    const hostile = await run("--allow-env", {
      PGHOST: "203.0.113.1",
      PGPORT: "1",
      PGUSER: "nobody",
      PGPASSWORD: "wrong",
      PGDATABASE: "nope",
      PGAPPNAME: "evil",
      PGSSLMODE: "verify-full",
      PGSSL: "verify-full",
      PGMAX: "0",
    });
    assertEquals(hostile.code, 0, decode(hostile.stderr));
    assertEquals(JSON.parse(decode(hostile.stdout)), { s: "a\tb", app: "tau" });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
