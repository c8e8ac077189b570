/**
 * Tests against the real MariaDB/MySQL at 127.0.0.1:3306 (user root, empty password, database
 * `test`). Every table is named after this run and dropped at the end of its test.
 */
import { assert, assertEquals, assertMatch } from "../../tests/helpers/assert.ts";
import { quoteTable } from "./_sql.ts";
import { mysql, type MysqlOptions } from "./mysql.ts";
import type { Connector, Row } from "./types.ts";

const OPTIONS: MysqlOptions = {
  host: "127.0.0.1",
  port: 3306,
  user: "root",
  password: "",
  database: "test",
};
const RUN = `tau_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 6)}`;

/** Runs `fn` with a connector and a table namer; drops the named tables afterwards. */
async function withDb(fn: (db: Connector, table: (tag: string) => string) => Promise<void>) {
  const db = mysql(OPTIONS);
  const tables: string[] = [];
  try {
    await fn(db, (tag) => {
      const name = `${RUN}_${tag}`;
      tables.push(name);
      return name;
    });
  } finally {
    for (const t of tables) {
      for (const suffix of ["", "__tau_new", "__tau_old"]) {
        await db.execute(`DROP TABLE IF EXISTS ${quoteTable("mysql", t + suffix)}`);
      }
    }
    await db.close();
  }
}

async function all(db: Connector, table: string, order = "id"): Promise<Row[]> {
  return await db.extract({
    query: `SELECT * FROM ${quoteTable("mysql", table)} ORDER BY ${order}`,
  });
}

async function count(db: Connector, table: string): Promise<number> {
  const [row] = await db.extract({
    query: `SELECT COUNT(*) AS n FROM ${quoteTable("mysql", table)}`,
  });
  return Number(row?.n);
}

async function tableExists(db: Connector, table: string): Promise<boolean> {
  const rows = await db.extract({
    query: "SELECT 1 FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'test' AND TABLE_NAME = ?",
    params: [table],
  });
  return rows.length > 0;
}

async function rejects(fn: () => Promise<unknown>, pattern: RegExp): Promise<Error> {
  try {
    await fn();
  } catch (error) {
    assert(error instanceof Error, "should throw an Error");
    assertMatch(error.message, pattern);
    return error;
  }
  throw new Error(`expected a rejection matching ${pattern}`);
}

async function* iterate(...batches: (Row[] | Error)[]): AsyncIterable<Row[]> {
  for (const batch of batches) {
    if (batch instanceof Error) throw batch;
    yield batch;
  }
}

