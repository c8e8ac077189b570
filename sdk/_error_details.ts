/**
 * The driver's own detail about a failure, sent with the run's error as `details`: PostgreSQL's
 * SQLSTATE, detail, hint and position; MySQL's errno and SQLSTATE; DuckDB's candidate bindings;
 * the cause of a failed `fetch` or connection (DNS, refused, TLS). Drivers are recognized by the
 * fields their errors carry, so no driver is imported here. Every text is cut to
 * SENT_DETAIL_CHARS, lists are short, and the whole stays under MAX_DETAILS_JSON.
 */
import { SENT_DETAIL_CHARS } from "./_limits.ts";

/** Where a statement failed: 1-based line and column, and that line with a caret under it. */
export interface SqlPosition {
  /** 1-based character offset in the statement, as PostgreSQL counts it. */
  offset: number;
  line: number;
  column: number;
  excerpt: string;
}

/** What the trusted side receives as `error.details` (snake_case: it crosses the channel). */
export interface ErrorDetails {
  source: "postgres" | "mysql" | "duckdb" | "fetch" | "network" | "schema";
  /** SQLSTATE (PostgreSQL), error name (MySQL `ER_…`), error type (DuckDB) or network code. */
  code?: string;
  errno?: number;
  sql_state?: string;
  sql_message?: string;
  detail?: string;
  /** The driver's own hint (Tau's is the error's `hint`). */
  hint?: string;
  position?: SqlPosition;
  /** The failing statement, cut to SENT_DETAIL_CHARS. */
  statement?: string;
  schema?: string;
  table?: string;
  column?: string;
  constraint?: string;
  /** DuckDB's "Candidate bindings". */
  candidates?: string[];
  /** DuckDB's "Did you mean". */
  suggestion?: string;
  /** The messages of the `cause` chain, outermost first. */
  causes?: string[];
  /** The innermost reason, without the transport's prefixes. */
  reason?: string;
  /** `host:port` that could not be reached. */
  target?: string;
}

type Fields = Record<string, unknown>;
const MAX_CAUSES = 8;
const MAX_CANDIDATES = 20;
const EXCERPT_WIDTH = 80;
/** JSON characters the details may take on the error's line (escaping included). */
export const MAX_DETAILS_JSON = 32 * 1024;

/** The driver's detail of `err` or of an error in its `cause` chain; null when none is known. */
export function errorDetails(err: unknown): ErrorDetails | null {
  let current = err;
  for (let depth = 0; depth < MAX_CAUSES && isObject(current); depth++) {
    for (const recognize of RECOGNIZERS) {
      const details = recognize(current);
      if (details) return compact(details);
    }
    current = current.cause;
  }
  return null;
}

const RECOGNIZERS: ((err: Fields) => ErrorDetails | null)[] = [
  schemaChangeDetails,
  postgresDetails,
  mysqlDetails,
  duckdbDetails,
  fetchDetails,
  socketDetails,
];

/**
 * A load refused by its `onSchemaChange` (connectors/_schema.ts): the table, the option in
 * force, and the column differences in one line (the message says the same in prose).
 */
function schemaChangeDetails(err: Fields): ErrorDetails | null {
  const d = err.details;
  if (err.code !== "schema_change" || !isObject(d) || typeof d.table !== "string") return null;
  const names = (list: unknown) =>
    Array.isArray(list)
      ? list.map((c) => isObject(c) ? String(c.column) : String(c)).join(", ")
      : "";
  const changes = [
    ["added", names(d.added)],
    ["missing", names(d.missing)],
    ["dropped", names(d.dropped)],
    ["ignored", names(d.ignored)],
    ["type changes", names(d.type_changes)],
  ].filter(([, list]) => list).map(([label, list]) => `${label}: ${list}`);
  return {
    source: "schema",
    table: text(d.table),
    reason: text(`onSchemaChange ${String(d.on_schema_change)}`),
    detail: text(changes.join("; ")),
  };
}

function postgresDetails(err: Fields): ErrorDetails | null {
  if (err.name !== "PostgresError" || typeof err.code !== "string") return null;
  const query = typeof err.query === "string" ? err.query : "";
  const offset = Number(err.position);
  const named = namesIn(String(err.message));
  return {
    source: "postgres",
    code: err.code,
    detail: text(err.detail),
    hint: text(err.hint),
    statement: text(query),
    position: query && offset ? sqlPosition(query, offset) ?? undefined : undefined,
    schema: text(err.schema_name),
    table: text(err.table_name) ?? named.table,
    column: text(err.column_name) ?? named.column,
    constraint: text(err.constraint_name),
  };
}

