/**
 * Hints for the errors a driver explained (a run error's `details`): one table from the error's
 * source and code (SQLSTATE, MySQL error name, DuckDB error type, network code) to what an
 * agent should check. Lookup goes from the most precise key to the least: `source:code`, the
 * network code alone (the same whoever connected), the SQLSTATE class (`postgres:23*`), the
 * source alone.
 */
import type { ErrorDetails } from "../protocol/error_details.ts";
import { STORED_DETAIL_CHARS } from "../../sdk/_limits.ts";

type Hint = (d: ErrorDetails) => string;

const name = (value: string | undefined, fallback: string) =>
  value === undefined ? fallback : JSON.stringify(value);

const missingColumn: Hint = (d) => {
  const column = name(d.column, "named in the message");
  const what = d.table
    ? `the table ${name(d.table, "")} has no column ${column}`
    : `no table the statement reads has a column ${column}`;
  const suggested = d.hint || d.candidates || d.suggestion
    ? "; details has the driver's guess"
    : "";
  return `${what}: check the column name (details.position shows where${suggested}), or, for a load whose source renamed or added columns, the load's onSchemaChange`;
};
const missingTable: Hint = (d) =>
  `the table ${
    name(d.table, "named in the statement")
  } does not exist: check its name and schema (the connection's database and search path), or create it first (a load creates a missing table)`;
const badCredentials: Hint = () =>
  "the server refused the user or password: check them in the connection in tau.toml (and that the environment variable it reads is set where taud runs)";
const missingDatabase: Hint = () =>
  "the database named in the connection does not exist on that server: check the database name in its dsn or database field in tau.toml";
const duplicateKey: Hint = (d) =>
  `a row repeats a unique key${d.table ? ` of ${name(d.table, "")}` : ""}${
    d.constraint ? ` (${d.constraint})` : ""
  }, see details.detail: remove duplicates from the rows, or load with mode "upsert" and mergeKey set to that key`;
const notNull: Hint = (d) =>
  `a row has NULL in the NOT NULL column ${name(d.column, "named in the message")}${
    d.table ? ` of ${name(d.table, "")}` : ""
  }: fill the value or filter those rows before the load`;
const syntax: Hint = () =>
  "the statement is not valid SQL for this engine: fix it where details.position points";
const badValue: Hint = () =>
  "a value does not fit its column's type: cast or clean it in the query, or check the rows loaded (details.detail and details.position say which)";
const privilege: Hint = () =>
  "the connection's user lacks a privilege on the table named in the message: grant it, or connect as another user";
const retry: Hint = () =>
  "the statement collided with another transaction: run it again (retries: N in the pipeline config retries the run)";
const cancelled: Hint = () =>
  "the server cancelled the statement (statement_timeout, or an administrator): make the query cheaper or raise that timeout";

const where = (d: ErrorDetails) => d.target ?? "the host";
const because = (d: ErrorDetails) => (d.reason ? ` (${d.reason})` : "");

