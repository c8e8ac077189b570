import { assertEquals } from "../../tests/helpers/assert.ts";
import type { RunError } from "../store/mod.ts";
import { classifyError } from "./classify.ts";
import type { DiagnosisClass } from "./types.ts";

const pg = (code: string) => ({ source: "postgres", code });

const CASES: [string, RunError, DiagnosisClass][] = [
  [
    "a net denial",
    { kind: "permission_denied", message: "Requires net access" },
    "permission_denied",
  ],
  [
    "an undeclared connection",
    { kind: "undeclared_connection", message: "x" },
    "permission_denied",
  ],
  ["an undeclared secret", { kind: "undeclared_secret", message: "x" }, "secret_missing"],
  ["an unset secret", { kind: "secret_not_set", message: "x" }, "secret_missing"],
  ["an unknown connection", { kind: "unknown_connection", message: "x" }, "connection"],
  ["a timeout", { kind: "timeout", message: "x" }, "timeout"],
  ["a memory limit", { kind: "memory_limit", message: "x" }, "resource_limit"],
  ["an output limit", { kind: "output_limit", message: "x" }, "resource_limit"],
  ["a refused load", { kind: "schema_change", message: "x" }, "schema_drift"],
  ["an invalid pipeline", { kind: "invalid_pipeline", message: "x" }, "syntax_or_type"],
  ["a skipped downstream", { kind: "upstream_failed", message: "x" }, "upstream_failed"],
  ["a lost worker", { kind: "worker_lost", message: "x" }, "infrastructure"],
  ["a restart", { kind: "daemon_restart", message: "x" }, "infrastructure"],
  ["42703", { kind: "exception", message: "x", details: pg("42703") }, "schema_drift"],
  ["42P01", { kind: "exception", message: "x", details: pg("42P01") }, "schema_drift"],
  ["42601", { kind: "exception", message: "x", details: pg("42601") }, "syntax_or_type"],
  ["23505", { kind: "exception", message: "x", details: pg("23505") }, "data_quality"],
  ["23502", { kind: "exception", message: "x", details: pg("23502") }, "data_quality"],
  ["21000", { kind: "exception", message: "x", details: pg("21000") }, "data_quality"],
  ["28P01", { kind: "exception", message: "x", details: pg("28P01") }, "auth"],
  ["57014", { kind: "exception", message: "x", details: pg("57014") }, "timeout"],
  ["53200", { kind: "exception", message: "x", details: pg("53200") }, "resource_limit"],
  ["08006", { kind: "exception", message: "x", details: pg("08006") }, "connection"],
  [
    "MySQL 1054",
    { kind: "exception", message: "x", details: { source: "mysql", errno: 1054 } },
    "schema_drift",
  ],
  [
    "MySQL 1062",
    { kind: "exception", message: "x", details: { source: "mysql", errno: 1062 } },
    "data_quality",
  ],
  [
    "MySQL 1045",
    { kind: "exception", message: "x", details: { source: "mysql", errno: 1045 } },
    "auth",
  ],
  [
    "DuckDB Binder",
    { kind: "exception", message: "x", details: { source: "duckdb", code: "Binder" } },
    "schema_drift",
  ],
  [
    "DuckDB Catalog",
    { kind: "exception", message: "x", details: { source: "duckdb", code: "Catalog" } },
    "schema_drift",
  ],
  [
    "DuckDB Constraint",
    { kind: "exception", message: "x", details: { source: "duckdb", code: "Constraint" } },
    "data_quality",
  ],
  [
    "fetch refused",
    { kind: "exception", message: "x", details: { source: "fetch", code: "ECONNREFUSED" } },
    "connection",
  ],
  [
    "a TLS failure",
    { kind: "exception", message: "x", details: { source: "network", code: "TLS" } },
    "connection",
  ],
  [
    "HTTP 429",
    { kind: "exception", message: "GET /x: HTTP 429 Too Many Requests" },
    "rate_limited",
  ],
  ["HTTP 401", { kind: "exception", message: "GET /x: HTTP 401 Unauthorized" }, "auth"],
  [
    "duplicate merge keys",
    { kind: "exception", message: "Cannot upsert: more than one row has id=1" },
    "data_quality",
  ],
  [
    "a TypeError",
    { kind: "exception", message: "x.map is not a function", stack: "TypeError: x.map is not…" },
    "syntax_or_type",
  ],
  ["a thrown Error", { kind: "exception", message: "boom", stack: "Error: boom" }, "code_bug"],
  ["a crash", { kind: "crashed", message: "exit code 3" }, "code_bug"],
];

Deno.test("classifyError: the class table", () => {
  for (const [name, error, expected] of CASES) {
    assertEquals(classifyError(error).class, expected, name);
  }
});

Deno.test("classifyError: names the fields that decided", () => {
  assertEquals(classifyError({ kind: "timeout", message: "x" }).because, ["kind"]);
  assertEquals(
    classifyError({ kind: "exception", message: "x", details: pg("42703") }).because,
    ["kind", "details.source", "details.code"],
  );
});
