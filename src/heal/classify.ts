/**
 * The class table: which diagnosis class a stored run error belongs to, and which of its fields
 * say so (they become the diagnosis's first evidence). Decided by the error's `kind`, then by
 * what the driver reported (`details`), then by the message; never by guessing.
 */
import type { RunErrorKind } from "../core/run_error_kinds.ts";
import type { RunError } from "../store/mod.ts";
import type { DiagnosisClass } from "./types.ts";

export interface Classification {
  class: DiagnosisClass;
  /** Paths into the error that decided it, e.g. `kind`, `details.code`, `message`. */
  because: string[];
}

const BY_KIND: Partial<Record<RunErrorKind, DiagnosisClass>> = {
  permission_denied: "permission_denied",
  undeclared_connection: "permission_denied",
  undeclared_secret: "secret_missing",
  secret_not_set: "secret_missing",
  unknown_connection: "connection",
  timeout: "timeout",
  memory_limit: "resource_limit",
  cpu_limit: "resource_limit",
  disk_limit: "resource_limit",
  audit_limit: "resource_limit",
  request_limit: "resource_limit",
  event_limit: "resource_limit",
  output_limit: "resource_limit",
  process_limit: "resource_limit",
  schema_change: "schema_drift",
  invalid_pipeline: "syntax_or_type",
  invalid_output: "code_bug",
  crashed: "code_bug",
  channel_closed: "code_bug",
  upstream_failed: "upstream_failed",
  internal: "infrastructure",
  daemon_restart: "infrastructure",
  worker_lost: "infrastructure",
  worker_stopped: "infrastructure",
};

/** PostgreSQL SQLSTATE: exact codes first, then classes (the first two characters). */
const SQLSTATE: [RegExp, DiagnosisClass][] = [
  [/^57014$/, "timeout"], // statement timeout / query cancelled
  [/^42501$/, "auth"], // insufficient privilege
  [/^(42703|42P01|3F000|42704)$/, "schema_drift"], // undefined column, table, schema, object
  [/^42/, "syntax_or_type"], // syntax error or access rule violation
  [/^(23|22|21)/, "data_quality"], // integrity, data exception, cardinality (upsert twice)
  [/^28/, "auth"],
  [/^(08|57P)/, "connection"],
  [/^53/, "resource_limit"],
];

/** MySQL/MariaDB errno. */
const MYSQL: Record<number, DiagnosisClass> = {
  1044: "auth",
  1045: "auth",
  1142: "auth",
  1227: "auth",
  1054: "schema_drift",
  1146: "schema_drift",
  1049: "schema_drift",
  1064: "syntax_or_type",
  1062: "data_quality",
  1048: "data_quality",
  1364: "data_quality",
  1366: "data_quality",
  1406: "data_quality",
  1451: "data_quality",
  1452: "data_quality",
  1205: "timeout",
  3024: "timeout",
  1040: "resource_limit",
  2002: "connection",
  2003: "connection",
  2005: "connection",
  2006: "connection",
  2013: "connection",
};

/** DuckDB error types (`Binder Error: …`). */
const DUCKDB: Record<string, DiagnosisClass> = {
  Binder: "schema_drift",
  Catalog: "schema_drift",
  Constraint: "data_quality",
  Conversion: "data_quality",
  "Invalid Input": "data_quality",
  Parser: "syntax_or_type",
  "Out of Memory": "resource_limit",
  Interrupt: "timeout",
};

/** What a message alone tells, when nothing structured did. */
const MESSAGES: [RegExp, DiagnosisClass][] = [
  [/\b429\b|too many requests|rate.?limit/i, "rate_limited"],
  [/\b(401|403)\b|unauthori[sz]ed|forbidden|authentication failed|access denied/i, "auth"],
  [
    /Cannot upsert.*(more than one row|NULL in)|duplicate key|violates .* constraint/i,
    "data_quality",
  ],
];

/** Error names whose stack's first line marks a mistake in the code itself. */
const CODE_ERRORS = /^(SyntaxError|TypeError|ReferenceError)\b/;

export function classifyError(error: RunError): Classification {
  const byKind = BY_KIND[error.kind];
  if (byKind) return { class: byKind, because: ["kind"] };
  const fromDetails = classifyDetails(error.details ?? null);
  if (fromDetails) return fromDetails;
  const message = MESSAGES.find(([pattern]) => pattern.test(error.message));
  if (message) return { class: message[1], because: ["kind", "message"] };
  const firstLine = error.stack?.split("\n", 1)[0] ?? "";
  if (CODE_ERRORS.test(firstLine)) return { class: "syntax_or_type", because: ["kind", "stack"] };
  return { class: "code_bug", because: ["kind", "message"] };
}

function classifyDetails(details: Record<string, unknown> | null): Classification | null {
  if (!details) return null;
  const code = typeof details.code === "string" ? details.code : null;
  const because = ["kind", "details.source", "details.code"];
  switch (details.source) {
    case "postgres": {
      const hit = code ? SQLSTATE.find(([pattern]) => pattern.test(code)) : undefined;
      return hit ? { class: hit[1], because } : null;
    }
    case "mysql": {
      const hit = typeof details.errno === "number" ? MYSQL[details.errno] : undefined;
      return hit ? { class: hit, because: ["kind", "details.source", "details.errno"] } : null;
    }
    case "duckdb": {
      const hit = code ? DUCKDB[code] : undefined;
      return hit ? { class: hit, because } : null;
    }
    case "fetch":
    case "network":
      return code ? { class: "connection", because } : null;
  }
  return null;
}

/** Classes where running again unchanged may well succeed. */
export const TRANSIENT: ReadonlySet<DiagnosisClass> = new Set([
  "connection",
  "rate_limited",
  "infrastructure",
]);