const HINTS: Record<string, Hint> = {
  "postgres:42703": missingColumn,
  "postgres:42P01": missingTable,
  "postgres:28P01": badCredentials,
  "postgres:28000": badCredentials,
  "postgres:3D000": missingDatabase,
  "postgres:23505": duplicateKey,
  "postgres:23502": notNull,
  "postgres:42601": syntax,
  "postgres:42501": privilege,
  "postgres:57014": cancelled,
  "postgres:40P01": retry,
  "postgres:40001": retry,
  "postgres:22*": badValue,
  "postgres:23*": () =>
    "a row breaks a constraint of the table (details.constraint, details.detail): fix or filter those rows",
  "postgres:08*": () =>
    "the connection to PostgreSQL failed or broke: check the server is up and the connection's host, port and sslmode",
  "postgres": (d) =>
    `PostgreSQL refused the statement (SQLSTATE ${d.code}): read details.detail, details.hint and details.position`,
  "mysql:ER_BAD_FIELD_ERROR": missingColumn,
  "mysql:ER_NO_SUCH_TABLE": missingTable,
  "mysql:ER_ACCESS_DENIED_ERROR": badCredentials,
  "mysql:ER_DBACCESS_DENIED_ERROR": privilege,
  "mysql:ER_TABLEACCESS_DENIED_ERROR": privilege,
  "mysql:ER_BAD_DB_ERROR": missingDatabase,
  "mysql:ER_DUP_ENTRY": duplicateKey,
  "mysql:ER_BAD_NULL_ERROR": notNull,
  "mysql:ER_PARSE_ERROR": () =>
    "the statement is not valid SQL for MySQL/MariaDB: fix it near the text the message quotes",
  "mysql:ER_LOCK_DEADLOCK": retry,
  "mysql": (d) =>
    `MySQL refused the statement (${
      d.code ?? `errno ${d.errno}`
    }, SQLSTATE ${d.sql_state}): read details.sql_message and details.statement`,
  "duckdb:Binder": (d) =>
    d.column
      ? `${missingColumn(d)}${
        d.candidates ? `; columns DuckDB can bind instead: ${d.candidates.join(", ")}` : ""
      }`
      : "DuckDB cannot bind a name in the statement: check table and column names (details.candidates, details.suggestion)",
  "duckdb:Catalog": (d) =>
    `${missingTable(d)}${d.suggestion ? `; DuckDB suggests ${JSON.stringify(d.suggestion)}` : ""}`,
  "duckdb:Parser": syntax,
  "duckdb:Conversion": () =>
    "a value does not fit its column's type (the message quotes it, and names its row for a load): cast or clean it in the query or the rows, or change the column's type",
  "duckdb:Constraint": duplicateKey,
  "duckdb": (d) =>
    `DuckDB refused the request (${d.code} error): read the message and details.position`,
  "ECONNREFUSED": (d) =>
    `nothing accepts connections at ${
      where(d)
    }: is the host/port in the connection (or URL) right and the server up?`,
  "ENOTFOUND": (d) =>
    `the host name of ${where(d)} does not resolve (DNS)${
      because(d)
    }: check it for typos in the connection or URL, and that the name exists from where taud runs`,
  "ETIMEDOUT": (d) =>
    `${
      where(d)
    } did not answer in time: check the host and port, and that no firewall drops the traffic`,
  "ECONNRESET": (d) =>
    `${where(d)} closed the connection${
      because(d)
    }: check the server's logs and limits (max connections, idle timeouts)`,
  "EHOSTUNREACH": (d) => `${where(d)} is not reachable from this machine: check the address`,
  "TLS": (d) =>
    `the TLS handshake with ${where(d)} failed${
      because(d)
    }: check https:// versus http://, the port, and the server's certificate (sslmode for PostgreSQL)`,
  "fetch": (d) =>
    `the request never got an answer${
      because(d)
    }: check the URL, and details.causes for the reason`,
  "network": (d) => `the connection to ${where(d)} failed${because(d)}: see details.causes`,
};

/** The hint for an error the driver explained. */
export function detailsHint(details: ErrorDetails): string {
  const { source, code = "" } = details;
  const keys = [`${source}:${code}`, code, `${source}:${code.slice(0, 2)}*`, source];
  for (const key of keys) {
    const hint = HINTS[key];
    if (hint) return hint(details);
  }
  return "read details for what the driver reported";
}

/**
 * `details` as it may be stored: each text passed through `store` (which redacts, then cuts to
 * the given length). Lists are already short (the schema bounds them).
 */
export function storedDetails(
  details: Record<string, unknown>,
  store: (text: string, max: number) => string,
): Record<string, unknown> {
  const clip = (value: unknown): unknown =>
    typeof value === "string"
      ? store(value, STORED_DETAIL_CHARS)
      : Array.isArray(value)
      ? value.map(clip)
      : value !== null && typeof value === "object"
      ? Object.fromEntries(Object.entries(value).map(([k, v]) => [k, clip(v)]))
      : value;
  return clip(details) as Record<string, unknown>;
}
