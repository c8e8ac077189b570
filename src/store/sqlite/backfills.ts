// node:sqlite is synchronous; the methods are `async` only to implement the async contract.
// deno-lint-ignore-file require-await

/** Backfills and their instants on SQLite (see `BackfillStore`). */
import {
  BACKFILL_COLUMNS,
  backfillValues,
  INSTANT_SELECT,
  listLimit,
  toBackfill,
  toInstant,
} from "../backfill_codec.ts";
import type {
  BackfillListOptions,
  BackfillRecord,
  BackfillStatus,
  BackfillStore,
  InstantState,
  NewBackfill,
  SettledState,
  StartOutcome,
} from "../backfill_types.ts";
import type { Row } from "../codec.ts";
import { pipelineNotFound } from "../pipeline_rules.ts";
import type { NewRun } from "../types.ts";
import { count, type Db, type Param } from "./db.ts";
import { addRun } from "./runs.ts";

const SUCCEEDED_AT = `SELECT 1 FROM runs WHERE pipeline = ? AND scheduled_at = ?
  AND status = 'success' LIMIT 1`;

export class SqliteBackfills implements BackfillStore {
  constructor(private readonly db: Db) {}

  async create(input: NewBackfill, now: Date): Promise<BackfillRecord> {
    const { db } = this;
    try {
      db.tx(() => {
        const values = backfillValues(input, now).map((v) =>
          typeof v === "boolean" ? Number(v) : v
        );
        db.stmt(
          `INSERT INTO backfills (${BACKFILL_COLUMNS}) VALUES (${
            values.map(() => "?").join(", ")
          })`,
        ).run(...values);
        const insert = db.stmt(
          `INSERT INTO backfill_instants (backfill_id, scheduled_at, state, run_id, attempts)
           VALUES (?, ?, ?, NULL, 0)`,
        );
        for (const i of input.instants) insert.run(input.backfill_id, i.scheduled_at, i.state);
      });
    } catch (err) {
      if (err instanceof Error && /FOREIGN KEY constraint failed/.test(err.message)) {
        throw pipelineNotFound(input.pipeline, err);
      }
      throw err;
    }
    return this.#get(input.backfill_id)!;
  }

  async get(id: string) {
    return this.#get(id);
  }

  #get(id: string): BackfillRecord | null {
    const row = this.db.stmt(`SELECT ${BACKFILL_COLUMNS} FROM backfills WHERE id = ?`).get(id);
    return row ? this.#record(row) : null;
  }

  #record(row: Row): BackfillRecord {
    const grouped = this.db.stmt(
      "SELECT state, count(*) AS n FROM backfill_instants WHERE backfill_id = ? GROUP BY state",
    ).all(row.id as string);
    return toBackfill(row, grouped);
  }

  async list(options: BackfillListOptions = {}) {
    const where: string[] = [];
    const params: Param[] = [];
    if (options.pipeline !== undefined) {
      where.push("pipeline = ?");
      params.push(options.pipeline);
    }
    if (options.statuses) {
      where.push(`status IN (${options.statuses.map(() => "?").join(", ") || "NULL"})`);
      params.push(...options.statuses);
    }
    if (options.live) {
      where.push(`(status = 'running' OR EXISTS (SELECT 1 FROM backfill_instants i
        WHERE i.backfill_id = backfills.id AND i.state = 'active'))`);
    }
    const rows = this.db.stmt(
      `SELECT ${BACKFILL_COLUMNS} FROM backfills
       ${where.length ? `WHERE ${where.join(" AND ")}` : ""}
       ORDER BY ${options.live ? "created_at, id" : "created_at DESC, id DESC"} LIMIT ?`,
    ).all(...params, listLimit(options.limit));
    return rows.map((row) => this.#record(row));
  }

  async instants(id: string, options: { states?: InstantState[]; limit?: number } = {}) {
    const states = options.states;
    const rows = this.db.stmt(
      `${INSTANT_SELECT} WHERE i.backfill_id = ?
       ${states ? `AND i.state IN (${states.map(() => "?").join(", ") || "NULL"})` : ""}
       ORDER BY i.scheduled_at LIMIT ?`,
    ).all(id, ...(states ?? []), count(options.limit ?? Infinity));
    return rows.map(toInstant);
  }

  async succeededAt(pipeline: string, from: string, to: string) {
    return this.db.stmt(
      `SELECT DISTINCT scheduled_at FROM runs WHERE pipeline = ? AND status = 'success'
       AND scheduled_at >= ? AND scheduled_at < ? ORDER BY scheduled_at`,
    ).all(pipeline, from, to).map((row) => row.scheduled_at as string);
  }

  async start(id: string, scheduledAt: string, run: NewRun, rerun: boolean) {
    const { db } = this;
    return db.tx((): StartOutcome => {
      const row = db.stmt(
        `SELECT i.state, b.status, b.pipeline FROM backfill_instants i
         JOIN backfills b ON b.id = i.backfill_id
         WHERE i.backfill_id = ? AND i.scheduled_at = ?`,
      ).get(id, scheduledAt);
      if (!row || row.state !== "pending" || row.status !== "running") return "taken";
      if (!rerun && db.stmt(SUCCEEDED_AT).get(row.pipeline as string, scheduledAt)) {
        this.#setState(id, scheduledAt, "skipped", null);
        return "skipped";
      }
      addRun(db, run);
      this.#setState(id, scheduledAt, "active", run.run_id);
      return "started";
    });
  }

  #setState(id: string, at: string, state: InstantState, runId: string | null): void {
    this.db.stmt(
      `UPDATE backfill_instants SET state = ?, run_id = ?,
         attempts = attempts + (CASE WHEN ? = 'active' THEN 1 ELSE 0 END)
       WHERE backfill_id = ? AND scheduled_at = ?`,
    ).run(state, runId, state, id, at);
  }

  async settle(id: string, scheduledAt: string, state: SettledState) {
    const { changes } = this.db.stmt(
      `UPDATE backfill_instants SET state = ?,
         run_id = CASE WHEN ? = 'pending' THEN NULL ELSE run_id END
       WHERE backfill_id = ? AND scheduled_at = ? AND state = 'active'`,
    ).run(state, state, id, scheduledAt);
    return Number(changes) === 1;
  }

  async finish(id: string, status: Exclude<BackfillStatus, "running">, now: Date) {
    const { db } = this;
    db.tx(() => {
      const { changes } = db.stmt(
        "UPDATE backfills SET status = ?, finished_at = ? WHERE id = ? AND status = 'running'",
      ).run(status, now.toISOString(), id);
      if (Number(changes) === 1 && status === "cancelled") {
        db.stmt(
          `UPDATE backfill_instants SET state = 'cancelled'
           WHERE backfill_id = ? AND state = 'pending'`,
        ).run(id);
      }
    });
    return this.#get(id);
  }
}
