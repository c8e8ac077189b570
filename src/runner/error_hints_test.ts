import { assert, assertEquals } from "../../tests/helpers/assert.ts";
import { detailsHint, storedDetails } from "./error_hints.ts";
import { classifyChildError } from "./classify.ts";
import { eventSchema } from "../protocol/events.ts";
import type { ErrorDetails } from "../protocol/error_details.ts";
import { makeRedactor } from "./redact.ts";
import { storedText } from "./log_writer.ts";
import { STORED_DETAIL_CHARS } from "../../sdk/_limits.ts";

const hint = (details: ErrorDetails) => detailsHint(details);

Deno.test("each kind of driver error has its own hint, naming what the details say", () => {
  const cases: [ErrorDetails, RegExp][] = [
    [
      { source: "postgres", code: "42703", column: "plan", table: "users" },
      /the table "users" has no column "plan".*onSchemaChange/,
    ],
    [
      { source: "postgres", code: "42703", column: "customer" },
      /no table the statement reads has a column "customer"/,
    ],
    [{ source: "postgres", code: "42P01", table: "raw.users" }, /the table "raw.users" does not/],
    [{ source: "postgres", code: "28P01" }, /refused the user or password/],
    [
      { source: "postgres", code: "23505", table: "orders", constraint: "orders_pkey" },
      /repeats a unique key of "orders" \(orders_pkey\).*mode "upsert"/,
    ],
    [{ source: "postgres", code: "22P02" }, /does not fit its column's type/],
    [{ source: "postgres", code: "08006" }, /connection to PostgreSQL failed/],
    [{ source: "postgres", code: "XX000" }, /SQLSTATE XX000/],
    [
      { source: "mysql", code: "ER_BAD_FIELD_ERROR", errno: 1054, column: "nmae" },
      /no table the statement reads has a column "nmae"/,
    ],
    [{ source: "mysql", code: "ER_DUP_ENTRY", errno: 1062 }, /repeats a unique key/],
    [{ source: "mysql", code: "ER_X", errno: 9, sql_state: "HY000" }, /ER_X, SQLSTATE HY000/],
    [
      { source: "duckdb", code: "Binder", column: "customer", candidates: ["customer_name"] },
      /a column "customer".*bind instead: customer_name/,
    ],
    [{ source: "duckdb", code: "Catalog", table: "tt", suggestion: "t" }, /suggests "t"/],
    [{ source: "duckdb", code: "Conversion" }, /names its row for a load/],
    [
      { source: "fetch", code: "ECONNREFUSED", target: "127.0.0.1:2" },
      /nothing accepts connections at 127.0.0.1:2: is the host\/port .* right and the server up\?/,
    ],
    [
      { source: "network", code: "ECONNREFUSED", target: "db:5432" },
      /nothing accepts connections at db:5432/,
    ],
    [
      { source: "fetch", code: "ENOTFOUND", target: "x.invalid:80", reason: "dns error" },
      /x.invalid:80 does not resolve \(DNS\) \(dns error\)/,
    ],
    [{ source: "fetch", code: "TLS", target: "h:443" }, /TLS handshake with h:443 failed/],
    [{ source: "fetch" }, /never got an answer/],
  ];
  for (const [details, expected] of cases) {
    const text = hint(details);
    assert.ok(expected.test(text), `${JSON.stringify(details)} → ${text}`);
  }
});

Deno.test("a child's error keeps its details and gets their hint; malformed details are dropped", () => {
  const details = {
    source: "postgres",
    code: "42703",
    column: "plan",
    position: { offset: 8, line: 1, column: 8, excerpt: "SELECT plan\n       ^" },
    statement: "SELECT plan FROM users",
    unknown_field: "dropped",
    errno: "not a number",
  };
  const line = {
    type: "error",
    error: { name: "PostgresError", message: "m", stack: null, step: "load", details },
  };
  const parsed = eventSchema.parse(line);
  assert.ok(parsed.type === "error");
  assertEquals(parsed.error.details, {
    source: "postgres",
    code: "42703",
    column: "plan",
    position: details.position,
    statement: details.statement,
  });
  const error = classifyChildError(parsed.error, { codeUrl: "file:///c/p.ts", filename: "p.ts" });
  assertEquals(error.kind, "exception");
  assertEquals(error.details, parsed.error.details);
  assert.ok(error.hint?.includes('has a column "plan"'), error.hint ?? "");

  // Details that do not fit the schema cost the error nothing but themselves.
  const bad = eventSchema.parse({ ...line, error: { ...line.error, details: { source: "evil" } } });
  assert.ok(bad.type === "error");
  assertEquals(bad.error.details, undefined);
  assertEquals(bad.error.message, "m");
  const tooMany = eventSchema.parse({
    ...line,
    error: { ...line.error, details: { source: "duckdb", candidates: Array(21).fill("c") } },
  });
  assert.ok(tooMany.type === "error");
  assertEquals(tooMany.error.details, { source: "duckdb" });
});

Deno.test("stored details are redacted, then cut", () => {
  const redact = makeRedactor({ DB_PASSWORD: "hunter2-secret" });
  const stored = storedDetails(
    {
      source: "postgres",
      statement: `SELECT '${"x".repeat(STORED_DETAIL_CHARS)}'`,
      detail: "password hunter2-secret rejected",
      position: { offset: 1, line: 1, column: 1, excerpt: "hunter2-secret\n^" },
      causes: ["outer", "inner hunter2-secret"],
      errno: 7,
    },
    (text, max) => storedText(redact, text, max),
  );
  assertEquals(stored.detail, "password [REDACTED:DB_PASSWORD] rejected");
  assertEquals((stored.position as { excerpt: string }).excerpt, "[REDACTED:DB_PASSWORD]\n^");
  assertEquals(stored.causes, ["outer", "inner [REDACTED:DB_PASSWORD]"]);
  assertEquals(stored.errno, 7);
  assert.ok((stored.statement as string).length <= STORED_DETAIL_CHARS + 1);
});
