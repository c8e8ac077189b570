/**
 * Named connections are permissions: declaring one grants exactly its host and credentials.
 * Runs against the real PostgreSQL on this machine, embedded DuckDB, and a local HTTP API.
 */
import { assert, assertEquals, assertMatch } from "../helpers/assert.ts";
import { EXAMPLES, startDaemon } from "../helpers/daemon.ts";

const PG = "postgres://postgres@127.0.0.1:5432/test";

function usersApi() {
  const users = Array.from(
    { length: 5 },
    (_, i) => ({ user_id: i + 1, name: `user ${i + 1}`, plan: "free" }),
  );
  const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen: () => {} }, (req) => {
    const url = new URL(req.url);
    if (url.pathname !== "/v1/users") return new Response("not found", { status: 404 });
    const page = Number(url.searchParams.get("page") ?? 1);
    const size = Number(url.searchParams.get("per_page") ?? 100);
    return Response.json({ data: users.slice((page - 1) * size, page * size) });
  });
  return { server, url: `http://127.0.0.1:${server.addr.port}/v1` };
}

async function psql(sql: string): Promise<string> {
  const out = await new Deno.Command("psql", {
    args: ["-h", "127.0.0.1", "-U", "postgres", "-d", "test", "-tAc", sql],
  })
    .output();
  return new TextDecoder().decode(out.stdout).trim();
}

Deno.test("connections: permissions derived from tau.toml, examples end to end", async (t) => {
  const api = usersApi();
  const secret = "db-password-never-stored";
  const lakeDir = await Deno.makeTempDir({ prefix: "tau_lake_" });
  const config = `
[connections.warehouse]
type = "postgres"
dsn = "${PG}"
password = "${secret}"

[connections.api]
type = "http_api"
base_url = "${api.url}"

[connections.lake]
type = "duckdb"
path = "${lakeDir}/lake.duckdb"
`;
  // The password field is not needed by the trust-auth server; it is there to be redacted.
  const d = await startDaemon({ WAREHOUSE_DSN: PG, USERS_API_URL: api.url }, { config });
  try {
    await psql("DROP TABLE IF EXISTS raw.users; DROP TABLE IF EXISTS raw.users_inline");

    await t.step("tau connections lists hosts, never credentials", async () => {
      const list = await d.tau("connections");
      assertEquals(list.code, 0, list.stdout);
      const byName = Object.fromEntries(
        list.json.connections.map((c: { name: string }) => [c.name, c]),
      );
      assertEquals(byName.warehouse.hosts, ["127.0.0.1:5432"]);
      assertEquals(byName.lake.trusted_side, true);
      assert.ok(!list.stdout.includes(secret));
    });

    await t.step("tau connections --test really connects", async () => {
      const ok = await d.tau("connections", "--test", "warehouse");
      assertEquals(ok.json.ok, true, ok.stdout);
      assert.ok(ok.json.latency_ms >= 0);
      const lake = await d.tau("connections", "--test", "lake");
      assertEquals(lake.json.ok, true, lake.stdout);
      const missing = await d.tau("connections", "--test", "nope");
      assertEquals(missing.json.error.code, "not_found");
    });

    await t.step("api_to_warehouse example: named connections end to end", async () => {
      const dep = await d.tau("deploy", `${EXAMPLES}api_to_warehouse.ts`);
      assertEquals(dep.code, 0, dep.stdout);
      assertEquals(
        dep.json.permissions.net.sort(),
        ["127.0.0.1:5432", new URL(api.url).host].sort(),
      );
      const run = await d.tau("run", "api_to_warehouse");
      assertEquals(run.json.status, "success", JSON.stringify(run.json.error));
      assertEquals(run.json.result, { users: 5, written: 5 });
      assertEquals(await psql("SELECT count(*) FROM raw.users"), "5");
      assert.ok(!run.stdout.includes(secret));
      const again = await d.tau("run", "api_to_warehouse");
      assertEquals(again.json.status, "success");
      assertEquals(await psql("SELECT count(*) FROM raw.users"), "5");
    });

    await t.step("inline connector example", async () => {
      // The example grants the API on 127.0.0.1:8080; the stand-in listens on a free port.
      const copy = `${await Deno.makeTempDir()}/inline_connectors.ts`;
      const code = await Deno.readTextFile(`${EXAMPLES}inline_connectors.ts`);
      await Deno.writeTextFile(copy, code.replace("127.0.0.1:8080", new URL(api.url).host));
      const dep = await d.tau("deploy", copy);
      assertEquals(dep.code, 0, dep.stdout);
      const run = await d.tau("run", "inline_api_to_warehouse");
      assertEquals(run.json.status, "success", JSON.stringify(run.json.error));
      assertEquals(run.json.result, { written: 5, in_table: 5 });
    });

    await t.step("a declared connection reaches its host and nothing else", async () => {
      await d.deploy("pg_and_fetch.ts");
      const run = await d.tau(
        "run",
        "pg_and_fetch",
        "--params",
        JSON.stringify({ url: `${api.url}/users` }),
      );
      assertEquals(run.json.status, "failed");
      assert.ok(
        run.json.logs.some((l: { message: string }) => l.message === "answer 42"),
        run.stdout,
      );
      assertEquals(run.json.error.kind, "permission_denied");
      assertEquals(run.json.error.target, new URL(api.url).host);
    });

    await t.step("without the declaration the warehouse is unreachable", async () => {
      await d.deploy("pg_undeclared.ts");
      const inline = await d.tau("run", "pg_undeclared");
      assertEquals(inline.json.status, "failed");
      assertEquals(inline.json.error.kind, "permission_denied", JSON.stringify(inline.json.error));
      assertEquals(inline.json.error.target, "127.0.0.1:5432");
      const named = await d.tau("run", "pg_undeclared", "--params", '{"named": true}');
      assertEquals(
        named.json.error.kind,
        "undeclared_connection",
        JSON.stringify(named.json.error),
      );
    });

    await t.step("deploy refuses an unknown connection", async () => {
      const dir = await Deno.makeTempDir();
      await Deno.writeTextFile(
        `${dir}/p.ts`,
        'import { pipeline } from "tau";\nexport default pipeline({ name: "ghost", connections: ["ghost"] }, () => 1);\n',
      );
      const res = await d.tau("deploy", `${dir}/p.ts`);
      assertEquals(res.json.error.code, "invalid_pipeline");
      assertMatch(res.json.error.message, /Unknown connection ghost/);
      await Deno.remove(dir, { recursive: true });
    });

    await t.step("DuckDB bulk load: large batches, beyond the output cap", async () => {
      await d.deploy("duck_bulk.ts");
      const run = await d.tau("run", "duck_bulk");
      assertEquals(run.json.status, "success", JSON.stringify(run.json.error));
      assertEquals(run.json.result, { written: 200_000, check: { n: 200_000, top: 199_999 } });
    });

    await t.step("DuckDB stays inside its allowed directories", async () => {
      await d.deploy("duck_escape.ts");
      const run = await d.tau("run", "duck_escape");
      assertEquals(run.json.status, "success", JSON.stringify(run.json.error));
      assertEquals(run.json.result.count, 2);
      for (const [sql, outcome] of Object.entries(run.json.result.attempts)) {
        assert.ok(outcome !== "allowed", `${sql} was allowed`);
      }
      await assert.rejects(() => Deno.stat("/tmp/tau_duck_escape.csv"));
    });
  } finally {
    await d.stop();
    await api.server.shutdown();
    await Deno.remove(lakeDir, { recursive: true });
    await psql("DROP TABLE IF EXISTS raw.users; DROP TABLE IF EXISTS raw.users_inline");
  }
});

