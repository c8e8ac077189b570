/**
 * snapshot: every run appends the whole source as one snapshot, numbered 1, 2, 3… with the time
 * it was taken; `retainSnapshots` keeps the newest N and drops older ones whole.
 */
import type { Counts, Job } from "../job.ts";
import { reconcile, stageSource } from "../prepare.ts";
import { sql } from "../sql.ts";
import { createFromStage } from "./incremental.ts";

export async function snapshot(job: Job): Promise<Counts> {
  const { d, target, stage } = job;
  const config = job.configOf("snapshot");
  const idColumn = config.snapshotIdColumn;
  const atColumn = config.snapshotAtColumn;
  const existing = await job.columns(target);
  const staged = await stageSource(job, existing, { managed: [idColumn, atColumn] });
  const total = staged.rows;
  const at = d.param(d.timestampValue(job.now), d.timestampType);
  if (existing.length === 0) {
    const id = d.param(1, d.bigintType);
    return await createFromStage(
      job,
      total,
      sql`, ${id} AS ${d.ident(idColumn)}, ${at} AS ${d.ident(atColumn)}`,
    );
  }
  const columns = await reconcile(job, staged, [idColumn, atColumn]);
  const last = await job.count(
    sql`SELECT coalesce(max(${d.ident(idColumn)}), 0) AS n FROM ${d.table(target)}`,
  );
  const next = last + 1;
  const id = d.param(next, d.bigintType);
  const statements = [
    d.insertSelect(
      target,
      [...columns, idColumn, atColumn],
      sql`SELECT ${d.list(columns, "s")}, ${id}, ${at} FROM ${d.table(stage)} AS s`,
    ),
  ];
  let deleted = 0;
  const oldest = config.retainSnapshots ? next - config.retainSnapshots : 0;
  if (oldest >= 1) {
    const old = sql`${d.col("t", idColumn)} <= ${d.param(oldest, d.bigintType)}`;
    deleted = await job.countWhere(target, "t", old);
    statements.push(d.deleteWhere(target, old));
  }
  await job.atomic(statements);
  return { firstRun: false, inserted: total, updated: 0, deleted };
}
