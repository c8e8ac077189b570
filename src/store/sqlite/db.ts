/**
 * The SQLite store's connection, as the query modules use it: one `node:sqlite` handle, a cache
 * of prepared statements, the write-transaction helper and the queue's wake-up event. All of it
 * synchronous: a query module's function runs to completion, inside a transaction or not.
 */

import { DatabaseSync, type StatementSync } from "node:sqlite";

/** A bound parameter. */
export type Param = null | number | string;

const BUSY_TIMEOUT_MS = 5000;

/** Blocks the thread; only used in the (synchronous) constructor's rare lock retry. */
function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** A LIMIT value: a non-negative integer, or -1 ("no limit" to SQLite) for +Infinity. */
export function count(n: number): number {
  if (n === Infinity) return -1;
  return Number.isFinite(n) ? Math.max(0, Math.trunc(n)) : 0;
}

export class Db {
  /** The handle itself, for what the cache is not for (migrations). */
  readonly conn: DatabaseSync;
  #statements = new Map<string, StatementSync>();
  /** One process per SQLite database runs its queue, so a local event is all it needs. */
  #queueEvents = new EventTarget();

  /** Opens (creating if needed) the database at `path`, or ":memory:", in WAL mode. */
  constructor(path: string) {
    this.conn = new DatabaseSync(path);
    try {
      // busy_timeout first, so the statements below wait on another process's lock.
      this.conn.exec(`PRAGMA busy_timeout = ${BUSY_TIMEOUT_MS}`);
      this.#enableWal();
      this.conn.exec("PRAGMA foreign_keys = ON");
      this.conn.exec("PRAGMA synchronous = NORMAL");
    } catch (err) {
      this.conn.close();
      throw err;
    }
  }

  /**
   * Switches to WAL, retrying while locked: when several processes open a new file at once,
   * the switch can fail with "database is locked" without waiting on busy_timeout.
   */
  #enableWal(): void {
    const deadline = Date.now() + BUSY_TIMEOUT_MS;
    for (let delay = 5;; delay = Math.min(delay * 2, 100)) {
      try {
        this.conn.exec("PRAGMA journal_mode = WAL");
        return;
      } catch (err) {
        const locked = err instanceof Error && /database is locked/.test(err.message);
        if (!locked || Date.now() > deadline) throw err;
        sleepSync(delay);
      }
    }
  }

  /** A statement prepared on first use and reused afterwards. */
  stmt(sql: string): StatementSync {
    let stmt = this.#statements.get(sql);
    if (!stmt) {
      stmt = this.conn.prepare(sql);
      this.#statements.set(sql, stmt);
    }
    return stmt;
  }

  /** Runs `fn` in a write transaction. `fn` must be synchronous (no await inside). */
  tx<T>(fn: () => T): T {
    this.conn.exec("BEGIN IMMEDIATE");
    try {
      const out = fn();
      this.conn.exec("COMMIT");
      return out;
    } catch (err) {
      if (this.conn.isTransaction) this.conn.exec("ROLLBACK");
      throw err;
    }
  }

  /** Tells `watchQueue` listeners that runs may have been queued. */
  queueChanged(): void {
    this.#queueEvents.dispatchEvent(new Event("queued"));
  }

  /** Calls `listener` on every `queueChanged()`; returns the unsubscribe. */
  onQueueChanged(listener: () => void): () => void {
    this.#queueEvents.addEventListener("queued", listener);
    return () => this.#queueEvents.removeEventListener("queued", listener);
  }

  close(): void {
    this.#statements.clear();
    this.conn.close();
  }
}