function mysqlDetails(err: Fields): ErrorDetails | null {
  if (typeof err.sqlState !== "string" || typeof err.errno !== "number") return null;
  const message = text(err.sqlMessage);
  return {
    source: "mysql",
    code: text(err.code),
    errno: err.errno,
    sql_state: err.sqlState,
    sql_message: message,
    statement: text(err.sql),
    ...namesIn(message ?? ""),
  };
}

/** DuckDB's errors are text: `Binder Error: …`, then candidates and a `LINE n:` excerpt. */
function duckdbDetails(err: Fields): ErrorDetails | null {
  if (err.name !== "DuckDBError") return null;
  const message = String(err.message);
  const type = /^([A-Z][A-Za-z ]{0,40}?) Error: /.exec(message)?.[1];
  if (!type) return null;
  const sql = typeof err.statement === "string" ? err.statement : "";
  const bindings = /\nCandidate bindings: ([^\n]*)/.exec(message)?.[1] ?? "";
  const candidates = [...bindings.matchAll(/"([^"]*)"/g)].map((m) =>
    clip(m[1]!, SENT_DETAIL_CHARS)
  );
  return {
    source: "duckdb",
    code: type,
    statement: text(sql),
    ...namesIn(message),
    ...(typeof err.table === "string" ? { table: text(err.table) } : {}),
    position: sql ? duckdbPosition(message, sql) ?? undefined : undefined,
    candidates: candidates.length > 0 ? candidates.slice(0, MAX_CANDIDATES) : undefined,
    suggestion: text(/Did you mean:? "([^"]+)"/.exec(message)?.[1]),
  };
}

/** Deno's `fetch failed`: the reason is in its cause (`…: client error (Connect): …`). */
function fetchDetails(err: Fields): ErrorDetails | null {
  if (err.name !== "TypeError" || !/^fetch failed/i.test(String(err.message))) return null;
  const causes = causeChain(err);
  const inner = causes.at(-1) ?? "";
  const url = /request for url \(([^)\s]+)\)/.exec(inner)?.[1];
  return {
    source: "fetch",
    code: networkCode(inner),
    causes,
    reason: clip(
      inner.replace(/^error sending request for url \([^)]*\): /, "")
        .replace(/^client error \(\w+\): /, ""),
      SENT_DETAIL_CHARS,
    ),
    target: url ? hostPort(url) : undefined,
  };
}

/** A socket error from node:net or node:tls, as postgres.js and mysql2 raise them. */
function socketDetails(err: Fields): ErrorDetails | null {
  const code = typeof err.code === "string" ? networkCode(err.code) : undefined;
  if (!code) return null;
  const host = text(err.address) ?? text(err.hostname) ?? text(err.host);
  return {
    source: "network",
    code,
    causes: causeChain(err),
    reason: text(err.message),
    target: host ? (err.port ? `${host}:${err.port}` : host) : undefined,
  };
}

/** Reasons a connection fails, from an error code or a transport's message. */
const NETWORK_REASONS: [RegExp, string][] = [
  [/ECONNREFUSED|Connection refused/i, "ECONNREFUSED"],
  [/ENOTFOUND|EAI_AGAIN|EAI_NONAME|dns error|lookup address|name resolution/i, "ENOTFOUND"],
  [/ETIMEDOUT|CONNECT_TIMEOUT|timed out/i, "ETIMEDOUT"],
  [/ECONNRESET|CONNECTION_CLOSED|EPIPE|Connection reset|broken pipe/i, "ECONNRESET"],
  [/EHOSTUNREACH|ENETUNREACH|unreachable|No route to host/i, "EHOSTUNREACH"],
  [/CERT|certificate|TLS|SSL|handshake/i, "TLS"],
];

/** The network code a text names (`ECONNREFUSED`, `ENOTFOUND`, `TLS`…), or undefined. */
export function networkCode(text: string): string | undefined {
  return NETWORK_REASONS.find(([pattern]) => pattern.test(text))?.[1];
}

/** Names a message mentions, for servers that do not send them as fields. */
const NAMED_IN_MESSAGE: [RegExp, ("column" | "table")[]][] = [
  [/column "([^"]+)" of relation "([^"]+)" does not exist/, ["column", "table"]],
  [/column "?([^"\s]+)"? does not exist/, ["column"]],
  [/relation "([^"]+)" does not exist/, ["table"]],
  [/Unknown column '([^']+)'/, ["column"]],
  [/Table '([^']+)' doesn't exist/, ["table"]],
  [/Referenced column "([^"]+)" not found/, ["column"]],
  [/Table "([^"]+)" does not have a column with name "([^"]+)"/, ["table", "column"]],
  [/Table with name (\S+) does not exist/, ["table"]],
];

function namesIn(message: string): { column?: string; table?: string } {
  for (const [pattern, fields] of NAMED_IN_MESSAGE) {
    const match = pattern.exec(message);
    if (match) {
      return Object.fromEntries(fields.map((f, i) => [f, clip(match[i + 1]!, SENT_DETAIL_CHARS)]));
    }
  }
  return {};
}

