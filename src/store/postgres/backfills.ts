/** Backfills and their instants on PostgreSQL (see `BackfillStore`). */
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
import { count, type Db, type Param, query, type Sql, sqlState, tx } from "./db.ts";
import { insertRun } from "./runs.ts";

/** Instants inserted per statement when a backfill is created (10,000 at most in all). */
const INSERT_BATCH = 1_000;

export class PostgresBackfills implements BackfillStore {
  constructor(private readonly sql: Sql) {}

  async create(input: NewBackfill, now: Date): Promise<BackfillRecord> {
    try {
      await tx(this.sql, async (t) => {
        const values = backfillValues(input, now);
        await query(
          t,
          `INSERT INTO backfills (${BACKFILL_COLUMNS})
           VALUES (${values.map((_, i) => `$${i + 1}`).join(", ")})`,
          values,
        );
        for (let i = 0; i < input.instants.length; i += INSERT_BATCH) {
          const batch = input.instants.slice(i, i + INSERT_BATCH);
          // One JSON document per batch: one statement whatever its size.
          await query(
            t,
            `INSERT INTO backfill_instants (backfill_id, scheduled_at, state, run_id, attempts)
             SELECT $1, x.scheduled_at, x.state, NULL, 0
             FROM json_to_recordset($2::json) AS x(scheduled_at text, state text)`,
            [input.backfill_id, JSON.stringify(batch)],
          );
        }
      });
    } catch (err) {
      if (sqlState(err) === "23503") throw pipelineNotFound(input.pipeline, err);
      throw err;
    }
    return (await this.get(input.backfill_id))!;
  }

  async get(id: string) {
    const [row] = await query(this.sql, `SELECT ${BACKFILL_COLUMNS} FROM backfills WHERE id = $1`, [
      id,
    ]);
    return row ? await this.#record(this.sql, row) : null;
  }

  async #record(db: Db, row: Row): Promise<BackfillRecord> {
    const grouped = await query(
      db,
      "SELECT state, count(*) AS n FROM backfill_instants WHERE backfill_id = $1 GROUP BY state",
      [row.id as string],
    );
    return toBackfill(row, grouped);
  }

  async list(options: BackfillListOptions = {}) {
    const where: string[] = [];
    const params: Param[] = [];
    if (options.pipeline !== undefined) {
      params.push(options.pipeline);
      where.push(`pipeline = $${params.length}`);
    }
    if (options.statuses) {
      const marks = options.statuses.map((s) => {
        params.push(s);
        return `$${params.length}`;
      });
      where.push(`status IN (${marks.join(", ") || "NULL"})`);
    }
    if (options.live) {
      where.push(`(status = 'running' OR EXISTS (SELECT 1 FROM backfill_instants i
        WHERE i.backfill_id = backfills.id AND i.state = 'active'))`);
    }
    params.push(listLimit(options.limit));
    const rows = await query(
      this.sql,
      `SELECT ${BACKFILL_COLUMNS} FROM backfills
       ${where.length ? `WHERE ${where.join(" AND ")}` : ""}
       ORDER BY ${
        options.live ? "created_at, id" : "created_at DESC, id DESC"
      } LIMIT $${params.length}`,
      params,
    );
    const out: BackfillRecord[] = [];
    for (const row of rows) out.push(await this.#record(this.sql, row));
    return out;
  }

  async instants(id: string, options: { states?: InstantState[]; limit?: number } = {}) {
    const states = options.states;
    const params: Param[] = [id, ...(states ?? [])];
    const marks = (states ?? []).map((_, i) => `$${i + 2}`).join(", ") || "NULL";
    params.push(count(options.limit ?? Infinity));
    const rows = await query(
      this.sql,
      `${INSTANT_SELECT} WHERE i.backfill_id = $1 ${states ? `AND i.state IN (${marks})` : ""}
       ORDER BY i.scheduled_at LIMIT $${params.length}`,
      params,
    );
    return rows.map(toInstant);
  }

  async succeededAt(pipeline: string, from: string, to: string) {
    const rows = await query(
      this.sql,
      `SELECT DISTINCT scheduled_at FROM runs WHERE pipeline = $1 AND status = 'success'
       AND scheduled_at >= $2 AND scheduled_at < $3 ORDER BY scheduled_at`,
      [pipeline, from, to],
    );
    return rows.map((row) => row.scheduled_at as string);
  }

  /** The instant's row is locked for the transaction, so two drivers cannot both start it. */
  start(id: string, scheduledAt: string, run: NewRun, rerun: boolean): Promise<StartOutcome> {
    return tx(this.sql, async (t): Promise<StartOutcome> => {
      const [row] = await query(
        t,
        `SELECT i.state, b.status, b.pipeline FROM backfill_instants i
         JOIN backfills b ON b.id = i.backfill_id
         WHERE i.backfill_id = $1 AND i.scheduled_at = $2 FOR UPDATE OF i`,
        [id, scheduledAt],
      );
      if (!row || row.state !== "pending" || row.status !== "running") return "taken";
      if (!rerun) {
        const [done] = await query(
          t,
          `SELECT 1 FROM runs WHERE pipeline = $1 AND scheduled_at = $2 AND status = 'success'
           LIMIT 1`,
          [row.pipeline as string, scheduledAt],
        );
        if (done) {
          await setState(t, id, scheduledAt, "skipped", null);
          return "skipped";
        }
      }
      await insertRun(t, run, { returning: false });
      await setState(t, id, scheduledAt, "active", run.run_id);
      return "started";
    });
  }

  async settle(id: string, scheduledAt: string, state: SettledState) {
    const rows = await query(
      this.sql,
      `UPDATE backfill_instants SET state = $1,
         run_id = CASE WHEN $1 = 'pending' THEN NULL ELSE run_id END
       WHERE backfill_id = $2 AND scheduled_at = $3 AND state = 'active' RETURNING 1`,
      [state, id, scheduledAt],
    );
    return rows.length === 1;
  }

  async finish(id: string, status: Exclude<BackfillStatus, "running">, now: Date) {
    await tx(this.sql, async (t) => {
      const ended = await query(
        t,
        `UPDATE backfills SET status = $1, finished_at = $2 WHERE id = $3 AND status = 'running'
         RETURNING 1`,
        [status, now.toISOString(), id],
      );
      if (ended.length === 1 && status === "cancelled") {
        await query(
          t,
          `UPDATE backfill_instants SET state = 'cancelled'
           WHERE backfill_id = $1 AND state = 'pending'`,
          [id],
        );
      }
    });
    return this.get(id);
  }
}

async function setState(
  db: Db,
  id: string,
  at: string,
  state: InstantState,
  runId: string | null,
): Promise<void> {
  await query(
    db,
    `UPDATE backfill_instants SET state = $1, run_id = $2,
       attempts = attempts + (CASE WHEN $1 = 'active' THEN 1 ELSE 0 END)
     WHERE backfill_id = $3 AND scheduled_at = $4`,
    [state, runId, id, at],
  );
}
