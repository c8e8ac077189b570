import { fileURLToPath } from "node:url";
/** s3 connector against a real S3-compatible server (s3rver, see tests/helpers/s3_server.ts). */
import { assert, assertEquals, assertMatch } from "../../tests/helpers/assert.ts";
import { type S3Server, startS3Server } from "../../tests/helpers/s3_server.ts";
import { s3, S3_ENV_PROBES, type S3Options } from "./s3.ts";
import { ConnectorError, type Row } from "./types.ts";

const BUCKET = "tau-test";

function connector(server: S3Server, extra: Partial<S3Options> = {}) {
  return s3({
    bucket: BUCKET,
    // A host name, not an IP: the SDK picks path-style on its own for IP endpoints.
    endpoint: `http://localhost:${server.port}`,
    accessKeyId: server.accessKeyId,
    secretAccessKey: server.secretAccessKey,
    ...extra,
  });
}

/** The stored bytes, fetched without the connector (s3rver serves anonymous GETs). */
async function raw(server: S3Server, key: string): Promise<string> {
  const res = await fetch(`${server.endpoint}/${BUCKET}/${key}`);
  assertEquals(res.status, 200, `GET ${key}`);
  return await res.text();
}

async function rejects(fn: () => Promise<unknown>, pattern: RegExp): Promise<Error> {
  try {
    await fn();
  } catch (err) {
    assert(err instanceof Error, "threw a non-Error");
    assertMatch(err.message, pattern);
    return err;
  }
  throw new Error(`expected a rejection matching ${pattern}`);
}

const TRICKY: Row[] = [
  {
    id: 1,
    comma: "a,b",
    quote: 'say "hi"',
    newline: "line 1\nline 2\r\nline 3",
    unicode: "héllo 🌍 日本",
    nothing: null,
    empty: "",
    digits: "042",
    number_text: "42",
    flag: true,
    ratio: 1.5,
  },
  {
    id: 2,
    comma: ",",
    quote: '"',
    newline: "",
    unicode: "Ω",
    nothing: null,
    empty: "x",
    digits: "7",
    number_text: "true",
    flag: false,
    ratio: -0.25,
  },
];

