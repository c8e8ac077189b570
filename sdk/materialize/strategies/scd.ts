/**
 * Slowly changing dimensions.
 * - Type 1 overwrites the rows whose tracked columns changed and inserts new keys.
 * - Type 2 keeps history: a changed key's current row is closed and a new current row opened;
 *   change detection compares a NULL-safe hash of the tracked columns stored with each row.
 */
import type { Counts, Job } from "../job.ts";
import { reconcile, stageSource } from "../prepare.ts";
import { join, raw, type Sql, sql } from "../sql.ts";
import { createFromStage, selectNew } from "./incremental.ts";

export async function scdType1(job: Job): Promise<Counts> {
  const { d, target, stage } = job;
  const keys = job.config.keys;
  const columnsTracked = job.configOf("scd_type_1").trackedColumns;
  const existing = await job.columns(target);
  const staged = await stageSource(job, existing, { required: [...keys, ...columnsTracked] });
  const total = staged.rows;
  if (existing.length === 0) return await createFromStage(job, total);
  const columns = await reconcile(job, staged);
  requireWritten(job, columns, columnsTracked);

  const updated = await job.countWhere(
    stage,
    "s",
    d.matchesChanged(target, "s", keys, columnsTracked),
  );
  const inserted = await job.countWhere(stage, "s", sql`NOT ${d.matches(target, "s", keys)}`);
  if (d.rewritesRows) {
    await job.atomic([
      d.deleteWhere(target, d.matchesChanged(stage, "t", keys, columnsTracked)),
      d.insertSelect(target, columns, selectNew(job, columns)),
    ]);
  } else {
    const changed = join(
      columnsTracked.map((c) => d.distinct(d.col("t", c), d.col("s", c))),
      " OR ",
    );
    const set = columns.filter((c) => !keys.includes(c)).map((
      c,
    ): [string, Sql] => [c, d.col("s", c)]);
    await job.atomic([
      d.updateFrom(target, stage, set, sql`${d.keyMatch("t", "s", keys)} AND (${changed})`),
      d.insertSelect(target, columns, selectNew(job, columns)),
    ]);
  }
  return { firstRun: false, inserted, updated, deleted: 0 };
}

export async function scdType2(job: Job): Promise<Counts> {
  const { d, target, stage } = job;
  const config = job.configOf("scd_type_2");
  const keys = job.config.keys;
  const meta = {
    from: config.validFromColumn,
    to: config.validToColumn,
    current: config.isCurrentColumn,
    hash: config.hashColumn,
  };
  const existing = await job.columns(target);
  const staged = await stageSource(job, existing, {
    required: [...keys, ...config.trackedColumns],
    managed: Object.values(meta),
    extra: [[meta.hash, d.hash(config.trackedColumns.map((c) => d.col("src", c)))]],
  });
  const now = d.param(d.timestampValue(job.now), d.timestampType);
  const total = staged.rows;
  if (existing.length === 0) {
    const validity = sql`, ${now} AS ${d.ident(meta.from)}, ${d.nullOf(d.timestampType)} AS ${
      d.ident(meta.to)
    }, TRUE AS ${d.ident(meta.current)}`;
    return await createFromStage(job, total, validity);
  }
  const columns = await reconcile(job, staged, Object.values(meta));
  requireWritten(job, columns, config.trackedColumns);

  const isCurrent = d.col("t", meta.current);
  const changed = sql`${isCurrent} AND ${d.matchesChanged(stage, "t", keys, [meta.hash])}`;
  const gone = sql`${isCurrent} AND NOT ${d.matches(stage, "t", keys)}`;
  const currentRows = sql`(SELECT * FROM ${d.table(target)} WHERE ${d.ident(meta.current)})`;
  const unchanged = d.matches(currentRows, "s", [...keys, meta.hash]);
  const close: [string, Sql][] = [[meta.to, now], [meta.current, raw("FALSE")]];

  const updated = await job.countWhere(target, "t", changed);
  const deleted = config.invalidateHardDeletes ? await job.countWhere(target, "t", gone) : 0;
  const inserted = await job.countWhere(stage, "s", sql`NOT ${unchanged}`);
  // Closing first leaves changed keys without a current row, so one INSERT opens new versions
  // for changed, new and returning keys alike.
  const open = d.matches(currentRows, "s", keys);
  await job.atomic([
    d.update(target, close, changed),
    ...(config.invalidateHardDeletes ? [d.update(target, close, gone)] : []),
    d.insertSelect(
      target,
      [...columns, meta.hash, meta.from, meta.to, meta.current],
      sql`SELECT ${d.list([...columns, meta.hash], "s")}, ${now}, ${
        d.nullOf(d.timestampType)
      }, TRUE FROM ${d.table(stage)} AS s WHERE NOT ${open}`,
    ),
  ]);
  return { firstRun: false, inserted, updated, deleted };
}

function requireWritten(job: Job, columns: string[], needed: string[]): void {
  const lost = needed.filter((c) => !columns.includes(c));
  if (lost.length > 0) job.fail(`trackedColumns ${lost.join(", ")} are not in the target`);
}
