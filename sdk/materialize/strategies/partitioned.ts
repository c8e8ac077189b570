/**
 * partitioned: the source's partitions replace the target's same partitions; partitions past
 * their expiry are dropped. BigQuery and ClickHouse get native partitioning (and expiry).
 */
import type { Granularity } from "../dialects/mod.ts";
import type { Counts, Job } from "../job.ts";
import { reconcile, stageSource } from "../prepare.ts";
import { raw, type Sql, sql } from "../sql.ts";
import { selectStage } from "./incremental.ts";

export async function partitioned(job: Job): Promise<Counts> {
  const { d, target, stage } = job;
  const config = job.configOf("partitioned");
  const column = config.partitionBy;
  const granularity = config.partitionGranularity;
  const existing = await job.columns(target);
  // Rows already past expiry never enter the stage: they would be dropped right away.
  const cutoff = config.partitionExpirationDays
    ? d.param(
      d.timestampValue(expiryCutoff(job.now, config.partitionExpirationDays, granularity)),
      d.timestampType,
    )
    : null;
  const staged = await stageSource(job, existing, {
    where: cutoff ? sql`${asTimestamp(job, "src", column)} >= ${cutoff}` : undefined,
    required: [column, ...(config.clusterBy ?? []), ...job.config.keys],
  });
  const type = staged.source.find((c) => c.name === column)?.type ?? "";
  const total = staged.rows;
  if (existing.length === 0) {
    await job.atomic([
      d.createTableAs(target, sql`SELECT * FROM ${d.table(stage)}`, {
        partitionBy: { column, type, granularity },
        clusterBy: config.clusterBy,
        expirationDays: config.partitionExpirationDays,
      }),
    ], { ddl: true });
    return { firstRun: true, inserted: total, updated: 0, deleted: 0 };
  }
  const columns = await reconcile(job, staged);
  const partition = (alias: string) => d.truncate(d.col(alias, column), granularity, type);
  const replaced = sql`${partition("t")} IN (SELECT DISTINCT ${partition("s")} FROM ${
    d.table(stage)
  } AS s)`;
  let deleted = await job.countWhere(target, "t", replaced);
  const statements: Sql[] = [
    d.deleteWhere(target, replaced),
    d.insertSelect(target, columns, selectStage(job, columns)),
  ];
  if (cutoff && !d.nativeExpiry) {
    const expired = sql`${asTimestamp(job, "t", column)} < ${cutoff}`;
    deleted += await job.countWhere(target, "t", expired);
    statements.push(d.deleteWhere(target, expired));
  }
  return await job.atomic(statements).then(() => ({
    firstRun: false,
    inserted: total,
    updated: 0,
    deleted,
  }));
}

/** The partition column as a timestamp: DATE and TIMESTAMP do not compare everywhere (BigQuery). */
function asTimestamp(job: Job, alias: string, column: string): Sql {
  return sql`CAST(${job.d.col(alias, column)} AS ${raw(job.d.timestampType)})`;
}

/** Start of the oldest partition kept: `days` before now, floored to the granularity (UTC). */
export function expiryCutoff(now: Date, days: number, granularity: Granularity): Date {
  const t = new Date(now.getTime() - days * 86_400_000);
  const parts = [t.getUTCFullYear(), t.getUTCMonth(), t.getUTCDate(), t.getUTCHours()] as const;
  switch (granularity) {
    case "hour":
      return new Date(Date.UTC(parts[0], parts[1], parts[2], parts[3]));
    case "day":
      return new Date(Date.UTC(parts[0], parts[1], parts[2]));
    case "month":
      return new Date(Date.UTC(parts[0], parts[1], 1));
    case "year":
      return new Date(Date.UTC(parts[0], 0, 1));
  }
}