Deno.test("s3 connector against s3rver", async (t) => {
  await using server = await startS3Server();
  await using store = connector(server);

  await t.step("ping does HeadBucket; a missing bucket fails clearly", async () => {
    await store.ping();
    await using other = connector(server, { bucket: "no-such-bucket" });
    await rejects(() => other.ping(), /no-such-bucket.*does not exist/);
  });

  await t.step("requests are path-style to the configured endpoint", async () => {
    await server.requests({ clear: true });
    await store.load([{ a: 1 }], { key: "style/one.json", mode: "replace" });
    await store.extract({ key: "style/one.json" });
    const seen = await server.requests();
    assert(seen.length >= 2, `expected PUT and GET, saw ${JSON.stringify(seen)}`);
    for (const r of seen) {
      assertEquals(r.host, `localhost:${server.port}`);
      assert(r.url.startsWith(`/${BUCKET}/`), `not path-style: ${r.url}`);
    }
    assert(seen.some((r) => r.method === "PUT" && r.url.startsWith(`/${BUCKET}/style/one.json`)));
  });

  await t.step("json and jsonl round-trip tricky values exactly", async () => {
    const nested = [{ ...TRICKY[0], nested: { list: [1, "two", null], deep: { ok: true } } }];
    for (const key of ["rt/tricky.json", "rt/tricky.jsonl"]) {
      assertEquals((await store.load([...TRICKY, ...nested], { key, mode: "replace" })).rows, 3);
      assertEquals(await store.extract({ key }), [...TRICKY, ...nested]);
    }
    assertEquals(JSON.parse(await raw(server, "rt/tricky.json")).length, 3);
    assertEquals((await raw(server, "rt/tricky.jsonl")).trimEnd().split("\n").length, 3);
  });

  await t.step("csv round-trips tricky values; csvTypes restores types", async () => {
    assertEquals((await store.load(TRICKY, { key: "rt/tricky.csv", mode: "replace" })).rows, 2);
    const text = await raw(server, "rt/tricky.csv");
    assert(text.startsWith("id,comma,quote,newline,unicode,nothing,empty,"), text);
    assertEquals(await store.extract({ key: "rt/tricky.csv", csvTypes: true }), TRICKY);
    const strings = await store.extract({ key: "rt/tricky.csv" });
    assertEquals(strings[0], {
      ...TRICKY[0],
      id: "1",
      nothing: "",
      flag: "true",
      ratio: "1.5",
    });
  });

  await t.step("csv: objects become JSON text; a later unknown column is refused", async () => {
    await store.load([{ a: { x: [1] }, b: new Date("2024-01-02T03:04:05Z") }], {
      key: "rt/obj.csv",
      mode: "replace",
    });
    assertEquals(await store.extract({ key: "rt/obj.csv" }), [
      { a: '{"x":[1]}', b: "2024-01-02T03:04:05.000Z" },
    ]);
    async function* drift() {
      yield [{ a: 1 }];
      yield [{ a: 2, surprise: 3 }];
    }
    await rejects(
      () => store.load(drift(), { key: "rt/drift.csv", mode: "replace" }),
      /row 2 .*column "surprise".*not in the CSV header \(a\)/,
    );
  });

  await t.step("format comes from the extension; unknown extensions are refused", async () => {
    await store.load([{ n: 1 }, { n: 2 }], { key: "infer/a.ndjson", mode: "replace" });
    assertEquals(await raw(server, "infer/a.ndjson"), '{"n":1}\n{"n":2}\n');
    await store.load([{ n: 1 }], { key: "infer/b.csv", mode: "replace" });
    assertEquals(await raw(server, "infer/b.csv"), "n\n1\n");
    await store.load([{ n: 1 }], { key: "infer/c.json", mode: "replace" });
    assertEquals(JSON.parse(await raw(server, "infer/c.json")), [{ n: 1 }]);
    await store.load([{ n: 1 }], { key: "infer/d.txt", format: "csv", mode: "replace" });
    assertEquals(await store.extract({ key: "infer/d.txt", format: "csv", csvTypes: true }), [
      { n: 1 },
    ]);
    await rejects(() => store.extract({ key: "infer/d.txt" }), /cannot tell the format.*d\.txt/);
    await rejects(
      () => store.load([{ n: 1 }], { key: "x.parquet" }),
      /Parquet.*DuckDB/,
    );
    // `table` instead of `key`: <table>.<format>, jsonl by default.
    await store.load([{ n: 3 }], { table: "infer/by_table", mode: "replace" } as never);
    assertEquals(await raw(server, "infer/by_table.jsonl"), '{"n":3}\n');
  });

  await t.step("json: an array inside an object is picked with path", async () => {
    const body = { meta: { page: 1 }, data: { items: [{ id: 1 }, { id: 2 }] } };
    await store.load([{ wrapper: true }], { key: "nested/doc.json", mode: "replace" });
    // Overwrite with a hand-made object body through the API the connector itself uses.
    const res = await fetch(`${server.endpoint}/${BUCKET}/nested/doc.json`, {
      method: "PUT",
      body: JSON.stringify(body),
    });
    await res.body?.cancel();
    assertEquals(await store.extract({ key: "nested/doc.json", path: "data.items" }), [
      { id: 1 },
      { id: 2 },
    ]);
    await rejects(() => store.extract({ key: "nested/doc.json" }), /no array of rows/);
    await rejects(
      () => store.extract({ key: "nested/doc.json", path: "data.nope" }),
      /nothing at path "data.nope"/,
    );
  });

  await t.step("prefix: reads every object under it in key order; list shows keys", async () => {
    await store.load([{ f: "a", i: 1 }, { f: "a", i: 2 }], {
      key: "multi/a.json",
      mode: "replace",
    });
    await store.load([{ f: "b", i: 3 }], { key: "multi/b.jsonl", mode: "replace" });
    await store.load([{ f: "c", i: 4 }], { key: "multi/sub/c.csv", mode: "replace" });
    await store.load([{ f: "z" }], { key: "multiple/other.json", mode: "replace" });
    const rows = await store.extract({ prefix: "multi/", csvTypes: true });
    assertEquals(rows, [
      { f: "a", i: 1 },
      { f: "a", i: 2 },
      { f: "b", i: 3 },
      { f: "c", i: 4 },
    ]);
    const batches: Row[][] = [];
    for await (const batch of store.extractStream({ prefix: "multi/", batchSize: 1 })) {
      batches.push(batch);
    }
    assertEquals(batches.length, 4);

    const listed = await store.execute("list", ["multi/"]);
    assertEquals(listed.rows.map((r) => r.key), [
      "multi/a.json",
      "multi/b.jsonl",
      "multi/sub/c.csv",
    ]);
    assertEquals(listed.rowCount, 3);
    assert(listed.rows.every((r) => typeof r.size === "number" && (r.size as number) > 0));

    // The connector prefix is prepended to keys and stripped from listed keys.
    await using scoped = connector(server, { prefix: "multi/" });
    assertEquals(await scoped.extract({ key: "b.jsonl" }), [{ f: "b", i: 3 }]);
    assertEquals((await scoped.execute("list")).rows.map((r) => r.key), [
      "a.json",
      "b.jsonl",
      "sub/c.csv",
    ]);
    assertEquals(await scoped.extract({ prefix: "nothing-here/" }), []);
  });

  await t.step("50k rows streamed in as jsonl: multipart upload, bounded batches out", async () => {
    const total = 50_000;
    const pad = "p".repeat(150); // ~190 bytes a row, ~9.5 MB in all: two 5 MiB parts
    let uploadedWhileProducing = false;
    async function* produce() {
      for (let start = 0; start < total; start += 1_000) {
        if (start === 40_000) {
          // The first part must already be on the server: the body is not built whole first.
          const seen = await server.requests();
          uploadedWhileProducing = seen.some((r) => r.url.includes("partNumber=1"));
        }
        yield Array.from({ length: 1_000 }, (_, i) => ({ id: start + i, pad }));
      }
    }
    await server.requests({ clear: true });
    const written = await store.load(produce(), {
      key: "big/rows.jsonl",
      mode: "replace",
      partSize: 5 * 1024 * 1024,
    });
    assertEquals(written, { rows: total, schema_changes: null });
    assert(uploadedWhileProducing, "no part was uploaded before the source was exhausted");
    const seen = await server.requests();
    assert(seen.some((r) => r.method === "POST" && r.url.includes("uploads")), "no multipart");
    assertEquals(seen.filter((r) => r.url.includes("partNumber=")).length, 2);

    let count = 0;
    let largest = 0;
    for await (const batch of store.extractStream({ key: "big/rows.jsonl", batchSize: 4_096 })) {
      largest = Math.max(largest, batch.length);
      for (const row of batch) assertEquals(row.id, count++);
    }
    assertEquals(count, total);
    assertEquals(largest, 4_096);
  });

  await t.step("append creates new keys only; replace overwrites; upsert is refused", async () => {
    assertEquals((await store.load([{ v: 1 }], { key: "modes/new.jsonl" })).rows, 1);
    await rejects(
      () => store.load([{ v: 2 }], { key: "modes/new.jsonl", mode: "append" }),
      /modes\/new\.jsonl already exists.*mode: "replace"/,
    );
    await store.load([{ v: 3 }], { key: "modes/new.jsonl", mode: "replace" });
    assertEquals(await store.extract({ key: "modes/new.jsonl" }), [{ v: 3 }]);
    await rejects(
      () => store.load([{ v: 4 }], { key: "modes/new.jsonl", mode: "upsert", mergeKey: "v" }),
      /upsert is not possible/,
    );
    assertEquals((await store.load([], { key: "modes/empty.json", mode: "replace" })).rows, 0);
    assertEquals(await store.extract({ key: "modes/empty.json" }), []);
  });

  await t.step("missing key, bad input and execute fail with clear messages", async () => {
    const err = await rejects(
      () => store.extract({ key: "nope/missing.json" }),
      /GetObject s3:\/\/tau-test\/nope\/missing\.json failed: NoSuchKey.*HTTP 404/,
    );
    assert(err instanceof ConnectorError);
    await rejects(() => store.extract({}), /needs key .* or prefix/);
    await rejects(() => store.execute("SELECT 1"), /runs no statements.*extract/);
    await store.load([{ ok: 1 }], { key: "bad/lines.jsonl", mode: "replace" });
    await fetch(`${server.endpoint}/${BUCKET}/bad/lines.jsonl`, {
      method: "PUT",
      body: '{"ok":1}\n\n{"ok":\n',
    }).then((r) => r.body?.cancel());
    await rejects(() => store.extract({ key: "bad/lines.jsonl" }), /line 3 of .*not valid JSON/);
    await fetch(`${server.endpoint}/${BUCKET}/bad/short.csv`, {
      method: "PUT",
      body: "a,b\n1,2\n3\n",
    }).then((r) => r.body?.cancel());
    await rejects(
      () => store.extract({ key: "bad/short.csv" }),
      /cannot parse .*short\.csv as CSV/,
    );
  });

  await t.step(
    "bad credentials are rejected by the server without leaking the secret",
    async () => {
      await using wrongSecret = connector(server, { secretAccessKey: "not-the-secret-123" });
      const a = await rejects(
        () => wrongSecret.extract({ key: "rt/tricky.json" }),
        /SignatureDoesNotMatch.*403/,
      );
      assert(!a.message.includes("not-the-secret-123"));
      await using wrongKey = connector(server, { accessKeyId: "NOBODY" });
      await rejects(() => wrongKey.ping(), /HeadBucket.*HTTP 403.*check accessKeyId/);
      await rejects(
        () => wrongKey.load([{ a: 1 }], { key: "denied.json", mode: "replace" }),
        /InvalidAccessKeyId/,
      );
    },
  );

  await t.step("options are validated before connecting", () => {
    const base = { bucket: BUCKET, accessKeyId: "a", secretAccessKey: "s" };
    for (
      const [options, pattern] of [
        [{ ...base, bucket: "" }, /bucket is required/],
        [{ ...base, secretAccessKey: "" }, /secretAccessKey is required/],
        [{ ...base, endpoint: "localhost:9000" }, /endpoint must be an http\(s\) URL/],
      ] as const
    ) {
      let message = "";
      try {
        s3(options);
      } catch (err) {
        message = (err as Error).message;
      }
      assertMatch(message, pattern);
    }
  });

  await t.step("works in a sandbox: no read, no sys, env only for the SDK's probes", async () => {
    // Close to the run sandbox's flags (src/sandbox/permissions.ts): no config, an import map of
    // the approved packages, read/write only a scratch folder, HOME pointing there.
    const scratch = await Deno.makeTempDir({ prefix: "tau-s3-sandbox-" });
    try {
      const script = `${scratch}/pipeline.ts`;
      await Deno.writeTextFile(script, sandboxScript(server));
      const config = JSON.parse(
        await Deno.readTextFile(new URL("../../deno.json", import.meta.url)),
      ) as { imports: Record<string, string> };
      const importMap = `${scratch}/import_map.json`;
      const names = ["@aws-sdk/client-s3", "csv-parse/stream", "csv-stringify/sync"];
      await Deno.writeTextFile(
        importMap,
        JSON.stringify({ imports: Object.fromEntries(names.map((n) => [n, config.imports[n]])) }),
      );
      const run = (env: readonly string[]) =>
        new Deno.Command(Deno.execPath(), {
          args: [
            "run",
            ...["--no-prompt", "--no-config", "--no-check", "--no-remote"],
            // Versions come from the lockfile, as in a run (not from cached registry metadata).
            `--lock=${fileURLToPath(new URL("../../deno.lock", import.meta.url))}`,
            "--frozen",
            "--cached-only",
            `--import-map=${importMap}`,
            `--allow-read=${scratch}`,
            `--allow-write=${scratch}`,
            `--allow-net=localhost:${server.port}`,
            "--deny-net=169.254.0.0/16",
            ...(env.length > 0 ? [`--allow-env=${env.join(",")}`] : []),
            script,
          ],
          clearEnv: true,
          env: {
            HOME: scratch,
            TMPDIR: scratch,
            DENO_DIR: Deno.env.get("DENO_DIR") ?? defaultDenoDir(),
            NO_COLOR: "1",
          },
          stdout: "piped",
          stderr: "piped",
        }).output();
      const ok = await run(S3_ENV_PROBES);
      const out = new TextDecoder().decode(ok.stdout);
      assertEquals(ok.code, 0, `${out}\n${new TextDecoder().decode(ok.stderr)}`);
      assertEquals(JSON.parse(out.trim().split("\n").pop() as string), {
        written: 2,
        rows: [{ a: 1, b: "x" }, { a: 2, b: null }],
        listed: ["sandbox/out.csv"],
        missing: "ConnectorError",
        multipart: 60_000,
        appended: 1,
        awsError:
          'Requires net access to "tau-probe.s3.us-east-1.amazonaws.com:443", run again with the --allow-net flag',
      });
      // Without the probes the SDK cannot even be imported.
      const denied = await run([]);
      assert(denied.code !== 0);
      assertMatch(new TextDecoder().decode(denied.stderr), /Requires env access to "AWS_/);
    } finally {
      await Deno.remove(scratch, { recursive: true });
    }
  });
});

function defaultDenoDir(): string {
  return `${Deno.env.get("HOME")}/.cache/deno`;
}

function sandboxScript(server: S3Server): string {
  const module = new URL("./s3.ts", import.meta.url).href;
  return `
import { s3 } from ${JSON.stringify(module)};
const store = s3({
  bucket: ${JSON.stringify(BUCKET)},
  endpoint: "http://localhost:${server.port}",
  accessKeyId: ${JSON.stringify(server.accessKeyId)},
  secretAccessKey: ${JSON.stringify(server.secretAccessKey)},
  prefix: "sandbox/",
});
await store.ping();
const { rows: written } = await store.load([{ a: 1, b: "x" }, { a: 2, b: null }], { key: "out.csv", mode: "replace" });
const rows = await store.extract({ key: "out.csv", csvTypes: true });
const listed = (await store.execute("list")).rows.map((r) => "sandbox/" + r.key);
let missing = "none";
try { await store.extract({ key: "missing.json" }); } catch (err) { missing = err.name; }
async function* big() {
  for (let i = 0; i < 60; i++) yield Array.from({ length: 1000 }, (_, j) => ({ i, j, pad: "x".repeat(100) }));
}
const { rows: multipart } = await store.load(big(), { key: "big.csv", mode: "replace", partSize: 5 * 1024 * 1024 });
await store.load([], { key: "big.csv", mode: "replace" });
const { rows: appended } = await store.load([{ n: 1 }], { key: "new-" + Date.now() + ".json" });
await store.close();
// AWS itself (no endpoint): all settings resolve without env or files; only the network is
// refused, since the sandbox allows just the local server.
const aws = s3({ bucket: "tau-probe", accessKeyId: "AKIDEXAMPLE", secretAccessKey: "x" });
let awsError = "none";
try { await aws.load([{ a: 1 }], { key: "x.json", mode: "replace" }); } catch (err) { awsError = err.message; }
await aws.close();
console.log(JSON.stringify({ written, rows, listed, missing, multipart, appended, awsError }));
`;
}