Deno.test("connections: s3 in a run, Parquet read through DuckDB", async () => {
  const { startS3Server } = await import("../helpers/s3_server.ts");
  const { DuckDBInstance } = await import("@duckdb/node-api");
  const { S3Client, PutObjectCommand, GetObjectCommand } = await import("@aws-sdk/client-s3");
  const s3 = await startS3Server();
  const dir = await Deno.makeTempDir({ prefix: "tau_parquet_" });
  const config = `
[connections.bucket]
type = "s3"
bucket = "tau-test"
endpoint = "${s3.endpoint}"
access_key_id = "${s3.accessKeyId}"
secret_access_key = "${s3.secretAccessKey}"
`;
  const d = await startDaemon({}, { config });
  try {
    const duck = await (await DuckDBInstance.create(":memory:")).connect();
    await duck.run(
      `COPY (SELECT * FROM (VALUES (1, 'ann'), (2, 'bob')) t(id, name)) TO '${dir}/p.parquet' (FORMAT parquet)`,
    );
    const client = new S3Client({
      endpoint: s3.endpoint,
      region: "us-east-1",
      forcePathStyle: true,
      credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
    });
    await client.send(
      new PutObjectCommand({
        Bucket: "tau-test",
        Key: "in/people.parquet",
        Body: await Deno.readFile(`${dir}/p.parquet`),
      }),
    );
    await d.deploy("s3_parquet.ts");
    const run = await d.tau("run", "s3_parquet");
    assertEquals(run.json.status, "success", JSON.stringify(run.json.error));
    assertEquals(run.json.result, {
      rows: [{ id: 1, name: "ann" }, { id: 2, name: "bob" }],
      written: 2,
    });
    assertEquals(run.json.permissions.net, [s3.host]);
    assert.ok(!run.stdout.includes(s3.secretAccessKey) || s3.secretAccessKey.length < 4);
    const out = await client.send(
      new GetObjectCommand({ Bucket: "tau-test", Key: "out/people.jsonl" }),
    );
    assertEquals(
      await out.Body?.transformToString(),
      '{"id":1,"name":"ann"}\n{"id":2,"name":"bob"}\n',
    );
    client.destroy();
  } finally {
    await d.stop();
    await s3.close();
    await Deno.remove(dir, { recursive: true });
  }
});
