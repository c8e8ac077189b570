/**
 * The tables a SQL statement reads and writes, read from its text: a small extractor, not a full
 * parser. It tokenizes (strings, quoted identifiers, comments and dollar quotes are skipped as
 * such) and looks at what follows a few keywords:
 *
 * - reads: `FROM x`, `JOIN x`, `FROM a, b`, `USING x` (MERGE, DELETE), at any depth (subqueries
 *   included), DuckDB's `FROM x SELECT …` too;
 * - writes: `INSERT [OR …] INTO x`, `UPDATE x`, `DELETE FROM x`, `MERGE INTO x`,
 *   `CREATE [OR REPLACE] [TEMP] TABLE|VIEW [IF NOT EXISTS] x`, `TRUNCATE [TABLE] x`,
 *   `ALTER TABLE x RENAME TO y` (writes y, in x's schema), `COPY x FROM …`.
 *
 * Not tables: CTE names (excluded from the whole statement, whatever their scope), table
 * functions (`read_csv(…)`, `duckdb_tables()`, `unnest(…)`), file paths in quotes
 * (`FROM 'orders.csv'`), temporary tables the statement creates, and the `FROM` inside
 * `EXTRACT(… FROM …)`, `TRIM(… FROM …)`, `SUBSTRING(… FROM …)` and `IS [NOT] DISTINCT FROM`.
 *
 * Limits, honestly: names are taken as written (no search path, no view expansion: reading a view
 * is reading the view); dynamic SQL (`EXECUTE`, `PREPARE`), stored procedures and anything a
 * statement's functions do on their own are invisible; a CTE that shadows a real table hides
 * that table everywhere in the statement.
 */

export interface TableName {
  /** The parts as written, unquoted: `["analytics", "orders"]`. */
  parts: string[];
  /** Which parts were quoted (a quoted name keeps its case). */
  quoted: boolean[];
}

export interface StatementTables {
  reads: TableName[];
  writes: TableName[];
}

interface Token {
  kind: "word" | "quoted" | "string" | "punct";
  text: string;
  /** Upper-cased text of a word. */
  upper: string;
}

/** Keywords that end a table reference where an alias could otherwise stand. */
const CLAUSE_WORDS = new Set([
  "WHERE",
  "GROUP",
  "ORDER",
  "HAVING",
  "LIMIT",
  "OFFSET",
  "UNION",
  "EXCEPT",
  "INTERSECT",
  "ON",
  "USING",
  "JOIN",
  "LEFT",
  "RIGHT",
  "INNER",
  "OUTER",
  "FULL",
  "CROSS",
  "NATURAL",
  "POSITIONAL",
  "ASOF",
  "ANTI",
  "SEMI",
  "LATERAL",
  "WINDOW",
  "QUALIFY",
  "SELECT",
  "SET",
  "VALUES",
  "RETURNING",
  "WHEN",
  "FETCH",
  "FOR",
  "TABLESAMPLE",
  "PIVOT",
  "UNPIVOT",
  "AS",
  "TO",
  "DEFAULT",
  "BY",
]);
/** Function-like forms whose arguments may say FROM without naming a table. */
const FROM_FUNCTIONS = new Set(["EXTRACT", "TRIM", "SUBSTRING", "SUBSTR", "OVERLAY", "POSITION"]);
/** The most tokens one statement is scanned for (a bound on work, not on correctness). */
const MAX_TOKENS = 200_000;

/** The tables `sql` (one statement or several, `;`-separated) reads and writes. */
export function statementTables(sql: string): StatementTables {
  const tokens = tokenize(sql);
  const ctes = cteNames(tokens);
  const temps = new Set<string>();
  const reads: TableName[] = [];
  const writes: TableName[] = [];
  // Per paren depth: does FROM there name tables (a query), or is it a function's argument?
  const queryDepth: boolean[] = [true];
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    if (t.kind === "punct") {
      if (t.text === "(") {
        const before = tokens[i - 1];
        const fn = before?.kind === "word" && FROM_FUNCTIONS.has(before.upper);
        queryDepth.push(!fn);
      } else if (t.text === ")") {
        if (queryDepth.length > 1) queryDepth.pop();
      }
      continue;
    }
    if (t.kind !== "word") continue;
    const inQuery = queryDepth[queryDepth.length - 1] ?? true;
    switch (t.upper) {
      case "FROM": {
        if (!inQuery || isDistinctFrom(tokens, i)) break;
        const prev = tokens[i - 1]?.upper;
        if (prev === "DELETE") i = take(tokens, i + 1, writes, false);
        else i = takeList(tokens, i + 1, reads);
        break;
      }
      case "JOIN":
        i = take(tokens, i + 1, reads, true);
        break;
      case "USING":
        // MERGE … USING src / DELETE … USING src; JOIN … USING (cols) is a paren, not a name.
        if (tokens[i + 1]?.text !== "(") i = take(tokens, i + 1, reads, true);
        break;
      case "INTO": {
        const prev = tokens[i - 1]?.upper;
        if (prev !== undefined && prev !== "SELECT" && !isSelectInto(tokens, i)) {
          i = take(tokens, i + 1, writes, false);
        }
        break;
      }
      case "UPDATE": {
        // Not `ON CONFLICT DO UPDATE SET`, `WHEN MATCHED THEN UPDATE SET`, `FOR UPDATE`.
        const prev = tokens[i - 1]?.upper ?? "";
        if (!["DO", "THEN", "FOR"].includes(prev) && tokens[i + 1]?.upper !== "SET") {
          i = take(tokens, i + 1, writes, false);
        }
        break;
      }
      case "TRUNCATE":
        i = take(tokens, tokens[i + 1]?.upper === "TABLE" ? i + 2 : i + 1, writes, false);
        break;
      case "COPY": {
        const end = take(tokens, i + 1, [], false);
        if (tokens[end + 1]?.upper === "FROM") take(tokens, i + 1, writes, false);
        i = end;
        break;
      }
      case "CREATE":
        i = create(tokens, i, writes, temps);
        break;
      case "ALTER":
        i = alterRename(tokens, i, writes);
        break;
    }
  }
  const keep = (name: TableName) => {
    const key = name.parts.join(".").toLowerCase();
    return !(name.parts.length === 1 && ctes.has(key)) && !temps.has(key);
  };
  return { reads: reads.filter(keep), writes: writes.filter(keep) };
}

