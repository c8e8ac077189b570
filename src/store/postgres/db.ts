/**
 * The PostgreSQL store's connection, as the query modules use it: the pool (`Sql`), anything
 * that runs a query (`Db`: the pool or a transaction), `query` and `tx`, and the advisory locks
 * that serialize what several processes must not do at once.
 */

import postgres from "postgres";
import type { Row } from "../codec.ts";

/** A bound parameter. */
export type Param = null | number | string | boolean;

/**
 * Type handling for every connection. JSON travels as text both ways: the store encodes before
 * writing and decodes after reading, as the SQLite store does, so the driver must neither
 * re-encode a string (its default would store `"{\"a\":1}"`) nor parse. BIGINT (and count(*))
 * come back as numbers rather than strings; every such column holds integers far below 2^53.
 */
const TYPES = {
  int8: {
    to: 20,
    from: [20],
    serialize: (x: unknown) => String(x),
    parse: (x: string) => Number(x),
  },
  json: {
    to: 114,
    from: [114, 3802],
    serialize: (x: unknown) => typeof x === "string" ? x : JSON.stringify(x),
    parse: (x: string) => x,
  },
};

/** The pool (connections open on first use). */
export function connect(url: string, max: number) {
  return postgres(url, {
    max,
    onnotice: () => {}, // "relation already exists, skipping" and the like
    types: TYPES,
    // Nothing here uses array parameters: skip the array-type lookup on every new connection.
    fetch_types: false,
    connect_timeout: 10,
    transform: { undefined: null },
    connection: { application_name: "taud" },
  });
}

/** The pool. */
export type Sql = ReturnType<typeof connect>;
/** The pool or a transaction: anything that can run a query. */
export type Db = Pick<Sql, "unsafe">;

/** Runs one statement (prepared, cached per connection) with `$n` parameters. */
export async function query(db: Db, text: string, params: Param[] = []): Promise<Row[]> {
  const result = await db.unsafe(text, params as never[], { prepare: true });
  return [...result] as Row[]; // a plain array, not the driver's Result
}

/** Runs `fn` in a transaction on one pooled connection; any throw rolls it back. */
export function tx<T>(sql: Sql, fn: (tx: Db) => Promise<T>): Promise<T> {
  return sql.begin((tx) => fn(tx)) as Promise<T>;
}

/** A LIMIT value: a non-negative integer, or null ("no limit" to PostgreSQL) for +Infinity. */
export function count(n: number): number | null {
  if (n === Infinity) return null;
  return Number.isFinite(n) ? Math.max(0, Math.trunc(n)) : 0;
}

/**
 * Free text as PostgreSQL accepts it: TEXT cannot hold NUL, and a lone surrogate has no UTF-8
 * form. Both become U+FFFD (what a UTF-8 encoder makes of a lone surrogate anyway) instead of
 * failing the write, which for logs would lose a whole batch.
 */
export function clean(text: string): string {
  return text.toWellFormed().replaceAll("\0", "\uFFFD");
}

/** The SQLSTATE of a server error (`23503` foreign key, `23505` unique), else null. */
export function sqlState(err: unknown): string | null {
  return err instanceof postgres.PostgresError ? err.code : null;
}

/**
 * First key of Tau's two-key advisory locks ("Tau" in ASCII); the second is per use. Both are
 * transaction-level locks, released by COMMIT or ROLLBACK, so a crashed holder never keeps one.
 */
const LOCK_CLASS = 0x546175;
/** Second key of the migration lock: the schema's name, so installations in other schemas of
 * one database do not wait on each other. */
export const MIGRATION_LOCK =
  `SELECT pg_advisory_xact_lock(${LOCK_CLASS}, hashtext(coalesce(current_schema(), '')))`;
/** Second key of a deploy lock: the pipeline's name. */
export const DEPLOY_LOCK = `SELECT pg_advisory_xact_lock(${LOCK_CLASS + 1}, hashtext($1))`;
/** Second key of a dependency-list lock: the pipeline's name. */
export const DEPENDENCY_LOCK = `SELECT pg_advisory_xact_lock(${LOCK_CLASS + 2}, hashtext($1))`;
