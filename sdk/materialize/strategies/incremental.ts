/** incremental (merge, delete+insert, insert_overwrite, append) and append_only. */
import type { Counts, Job } from "../job.ts";
import { reconcile, stageSource } from "../prepare.ts";
import { raw, type Sql, sql } from "../sql.ts";

export async function incremental(job: Job): Promise<Counts> {
  const { d, target, stage } = job;
  const config = job.configOf("incremental");
  const keys = job.config.keys;
  const existing = await job.columns(target);
  let where: Sql | undefined;
  const column = config.incrementalColumn;
  if (column && existing.length > 0) {
    const type = existing.find((c) => c.name === column)?.type ??
      job.fail(`the target has no incrementalColumn ${column}`);
    // Without a mark yet (an empty target, or only NULLs), every source row is read.
    const marked = await job.run(
      sql`SELECT 1 AS marked FROM ${d.table(target)} WHERE ${d.ident(column)} IS NOT NULL LIMIT 1`,
    );
    if (marked.length > 0) {
      const mark = d.highWaterMark(target, column, type);
      const [row] = mark.read ? await job.run(mark.read) : [];
      where = sql`${d.col("src", column)} > ${mark.value(row)}`;
    }
  }
  const staged = await stageSource(job, existing, {
    where,
    required: [...keys, ...(column ? [column] : []), ...(config.mergeUpdateColumns ?? [])],
  });
  const total = staged.rows;
  if (existing.length === 0) return await createFromStage(job, total);

  const columns = await reconcile(job, staged);
  const all = selectStage(job, columns);
  switch (config.incrementalStrategy) {
    case "append":
      await job.atomic([d.insertSelect(target, columns, all)]);
      return { firstRun: false, inserted: total, updated: 0, deleted: 0 };
    case "insert_overwrite": {
      const deleted = await job.rowCount(target);
      await job.atomic(d.overwrite(target, columns, all));
      return { firstRun: false, inserted: total, updated: 0, deleted };
    }
    case "delete+insert": {
      const hit = d.matches(stage, "t", keys);
      const deleted = await job.countWhere(target, "t", hit);
      await job.atomic([d.deleteWhere(target, hit), d.insertSelect(target, columns, all)]);
      return { firstRun: false, inserted: total, updated: 0, deleted };
    }
    case "merge": {
      const updated = await job.countWhere(stage, "s", d.matches(target, "s", keys));
      const update = config.mergeUpdateColumns ?? columns.filter((c) => !keys.includes(c));
      const unknown = update.filter((c) => !columns.includes(c));
      if (unknown.length > 0) job.fail(`mergeUpdateColumns ${unknown.join(", ")} are not written`);
      await job.atomic(mergeStatements(job, columns, update));
      return { firstRun: false, inserted: total - updated, updated, deleted: 0 };
    }
  }
}

export async function appendOnly(job: Job): Promise<Counts> {
  const { d, target } = job;
  const existing = await job.columns(target);
  const staged = await stageSource(job, existing);
  const total = staged.rows;
  if (existing.length === 0) return await createFromStage(job, total);
  const columns = await reconcile(job, staged);
  await job.atomic([d.insertSelect(target, columns, selectStage(job, columns))]);
  return { firstRun: false, inserted: total, updated: 0, deleted: 0 };
}

function mergeStatements(job: Job, columns: string[], update: string[]): Sql[] {
  const { d, target, stage } = job;
  const keys = job.config.keys;
  if (d.hasMerge) return [d.merge(target, stage, keys, update, columns)];
  if (d.rewritesRows) {
    if (update.length < columns.length - keys.length) {
      job.fail(`${d.name} rewrites whole rows; mergeUpdateColumns is not supported there`);
    }
    return [
      d.deleteWhere(target, d.matches(stage, "t", keys)),
      d.insertSelect(target, columns, selectStage(job, columns)),
    ];
  }
  const set = update.map((c): [string, Sql] => [c, d.col("s", c)]);
  return [
    ...(set.length > 0 ? [d.updateFrom(target, stage, set, d.keyMatch("t", "s", keys))] : []),
    d.insertSelect(target, columns, selectNew(job, columns)),
  ];
}

/** First run: the target is created from the stage. */
export async function createFromStage(
  job: Job,
  total: number,
  extra: Sql = raw(""),
): Promise<Counts> {
  const { d } = job;
  await job.atomic([
    d.createTableAs(job.target, sql`SELECT s.*${extra} FROM ${d.table(job.stage)} AS s`),
  ], {
    ddl: true,
  });
  return { firstRun: true, inserted: total, updated: 0, deleted: 0 };
}

/** `SELECT s.a, s.b FROM stage AS s` */
export function selectStage(job: Job, columns: string[], where?: Sql): Sql {
  const { d } = job;
  const filter = where ? sql` WHERE ${where}` : raw("");
  return sql`SELECT ${d.list(columns, "s")} FROM ${d.table(job.stage)} AS s${filter}`;
}

/** Stage rows whose key is not in the target yet. */
export function selectNew(job: Job, columns: string[]): Sql {
  return selectStage(job, columns, sql`NOT ${job.d.matches(job.target, "s", job.config.keys)}`);
}
