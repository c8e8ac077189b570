import { assert, assertEquals } from "../../tests/helpers/assert.ts";
import { APPROVED_DRIVERS, approvedLock, npmPackageOf } from "./npm_cache.ts";

Deno.test("the sandbox lockfile holds the approved drivers and their dependencies only", async () => {
  const lock = await approvedLock();
  const names = Object.keys(lock.npm).map((key) => key.slice(0, key.indexOf("@", 1)));
  for (
    const driver of [
      "postgres",
      "mysql2",
      "@aws-sdk/client-s3",
      "csv-parse",
      "csv-stringify",
      "zod",
    ]
  ) {
    assert.ok(names.includes(driver), driver);
  }
  for (const tauOnly of ["hono", "smol-toml", "croner", "@duckdb/node-api", "s3rver"]) {
    assert.ok(!names.includes(tauOnly), tauOnly);
  }
  assertEquals(Object.keys(lock.specifiers).length, Object.keys(APPROVED_DRIVERS).length);
  // Every dependency of a kept package is kept too.
  for (const entry of Object.values(lock.npm)) {
    for (const dep of entry.dependencies ?? []) {
      assert.ok(Object.keys(lock.npm).some((k) => k === dep || k.startsWith(`${dep}@`)), dep);
    }
  }
});

Deno.test("npm package names are read from specifiers", () => {
  assertEquals(npmPackageOf("npm:@aws-sdk/client-s3@3.1169.0"), "@aws-sdk/client-s3@3.1169.0");
  assertEquals(npmPackageOf("npm:/mysql2@3.24.6/promise"), "mysql2@3.24.6");
  assertEquals(npmPackageOf("jsr:@std/x"), null);
});
