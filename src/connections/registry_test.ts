import { assert, assertEquals } from "../../tests/helpers/assert.ts";
import { TauError } from "../core/errors.ts";
import { hostsFor, parseConnections, publicView, secretValues } from "./registry.ts";
import { resolveConnections } from "./resolve.ts";

function errorOf(raw: Record<string, Record<string, unknown>>): TauError {
  try {
    parseConnections(raw);
  } catch (err) {
    assert.ok(err instanceof TauError);
    return err;
  }
  throw new Error("expected an error");
}

Deno.test("errors name the connection and the field", () => {
  assert.match(
    errorOf({ w: { type: "oracle" } }).message,
    /connections\.w\.type: unknown type "oracle"/,
  );
  assert.match(
    errorOf({ w: { type: "postgres" } }).message,
    /connections\.w\.dsn: needs dsn or host/,
  );
  assert.match(
    errorOf({ w: { type: "postgres", dsn: "mysql://x/db" } }).message,
    /connections\.w\.dsn: must start with/,
  );
  assert.match(
    errorOf({ w: { type: "postgres", dsn: "not a url" } }).message,
    /connections\.w\.dsn: is not a valid/,
  );
  assert.match(errorOf({ api: { type: "http_api" } }).message, /connections\.api\.base_url/);
  assert.match(
    errorOf({ s: { type: "s3", bucket: "b", colour: "red" } }).message,
    /connections\.s\./,
  );
});

Deno.test("hosts are derived from each type's fields, with default ports", () => {
  const registry = parseConnections({
    pg: { type: "postgres", dsn: "postgres://u:p@db.internal/warehouse" },
    pg2: { type: "postgres", host: "10.0.0.5", port: 6543 },
    rs: { type: "redshift", host: "cluster.redshift.amazonaws.com" },
    my: { type: "mysql", dsn: "mysql://root@127.0.0.1:3307/test" },
    ch: { type: "clickhouse", url: "https://ch.example.com" },
    bq: { type: "bigquery", project: "p" },
    sf: { type: "snowflake", account: "xy123.eu-west-1", user: "u", token: "t" },
    s3: { type: "s3", bucket: "lake", region: "eu-west-1" },
    minio: { type: "s3", bucket: "lake", endpoint: "http://127.0.0.1:9000" },
    api: { type: "http_api", base_url: "https://api.example.com/v1" },
    duck: { type: "duckdb", path: "w.duckdb" },
  });
  const hosts = Object.fromEntries([...registry.values()].map((c) => [c.name, hostsFor(c)]));
  assertEquals(hosts, {
    pg: ["db.internal:5432"],
    pg2: ["10.0.0.5:6543"],
    rs: ["cluster.redshift.amazonaws.com:5439"],
    my: ["127.0.0.1:3307"],
    ch: ["ch.example.com:8443"],
    bq: ["bigquery.googleapis.com:443", "oauth2.googleapis.com:443"],
    sf: ["xy123.eu-west-1.snowflakecomputing.com:443"],
    s3: ["lake.s3.eu-west-1.amazonaws.com:443", "s3.eu-west-1.amazonaws.com:443"],
    minio: ["127.0.0.1:9000"],
    api: ["api.example.com:443"],
    duck: [],
  });
});

Deno.test("credentials are listed for redaction and never shown", async () => {
  const registry = parseConnections({
    pg: { type: "postgres", dsn: "postgres://u:s3cr%21t@db/w" },
    api: { type: "http_api", base_url: "https://x", headers: { Authorization: "Bearer tok123" } },
  });
  const pg = registry.get("pg")!;
  assert.ok(secretValues(pg).includes("s3cr!t"));
  assert.ok(secretValues(registry.get("api")!).includes("tok123"));
  const view = JSON.stringify([...registry.values()].map(publicView));
  assert.ok(!view.includes("s3cr") && !view.includes("tok123"), view);
  const resolved = await resolveConnections(["api"], registry, "/tmp");
  assertEquals(resolved.forRun.api, {
    type: "http_api",
    options: { baseUrl: "https://x", headers: { Authorization: "Bearer tok123" } },
  });
  await assert.rejects(
    () => resolveConnections(["nope"], registry, "/tmp"),
    /Unknown connection nope/,
  );
});

Deno.test("an unknown connection names the tau.toml the daemon read, and TAU_CONFIG", async () => {
  const error = async (file: string | null) => {
    const registry = Object.assign(parseConnections({ lake: { type: "duckdb", path: "l" } }), {
      file,
    });
    try {
      await resolveConnections(["crm"], registry, "/tmp");
    } catch (err) {
      assert.ok(err instanceof TauError);
      return { message: err.message, hint: err.hint ?? "" };
    }
    throw new Error("expected an error");
  };
  const named = await error("/srv/tau/tau.toml");
  assertEquals(named.message, "Unknown connection crm: /srv/tau/tau.toml has no [connections.crm]");
  assert.ok(named.hint.startsWith("configured connections: lake. "), named.hint);
  assert.ok(named.hint.includes("TAU_CONFIG"), named.hint);
  const none = await error(null);
  assert.ok(none.message.includes("taud started without a tau.toml"), none.message);
  assert.ok(none.hint.includes("TAU_CONFIG"), none.hint);
});