function tokenize(sql: string): Token[] {
  const tokens: Token[] = [];
  const word = (kind: Token["kind"], text: string) =>
    tokens.push({ kind, text, upper: kind === "word" ? text.toUpperCase() : text });
  let i = 0;
  while (i < sql.length && tokens.length < MAX_TOKENS) {
    const c = sql[i]!;
    if (/\s/.test(c)) i++;
    else if (c === "-" && sql[i + 1] === "-") i = lineEnd(sql, i);
    else if (c === "/" && sql[i + 1] === "*") i = after(sql, "*/", i + 2);
    else if (c === "'") {
      const end = quoteEnd(sql, i, "'");
      word("string", sql.slice(i + 1, end - 1).replaceAll("''", "'"));
      i = end;
    } else if (c === '"' || c === "`") {
      const end = quoteEnd(sql, i, c);
      word("quoted", sql.slice(i + 1, end - 1).replaceAll(c + c, c));
      i = end;
    } else if (c === "[") {
      const end = after(sql, "]", i + 1);
      word("quoted", sql.slice(i + 1, end - 1));
      i = end;
    } else if (c === "$" && /^\$[A-Za-z_]*\$/.test(sql.slice(i, i + 64))) {
      const tag = /^\$[A-Za-z_]*\$/.exec(sql.slice(i, i + 64))![0];
      i = after(sql, tag, i + tag.length);
      word("string", "");
    } else if (/[A-Za-z_\u0080-\uffff]/.test(c)) {
      const m = /^[A-Za-z_\u0080-\uffff][A-Za-z0-9_$\u0080-\uffff]*/.exec(sql.slice(i, i + 1024))!;
      word("word", m[0]);
      i += m[0].length;
    } else if (/[0-9]/.test(c)) {
      const m = /^[0-9][0-9.eE_]*/.exec(sql.slice(i, i + 256))!;
      word("punct", m[0]);
      i += m[0].length;
    } else {
      word("punct", c);
      i++;
    }
  }
  return tokens;
}

const lineEnd = (s: string, i: number) => {
  const n = s.indexOf("\n", i);
  return n < 0 ? s.length : n + 1;
};
const after = (s: string, end: string, from: number) => {
  const n = s.indexOf(end, from);
  return n < 0 ? s.length : n + end.length;
};
/** The index after a quoted run starting at `i` (a doubled quote is part of it). */
function quoteEnd(s: string, i: number, q: string): number {
  let j = i + 1;
  while (j < s.length) {
    if (s[j] === q) {
      if (s[j + 1] === q) j += 2;
      else return j + 1;
    } else j++;
  }
  return s.length;
}

/**
 * Reads a dotted name at `i` into `out`; returns the index of its last token (`i - 1` when there
 * is none). Where a table is read, a name followed by `(` is a table function, not a table;
 * where one is written, `(` opens its column list.
 */
function take(tokens: Token[], i: number, out: TableName[], read: boolean): number {
  let j = i;
  while (read && ["LATERAL", "ONLY"].includes(tokens[j]?.upper ?? "")) j++;
  const parts: string[] = [];
  const quoted: boolean[] = [];
  for (;;) {
    const t = tokens[j];
    if (!t || (t.kind !== "word" && t.kind !== "quoted")) break;
    parts.push(t.text);
    quoted.push(t.kind === "quoted");
    if (tokens[j + 1]?.text !== ".") break;
    j += 2;
  }
  if (parts.length === 0) return i - 1;
  if (read && tokens[j + 1]?.text === "(") return j;
  if (parts.length === 1 && !quoted[0] && CLAUSE_WORDS.has(parts[0]!.toUpperCase())) return i - 1;
  out.push({ parts, quoted });
  return j;
}