Deno.test("mysql: options are validated without leaking the password", () => {
  const secret = "s3cr3t-Pa55";
  for (
    const [options, pattern] of [
      [{ dsn: `postgres://u:${secret}@h/db` }, /must start with mysql:\/\//],
      [{ dsn: `mysql://u:${secret}@h/db?sslmode=x` }, /unknown dsn parameter "sslmode"/],
      [{ dsn: `mysql://u:${secret}%zz@h/db` }, /malformed percent-encoding/],
      [{ user: "u", password: secret }, /host is required/],
      [{ host: "h", password: secret }, /user is required/],
      [{ host: "h", user: "u", port: 70000 }, /port must be/],
    ] as [MysqlOptions, RegExp][]
  ) {
    let message = "";
    try {
      mysql(options);
    } catch (error) {
      message = (error as Error).message;
    }
    assertMatch(message, pattern);
    assert(!message.includes(secret), `password leaked: ${message}`);
  }
  const db = mysql({ dsn: "mysql://u:p@h" });
  assertEquals([db.name, db.type, db.dialect], ["mysql", "mysql", "mysql"]);
});

Deno.test("mysql: a dsn connects; ping, execute and extract with ? params", async () => {
  await using db = mysql({ dsn: "mysql://root:@127.0.0.1:3306/test", name: "warehouse" });
  assertEquals(db.name, "warehouse");
  await db.ping();
  // Separate fields win over the dsn's.
  await using other = mysql({ dsn: "mysql://nobody:x@tau.invalid:1/nodb", ...OPTIONS });
  assertEquals(await other.extract({ query: "SELECT DATABASE() AS db" }), [{ db: "test" }]);
  await withDb(async (db) => {
    const t = `${RUN}_params`;
    const q = quoteTable("mysql", t);
    await db.execute(`CREATE TABLE ${q} (id BIGINT, name TEXT, at DATETIME(6), day DATE)`);
    try {
      const inserted = await db.execute(
        `INSERT INTO ${q} VALUES (?, ?, ?, ?), (?, ?, ?, ?), (?, ?, ?, ?)`,
        [
          ...[1, "ann", new Date("2024-05-01T10:00:00.123Z"), "2024-05-01"],
          ...[2, "bob", "2024-05-02 11:00:00", "2024-05-02"],
          ...[3, null, null, null],
        ],
      );
      assertEquals(inserted.rowCount, 3);
      const rows = await db.extract({
        query: `SELECT id, name, at, day FROM ${q} WHERE id >= ? AND name <> ? ORDER BY id`,
        params: [1, "bob"],
      });
      assertEquals(rows, [{
        id: 1,
        name: "ann",
        at: new Date("2024-05-01T10:00:00.123Z"),
        day: "2024-05-01",
      }]);
      const byDate = await db.extract({
        query: `SELECT id FROM ${q} WHERE at = ?`,
        params: [new Date("2024-05-02T11:00:00Z")],
      });
      assertEquals(byDate, [{ id: 2 }]);
      // No params: sent as written, `?` inside a literal is left alone.
      assertEquals(await db.extract({ query: "SELECT '?' AS q" }), [{ q: "?" }]);
      // Documented driver choices: UTC session, exact big numbers.
      assertEquals(
        await db.extract({
          query: "SELECT @@session.time_zone AS tz, CAST(? AS SIGNED) AS big, " +
            "CAST(? AS SIGNED) AS small, CAST(? AS DECIMAL(30, 10)) AS exact",
          params: [9007199254740993n, 42, "12345678901234567890.0123456789"],
        }),
        [{
          tz: "+00:00",
          big: "9007199254740993",
          small: 42,
          exact: "12345678901234567890.0123456789",
        }],
      );
      await rejects(
        () => db.extract({ query: "SELECT ?", params: { id: 1 } }),
        /params must be an array/,
      );
      const selected = await db.execute(`SELECT id FROM ${q} WHERE name IS NULL`);
      assertEquals(selected, { rowCount: 1, rows: [{ id: 3 }] });
    } finally {
      await db.execute(`DROP TABLE ${q}`);
    }
  });
});

Deno.test("mysql: ssl: true refuses a server without TLS", async () => {
  await using db = mysql({ ...OPTIONS, ssl: true });
  await rejects(() => db.ping(), /does not support secure connection/);
});

Deno.test("mysql: append creates the table with inferred types, then appends", async () => {
  await withDb(async (db, table) => {
    const t = table("types");
    const first = [{
      id: 1,
      name: "a",
      price: 1.5,
      ok: true,
      day: "2024-05-01",
      at: new Date("2024-05-01T10:00:00Z"),
      zoned: "2024-05-01T12:00:00.250+02:00",
      meta: { tags: ["x"] },
      big: 12n,
      empty: null,
    }];
    assertEquals((await db.load(first, { table: t })).rows, 1);
    const columns = await db.extract({
      query: "SELECT COLUMN_NAME AS c, DATA_TYPE AS t FROM information_schema.COLUMNS " +
        "WHERE TABLE_SCHEMA = 'test' AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION",
      params: [t],
    });
    const types = Object.fromEntries(columns.map((r) => [r.c, String(r.t).toLowerCase()]));
    assert(["json", "longtext"].includes(types.meta ?? ""), `meta is ${types.meta}`);
    assertEquals({ ...types, meta: "json" }, {
      id: "bigint",
      name: "longtext",
      price: "double",
      ok: "tinyint",
      day: "date",
      at: "datetime",
      zoned: "datetime",
      meta: "json",
      big: "bigint",
      empty: "longtext",
    });
    assertEquals((await db.load([{ id: 2, name: "b" }], { table: t, mode: "append" })).rows, 1);
    const rows = await all(db, t);
    assertEquals(rows.length, 2);
    const [a, b] = rows;
    assertEquals(a?.at, new Date("2024-05-01T10:00:00Z"));
    assertEquals(a?.zoned, new Date("2024-05-01T10:00:00.250Z"));
    assertEquals([a?.ok, a?.big, a?.day, a?.price], [1, 12, "2024-05-01", 1.5]);
    assertEquals(JSON.parse(typeof a?.meta === "string" ? a.meta : JSON.stringify(a?.meta)), {
      tags: ["x"],
    });
    assertEquals([b?.id, b?.name, b?.price], [2, "b", null]);
  });
});

Deno.test("mysql: tricky strings round-trip; an injection attempt is stored literally", async () => {
  await withDb(async (db, table) => {
    const t = table("strings");
    const evil = `x'); DROP TABLE \`${t}\`; -- `;
    const values = [
      'it\'s "quoted" `backticked`',
      "back\\slash \\' \\\\ and \\n not a newline",
      "line1\nline2\r\nline3\ttab",
      "unicode: é ü ß 中文 🎉👩‍👩‍👧",
      "nul \u0000 inside",
      "",
      null,
      evil,
      "? ?? $1 :name",
    ];
    const rows = values.map((s, id) => ({ id, s }));
    assertEquals((await db.load(rows, { table: t })).rows, values.length);
    assertEquals((await all(db, t)).map((r) => r.s), values);
    // Empty string and NULL stay distinct.
    const [nulls] = await db.extract({
      query: `SELECT SUM(s IS NULL) AS n, SUM(s = '') AS e FROM ${quoteTable("mysql", t)}`,
    });
    assertEquals([Number(nulls?.n), Number(nulls?.e)], [1, 1]);
    // Through params too: the attempt matches itself only.
    const found = await db.extract({
      query: `SELECT id FROM ${quoteTable("mysql", t)} WHERE s = ?`,
      params: [evil],
    });
    assertEquals(found, [{ id: 7 }]);
    assertEquals(
      await db.extract({
        query: `SELECT id FROM ${quoteTable("mysql", t)} WHERE s = ?`,
        params: ["' OR '1'='1"],
      }),
      [],
    );
    assert(await tableExists(db, t));
  });
});

Deno.test("mysql: replace swaps in a new table and leaves no helper tables", async () => {
  await withDb(async (db, table) => {
    const t = table("replace");
    await db.load([{ id: 1, v: "old" }, { id: 2, v: "old" }], { table: t });
    const written = await db.load(
      iterate([{ id: 3, v: "new", extra: 1.5 }], [{ id: 4, v: "new" }]),
      {
        table: t,
        mode: "replace",
      },
    );
    assertEquals(written.rows, 2);
    assertEquals(await all(db, t), [
      { id: 3, v: "new", extra: 1.5 },
      { id: 4, v: "new", extra: null },
    ]);
    assert(!await tableExists(db, `${t}__tau_new`));
    assert(!await tableExists(db, `${t}__tau_old`));
    // A missing table is created; no rows replaces with an empty table.
    const fresh = table("replace_new");
    assertEquals((await db.load([{ id: 1 }], { table: fresh, mode: "replace" })).rows, 1);
    assertEquals(await count(db, fresh), 1);
    assertEquals((await db.load([], { table: fresh, mode: "replace" })).rows, 0);
    assert(await tableExists(db, fresh));
    assertEquals(await count(db, fresh), 0);
  });
});

Deno.test("mysql: upsert on one key and on a composite key, without a unique index", async () => {
  await withDb(async (db, table) => {
    const t = table("upsert");
    await db.load([{ id: 1, v: "a" }, { id: 2, v: "b" }], { table: t });
    const n = await db.load([{ id: 2, v: "B" }, { id: 3, v: "c" }], {
      table: t,
      mode: "upsert",
      mergeKey: "id",
    });
    assertEquals(n.rows, 2);
    assertEquals(await all(db, t), [{ id: 1, v: "a" }, { id: 2, v: "B" }, { id: 3, v: "c" }]);

    const c = table("upsert_composite");
    await db.load([
      { region: "eu", day: "2024-05-01", n: 1 },
      { region: "us", day: "2024-05-01", n: 2 },
      { region: "ap", day: "2024-05-01", n: 3 },
    ], { table: c, mode: "upsert", mergeKey: ["region", "day"] });
    // Streaming: a later batch replaces a row of an earlier one.
    const written = await db.load(
      iterate(
        [{ region: "eu", day: "2024-05-01", n: 10 }, { region: "eu", day: "2024-05-02", n: 11 }],
        [{ region: "eu", day: "2024-05-02", n: 12 }, { region: "ap", day: "2024-05-01", n: 13 }],
      ),
      { table: c, mode: "upsert", mergeKey: ["region", "day"] },
    );
    assertEquals(written.rows, 4);
    assertEquals(
      await all(db, c, "n"),
      [
        { region: "eu", day: "2024-05-01", n: 10 },
        { region: "eu", day: "2024-05-02", n: 12 },
        { region: "us", day: "2024-05-01", n: 2 },
        { region: "ap", day: "2024-05-01", n: 13 },
      ].sort((a, b) => a.n - b.n),
    );
    // A NULL key could never match: refused, and the table is left as it was.
    await rejects(
      () =>
        db.load([{ region: null, day: "2024-05-01", n: 99 }], {
          table: c,
          mode: "upsert",
          mergeKey: ["region", "day"],
        }),
      /NULL in mergeKey/,
    );
    assertEquals((await all(db, c, "n")).length, 4);
    await rejects(
      () => db.load([{ id: 1 }], { table: t, mode: "upsert" }),
      /needs mergeKey/,
    );
    await rejects(
      () => db.load([{ id: 1, v: "x" }], { table: t, mode: "upsert", mergeKey: "nope" }),
      /mergeKey "nope" is not a column/,
    );
  });
});

Deno.test("mysql: duplicate keys are refused, naming the key", async () => {
  await withDb(async (db, table) => {
    const t = table("dupes");
    await db.load([{ id: 1, k: "x", v: 0 }], { table: t });
    await rejects(
      () =>
        db.load([{ id: 1, k: "x", v: 1 }, { id: 2, k: "y", v: 2 }, { id: 1, k: "x", v: 3 }], {
          table: t,
          mode: "upsert",
          mergeKey: ["id", "k"],
        }),
      /more than one row has id, k = 1,"x"/,
    );
    await rejects(
      () =>
        db.load(
          iterate([{ id: 5, k: "z", v: 1 }], [{ id: 7, k: "q", v: 1 }, { id: 7, k: "q", v: 2 }]),
          {
            table: t,
            mode: "upsert",
            mergeKey: ["id", "k"],
          },
        ),
      /more than one row has id, k = 7,"q"/,
    );
    // The streamed first batch was rolled back with the rest.
    assertEquals(await all(db, t), [{ id: 1, k: "x", v: 0 }]);
  });
});

Deno.test("mysql: a load failing halfway leaves the table as it was", async () => {
  await withDb(async (db, table) => {
    const t = table("atomic");
    const before = [{ id: 1, v: "a" }, { id: 2, v: "b" }];
    await db.load(before, { table: t });
    const broken = () =>
      iterate([{ id: 2, v: "changed" }, { id: 3, v: "c" }], new Error("source broke"));
    for (const mode of ["append", "upsert", "replace"] as const) {
      await rejects(() => db.load(broken(), { table: t, mode, mergeKey: "id" }), /source broke/);
      assertEquals(await all(db, t), before, `after a failed ${mode}`);
      // A bad value in a later batch: the server refuses it.
      await rejects(
        () =>
          db.load(iterate([{ id: 2, v: "changed" }], [{ id: "not a number", v: "x" }]), {
            table: t,
            mode,
            mergeKey: "id",
          }),
        /Incorrect integer value|Truncated incorrect/,
      );
      assertEquals(await all(db, t), before, `after a refused ${mode}`);
    }
    assert(!await tableExists(db, `${t}__tau_new`));
    // A table this load created is dropped again.
    const created = table("atomic_new");
    await rejects(
      () => db.load(iterate([{ id: 1 }], new Error("boom")), { table: created }),
      /boom/,
    );
    assert(!await tableExists(db, created));
  });
});

Deno.test("mysql: statements stay under the placeholder limit and max_allowed_packet", async () => {
  await withDb(async (db, table) => {
    // 1,000 rows x 100 columns = 100,000 values: more than one statement may bind.
    const wide = table("wide");
    const row = (id: number) =>
      Object.fromEntries([["id", id], ...Array.from({ length: 99 }, (_, i) => [`c${i}`, i])]);
    assertEquals(
      (await db.load(Array.from({ length: 1000 }, (_, i) => row(i)), { table: wide })).rows,
      1000,
    );
    assertEquals(await count(db, wide), 1000);
    // 24 x 1 MiB: 24 MiB in total, over the server's max_allowed_packet (16 MiB here).
    const large = table("large");
    // Inferred text is TEXT (64 KiB), so this table is made with LONGTEXT first.
    await db.execute(`CREATE TABLE ${quoteTable("mysql", large)} (id BIGINT, body LONGTEXT)`);
    const blob = "x".repeat(1 << 20);
    const rows = Array.from({ length: 24 }, (_, id) => ({ id, body: blob }));
    assertEquals((await db.load(rows, { table: large })).rows, 24);
    const [sum] = await db.extract({
      query: `SELECT SUM(LENGTH(body)) AS n FROM ${quoteTable("mysql", large)}`,
    });
    assertEquals(Number(sum?.n), 24 << 20);
  });
});

Deno.test("mysql: a 100k-row load", async () => {
  await withDb(async (db, table) => {
    const t = table("big");
    const rows = Array.from({ length: 100_000 }, (_, id) => ({ id, name: `row ${id}`, x: id / 7 }));
    assertEquals((await db.load(rows, { table: t })).rows, 100_000);
    assertEquals(await count(db, t), 100_000);
    const [last] = await db.extract({
      query: `SELECT * FROM ${quoteTable("mysql", t)} WHERE id = ?`,
      params: [99_999],
    });
    assertEquals(last, { id: 99_999, name: "row 99999", x: 99_999 / 7 });
    // Upsert of a streamed half over it.
    async function* halves() {
      for (let start = 50_000; start < 100_000; start += 10_000) {
        yield rows.slice(start, start + 10_000).map((r) => ({ ...r, name: "updated" }));
      }
    }
    assertEquals(
      (await db.load(halves(), { table: t, mode: "upsert", mergeKey: "id" })).rows,
      50_000,
    );
    const [updated] = await db.extract({
      query: `SELECT COUNT(*) AS n FROM ${quoteTable("mysql", t)} WHERE name = ?`,
      params: ["updated"],
    });
    assertEquals(Number(updated?.n), 50_000);
    assertEquals(await count(db, t), 100_000);
  });
});

Deno.test("mysql: extractStream yields batches of batchSize", async () => {
  await withDb(async (db, table) => {
    const t = table("stream");
    await db.load(Array.from({ length: 25 }, (_, id) => ({ id })), { table: t });
    const q = quoteTable("mysql", t);
    const sizes: number[] = [];
    const ids: unknown[] = [];
    for await (
      const batch of db.extractStream({ query: `SELECT id FROM ${q} ORDER BY id`, batchSize: 10 })
    ) {
      sizes.push(batch.length);
      ids.push(...batch.map((r) => r.id));
    }
    assertEquals(sizes, [10, 10, 5]);
    assertEquals(ids, Array.from({ length: 25 }, (_, i) => i));
    const filtered: number[] = [];
    for await (
      const batch of db.extractStream({
        query: `SELECT id FROM ${q} WHERE id < ? ORDER BY id`,
        params: [7],
        batchSize: 3,
      })
    ) filtered.push(batch.length);
    assertEquals(filtered, [3, 3, 1]);
    // Default batch size: everything in one batch here.
    const batches: Row[][] = [];
    for await (const batch of db.extractStream({ query: `SELECT id FROM ${q}` })) {
      batches.push(batch);
    }
    assertEquals(batches.map((b) => b.length), [25]);
    // Stopping early releases the connection; the connector keeps working.
    for (let i = 0; i < 6; i++) {
      for await (const _ of db.extractStream({ query: `SELECT id FROM ${q}`, batchSize: 2 })) break;
    }
    assertEquals(await count(db, t), 25);
    await rejects(async () => {
      for await (const _ of db.extractStream({ query: "SELECT * FROM no_such_table_tau" })) {
        // unreachable
      }
    }, /no_such_table_tau/);
    await rejects(async () => {
      for await (const _ of db.extractStream({ query: "SELECT 1", batchSize: 0 })) {
        // unreachable
      }
    }, /batchSize must be a positive integer/);
  });
});

Deno.test("mysql: works inside the run sandbox (net to the server only, no env, no files)", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const t = `${RUN}_sandbox`;
    const script = `${dir}/pipeline.ts`;
    await Deno.writeTextFile(
      script,
      `import { mysql } from ${JSON.stringify(new URL("./mysql.ts", import.meta.url).href)};
await using db = mysql(${JSON.stringify(OPTIONS)});
await db.load([{ id: 1, at: new Date(0) }, { id: 2, at: null }], { table: ${JSON.stringify(t)} });
let n = 0;
for await (const b of db.extractStream({ query: "SELECT * FROM \`${t}\`", batchSize: 1 })) n += b.length;
const rows = await db.extract({ query: "SELECT at FROM \`${t}\` WHERE id = ?", params: [1] });
await db.execute("DROP TABLE \`${t}\`");
console.log(JSON.stringify({ n, at: rows[0]?.at }));
`,
    );
    const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--no-prompt",
        "--cached-only",
        "--no-remote",
        `--config=${new URL("../../deno.json", import.meta.url).pathname}`,
        "--allow-net=127.0.0.1:3306",
        script,
      ],
      clearEnv: true,
      env: {
        HOME: dir,
        NO_COLOR: "1",
        DENO_DIR: Deno.env.get("DENO_DIR") ?? `${Deno.env.get("HOME")}/.cache/deno`,
      },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const err = new TextDecoder().decode(stderr);
    assertEquals(code, 0, err);
    assertEquals(JSON.parse(new TextDecoder().decode(stdout)), {
      n: 2,
      at: "1970-01-01T00:00:00.000Z",
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
    await withDb(async (db) => {
      await db.execute(`DROP TABLE IF EXISTS ${quoteTable("mysql", `${RUN}_sandbox`)}`);
    });
  }
});
