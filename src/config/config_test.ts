import { assert, assertEquals, assertMatch } from "../../tests/helpers/assert.ts";
import { TauError } from "../core/errors.ts";
import { parseConfig } from "./config.ts";
import { keyLine } from "./toml_lines.ts";

const env = (vars: Record<string, string>) => ({ get: (name: string) => vars[name] });

Deno.test("defaults apply to an empty file", () => {
  const config = parseConfig("", env({}));
  assertEquals(config.daemon, {
    host: "127.0.0.1",
    port: 8400,
    drain_grace: "10s",
    lease: "15s",
  });
  assertEquals(config.database, { pool_size: 10 });
  assertEquals(config.scheduler.timezone, "UTC");
});

Deno.test("${VAR} and ${VAR:-default} are interpolated", () => {
  const config = parseConfig(
    '[connections.w]\ntype = "postgres"\ndsn = "${DSN}"\nschema = "${SCHEMA:-public}"\n',
    env({ DSN: "postgres://x" }),
  );
  assertEquals(config.connections.w, { type: "postgres", dsn: "postgres://x", schema: "public" });
});

Deno.test("errors name the file, the line and the key", () => {
  const error = (text: string) => {
    try {
      parseConfig(text, env({}), "/etc/tau.toml");
    } catch (err) {
      assert.ok(err instanceof TauError);
      assertEquals(err.code, "invalid_config");
      return { message: err.message, hint: err.hint };
    }
    throw new Error("expected an error");
  };
  assertMatch(error("[daemon]\nport = 99999\n").message, /^\/etc\/tau\.toml:2: daemon\.port: /);
  assertEquals(error("\n[deamon]\nport = 1\n"), {
    message: "/etc/tau.toml:2: deamon: unknown table",
    hint:
      "the tables are [daemon], [dashboard], [database], [auth], [scheduler], [sandbox], [connections], [ai], [webhooks], [webhooks_delivery]; see tau.toml.example",
  });
  assertEquals(error("[sandbox.ceiling]\nheap = 1\n"), {
    message: "/etc/tau.toml:2: sandbox.ceiling.heap: unknown key",
    hint:
      "[sandbox.ceiling] takes heap_mb, memory_mb, cpu_seconds, disk_mb, max_output_bytes, max_request_bytes, max_events, timeout; see tau.toml.example",
  });
  assertEquals(
    error('[connections.w]\ntype = "postgres"\ndsn = "${NOPE}"\n').message,
    "/etc/tau.toml:3: connections.w.dsn refers to ${NOPE}, which is not set",
  );
  assertMatch(error("[daemon\nport = 1\n").message, /^\/etc\/tau\.toml:1:\d+: syntax error: /);
  assertMatch(error('[scheduler]\ntimezone = "Mars/Olympus"\n').message, /:2: scheduler\.timezone/);
  // Connections are checked with the file, so their errors have a line too.
  assertEquals(
    error('[connections.w]\ntype = "postgress"\n'),
    {
      message: '/etc/tau.toml:2: connections.w.type: unknown type "postgress"',
      hint:
        "one of: postgres, redshift, mysql, duckdb, motherduck, clickhouse, bigquery, snowflake, s3, http_api",
    },
  );
  assertMatch(
    error('[connections.w]\ntype = "postgres"\nport = 5432\n').message,
    /^\/etc\/tau\.toml:1: connections\.w\.(dsn|host)/,
  );
});

Deno.test("keyLine finds tables, keys, dotted keys and quoted names", () => {
  const text = [
    "# comment",
    "[daemon]",
    "port = 1",
    "",
    '[connections."my.db"]',
    'type = "postgres"',
    "[sandbox]",
    "ceiling.heap_mb = 2",
    "[[ai.models]]",
    'name = "x"',
  ].join("\n");
  assertEquals(keyLine(text, ["daemon"]), 2);
  assertEquals(keyLine(text, ["daemon", "port"]), 3);
  assertEquals(keyLine(text, ["connections", "my.db", "type"]), 6);
  assertEquals(keyLine(text, ["sandbox", "ceiling", "heap_mb"]), 8);
  assertEquals(keyLine(text, ["ai", "models", "name"]), 10);
  assertEquals(keyLine(text, ["daemon", "host"]), null);
  assertEquals(keyLine(text, []), null);
});

Deno.test("tau.toml.example is valid, connections included", async () => {
  const { parseConnections } = await import("../connections/registry.ts");
  const text = await Deno.readTextFile(new URL("../../tau.toml.example", import.meta.url));
  const config = parseConfig(text, env({}));
  const connections = parseConnections(config.connections);
  assert.ok(connections.size >= 8);
});

Deno.test("[database] url must be a PostgreSQL URL", () => {
  const config = parseConfig('[database]\nurl = "postgres://u@db:5432/tau"\n', env({}));
  assertEquals(config.database.url, "postgres://u@db:5432/tau");
  try {
    parseConfig('[database]\nurl = "mysql://db/tau"\n', env({}));
    throw new Error("expected an error");
  } catch (err) {
    assert.ok(err instanceof TauError && /database\.url/.test(err.message), String(err));
  }
});

Deno.test("[ai] is optional; present, it is checked and gets its defaults", () => {
  assertEquals(parseConfig("", env({})).ai, undefined);
  const config = parseConfig('[ai]\nprovider = "openai"\nmodel = "m"\n', env({}));
  assertEquals(config.ai, {
    provider: "openai",
    model: "m",
    max_attempts: 3,
    timeout: "5m",
    max_retries: 4,
    max_tokens: 16000,
    on_failure: "diagnose",
    max_heals_per_day: 10,
  });
  const error = (text: string) => {
    try {
      parseConfig(text, env({}), "tau.toml");
    } catch (err) {
      assert.ok(err instanceof TauError);
      return `${err.message} | ${err.hint}`;
    }
    throw new Error("expected an error");
  };
  assertMatch(error('[ai]\nprovider = "gemini"\nmodel = "m"\n'), /^tau\.toml:2: ai\.provider: /);
  assertMatch(error('[ai]\nprovider = "openai"\n'), /^tau\.toml:1: ai\.model: /);
  assertMatch(
    error('[ai]\nprovider = "openai"\nmodel = "m"\napi_key = "sk-1"\n'),
    /^tau\.toml:4: ai\.api_key: unknown key \| \[ai\] takes provider, model, base_url, api_key_env,/,
  );
  assertMatch(
    error('[ai]\nprovider = "openai"\nmodel = "m"\nbase_url = "localhost:11434"\n'),
    /^tau\.toml:4: ai\.base_url: /,
  );
  assertMatch(
    error('[ai]\nprovider = "openai"\nmodel = "m"\non_failure = "fix"\n'),
    /^tau\.toml:4: ai\.on_failure: /,
  );
});