/** `FROM a [AS x], b [y], …`: every name in a comma list; returns the last index read. */
function takeList(tokens: Token[], i: number, out: TableName[]): number {
  let j = take(tokens, i, out, true);
  if (j < i) return j;
  for (;;) {
    let k = j + 1;
    if (tokens[k]?.upper === "AS") k++;
    const alias = tokens[k];
    if (
      alias &&
      (alias.kind === "quoted" || (alias.kind === "word" && !CLAUSE_WORDS.has(alias.upper)))
    ) k++;
    if (tokens[k]?.text !== ",") return j;
    // `FROM a, (SELECT …) s`: the subquery is scanned by the caller's loop.
    if (tokens[k + 1]?.text === "(") return k;
    j = take(tokens, k + 1, out, true);
    if (j === k) return j;
  }
}

function isDistinctFrom(tokens: Token[], i: number): boolean {
  if (tokens[i - 1]?.upper !== "DISTINCT") return false;
  const before = tokens[i - 2]?.upper;
  return before === "IS" || before === "NOT";
}

/** `SELECT … INTO var FROM` (PL/pgSQL, T-SQL): INTO there names no table this extractor keeps. */
function isSelectInto(tokens: Token[], i: number): boolean {
  for (let j = i - 1; j >= 0 && j > i - 200; j--) {
    const u = tokens[j]!.upper;
    if (u === "INSERT" || u === "MERGE" || u === "REPLACE") return false;
    if (u === "SELECT") return true;
    if (u === ";") return false;
  }
  return false;
}

function create(tokens: Token[], i: number, writes: TableName[], temps: Set<string>): number {
  let j = i + 1;
  let temp = false;
  while (
    ["OR", "REPLACE", "TEMP", "TEMPORARY", "GLOBAL", "LOCAL", "UNLOGGED", "TRANSIENT"]
      .includes(tokens[j]?.upper ?? "")
  ) {
    if (tokens[j]!.upper.startsWith("TEMP")) temp = true;
    j++;
  }
  if (tokens[j]?.upper === "MATERIALIZED") j++;
  const what = tokens[j]?.upper;
  if (what !== "TABLE" && what !== "VIEW") return i;
  j++;
  while (["IF", "NOT", "EXISTS"].includes(tokens[j]?.upper ?? "")) j++;
  const found: TableName[] = [];
  const end = take(tokens, j, found, false);
  const name = found[0];
  if (!name) return i;
  if (temp) temps.add(name.parts.join(".").toLowerCase());
  else writes.push(name);
  return end;
}

/** `ALTER TABLE x RENAME TO y`: y (in x's schema) now holds what x held. */
function alterRename(tokens: Token[], i: number, writes: TableName[]): number {
  if (tokens[i + 1]?.upper !== "TABLE") return i;
  const found: TableName[] = [];
  const end = take(tokens, i + 2, found, false);
  const from = found[0];
  if (!from || tokens[end + 1]?.upper !== "RENAME" || tokens[end + 2]?.upper !== "TO") return end;
  const to: TableName[] = [];
  const last = take(tokens, end + 3, to, false);
  const target = to[0];
  if (!target) return last;
  if (target.parts.length === 1) {
    writes.push({
      parts: [...from.parts.slice(0, -1), target.parts[0]!],
      quoted: [...from.quoted.slice(0, -1), target.quoted[0]!],
    });
  } else writes.push(target);
  return last;
}

/** Names the statement's `WITH` clauses define (lower-cased). */
function cteNames(tokens: Token[]): Set<string> {
  const names = new Set<string>();
  for (let i = 0; i < tokens.length; i++) {
    if (tokens[i]!.upper !== "WITH") continue;
    let j = i + 1;
    if (tokens[j]?.upper === "RECURSIVE") j++;
    for (;;) {
      const name = tokens[j];
      if (!name || (name.kind !== "word" && name.kind !== "quoted")) break;
      j++;
      if (tokens[j]?.text === "(") j = skipParens(tokens, j) + 1;
      if (tokens[j]?.upper !== "AS") break;
      names.add(name.text.toLowerCase());
      j++;
      while (["NOT", "MATERIALIZED"].includes(tokens[j]?.upper ?? "")) j++;
      if (tokens[j]?.text !== "(") break;
      j = skipParens(tokens, j) + 1;
      if (tokens[j]?.text !== ",") break;
      j++;
    }
  }
  return names;
}

/** The index of the `)` closing the `(` at `i`. */
function skipParens(tokens: Token[], i: number): number {
  let depth = 0;
  for (let j = i; j < tokens.length; j++) {
    if (tokens[j]!.text === "(") depth++;
    else if (tokens[j]!.text === ")" && --depth === 0) return j;
  }
  return tokens.length;
}
