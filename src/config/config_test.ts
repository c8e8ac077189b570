import { assert, assertEquals } from "../../tests/helpers/assert.ts";
import { TauError } from "../core/errors.ts";
import { parseConfig } from "./config.ts";

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

Deno.test("errors name the key, the missing variable, or the line", () => {
  const message = (text: string) => {
    try {
      parseConfig(text, env({}));
    } catch (err) {
      assert.ok(err instanceof TauError);
      assertEquals(err.code, "invalid_config");
      return err.message;
    }
    throw new Error("expected an error");
  };
  assert.ok(message("[daemon]\nport = 99999\n").includes("daemon.port"));
  assert.ok(message("[deamon]\nport = 1\n").includes("deamon"));
  assert.ok(message('[connections.w]\ndsn = "${NOPE}"\n').includes("NOPE"));
  assert.ok(message("[daemon\nport = 1\n").includes("line 1"));
  assert.ok(message('[scheduler]\ntimezone = "Mars/Olympus"\n').includes("timezone"));
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