/**
 * Where 1-based character `offset` (PostgreSQL's `position`) falls in `sql`: its line, column
 * and an excerpt of that line with a caret under it; null when it is outside the statement.
 */
export function sqlPosition(sql: string, offset: number): SqlPosition | null {
  const chars = Array.from(sql); // PostgreSQL counts characters, not UTF-16 units
  if (!Number.isInteger(offset) || offset < 1 || offset > chars.length + 1) return null;
  const before = chars.slice(0, offset - 1);
  const lineStart = before.lastIndexOf("\n") + 1;
  const line = before.filter((c) => c === "\n").length + 1;
  const column = offset - lineStart;
  let lineEnd = chars.indexOf("\n", lineStart);
  if (lineEnd === -1) lineEnd = chars.length;
  const lineText = chars.slice(lineStart, lineEnd).join("").replace(/\r$/, "");
  return { offset, line, column, excerpt: caretExcerpt(lineText, column) };
}

/** One line (cut to about 80 characters around `column`) and a caret under `column`. */
export function caretExcerpt(lineText: string, column: number): string {
  const chars = Array.from(lineText.replaceAll("\t", " "));
  const start = Math.max(0, Math.min(column - 1 - EXCERPT_WIDTH / 2, chars.length - EXCERPT_WIDTH));
  const shown = chars.slice(start, start + EXCERPT_WIDTH).join("");
  const lead = start > 0 ? "…" : "";
  const tail = start + EXCERPT_WIDTH < chars.length ? "…" : "";
  return `${lead}${shown}${tail}\n${" ".repeat(lead.length + column - 1 - start)}^`;
}

/** DuckDB's `LINE n: text` and caret, mapped back onto the statement (its text may be cut). */
function duckdbPosition(message: string, sql: string): SqlPosition | null {
  const match = /\nLINE (\d+): (.*)\n( *)\^/.exec(message);
  if (!match) return null;
  const line = Number(match[1]);
  const caret = match[3]!.length - `LINE ${line}: `.length;
  let shown = match[2]!;
  let cut = 0;
  if (shown.startsWith("...")) [shown, cut] = [shown.slice(3), 3];
  const lines = sql.split("\n");
  const at = lines[line - 1]?.indexOf(shown.replace(/\.\.\.$/, ""));
  if (at === undefined || at < 0) return null;
  const offset = lines.slice(0, line - 1).reduce((n, l) => n + Array.from(l).length + 1, 0) +
    Array.from(lines[line - 1]!.slice(0, at)).length + (caret - cut) + 1;
  return sqlPosition(sql, offset);
}

/** The messages of `err` and its causes, outermost first, URL queries and credentials left out. */
function causeChain(err: Fields): string[] {
  const messages: string[] = [];
  let current: unknown = err;
  for (let depth = 0; depth < MAX_CAUSES && isObject(current); depth++) {
    messages.push(clip(withoutUrlSecrets(String(current.message)), SENT_DETAIL_CHARS));
    current = current.cause;
  }
  return messages;
}

function withoutUrlSecrets(message: string): string {
  return message.replace(/\b(https?:\/\/)([^\s/@)]*@)?([^\s?#)]*)[?#][^\s)]*/g, "$1$3")
    .replace(/\b(https?:\/\/)[^\s/@)]*@/g, "$1");
}

function hostPort(url: string): string | undefined {
  try {
    const parsed = new URL(url);
    const port = parsed.port || (parsed.protocol === "https:" ? "443" : "80");
    return `${parsed.hostname}:${port}`;
  } catch {
    return undefined;
  }
}

function isObject(value: unknown): value is Fields {
  return typeof value === "object" && value !== null;
}

function text(value: unknown): string | undefined {
  return typeof value === "string" && value !== "" ? clip(value, SENT_DETAIL_CHARS) : undefined;
}

function clip(value: string, max: number): string {
  return value.length <= max ? value : `${value.slice(0, max)}…`;
}

/**
 * Drops fields without a value, so the JSON carries only what the driver said; then, while the
 * JSON is over MAX_DETAILS_JSON, the largest field, whole (a cut text could end in part of a
 * secret that redaction no longer recognizes). The error's line must fit the channel.
 */
function compact(details: ErrorDetails): ErrorDetails {
  const fields = Object.fromEntries(Object.entries(details).filter(([, v]) => v !== undefined));
  const size = (key: string) => JSON.stringify(fields[key]).length;
  while (JSON.stringify(fields).length > MAX_DETAILS_JSON) {
    const largest = Object.keys(fields).filter((k) => k !== "source")
      .sort((a, b) => size(b) - size(a))[0];
    if (largest === undefined) break;
    delete fields[largest];
  }
  return fields as unknown as ErrorDetails;
}
