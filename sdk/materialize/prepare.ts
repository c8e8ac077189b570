/**
 * What the table strategies share: stage the source into a table of its own, check it (required
 * columns, NULL and duplicate keys) and reconcile the target's columns with it (onSchemaChange).
 */
import type { Column, Job } from "./job.ts";
import { join, raw, type Sql, sql } from "./sql.ts";

export interface StageOptions {
  /** Rows the stage keeps (the incremental high-water mark). */
  where?: Sql;
  /** Computed columns added to every staged row (e.g. the SCD2 hash). */
  extra?: [string, Sql][];
  /** Columns the source must have (keys, tracked and partition columns…). */
  required?: string[];
  /** Columns the engine manages in the target: the source must not have them. */
  managed?: string[];
}

export interface Staged {
  /** The target's columns before this run; empty on the first run. */
  target: Column[];
  /** The source's columns (without the computed extras). */
  source: Column[];
  /** Rows in the stage. */
  rows: number;
}

/** Creates the stage from the source query and checks it. */
export async function stageSource(
  job: Job,
  target: Column[],
  options: StageOptions = {},
): Promise<Staged> {
  const { d, config } = job;
  const extra = options.extra ?? [];
  const extras = extra.map(([name, value]) => sql`, ${value} AS ${d.ident(name)}`);
  const where = options.where ? sql` WHERE ${options.where}` : raw("");
  if (target.length === 0) {
    const schema = d.createSchema(job.target);
    if (schema) await job.run(schema);
  }
  await job.run(
    d.createStage(
      job.stage,
      sql`SELECT src.*${join(extras, "")} FROM ${job.source()} AS src${where}`,
    ),
  );
  job.staged = true;
  const extraNames = new Set(extra.map(([name]) => name));
  const source = (await job.columns(job.stage, true)).filter((c) => !extraNames.has(c.name));
  const names = new Set(source.map((c) => c.name));
  const missing = (options.required ?? []).filter((c) => !names.has(c));
  if (missing.length > 0) {
    job.fail(
      `the source query has no column ${missing.join(", ")} (it has ${[...names].join(", ")})`,
    );
  }
  const clashing = (options.managed ?? []).filter((c) => names.has(c));
  if (clashing.length > 0) {
    job.fail(
      `the source query has column ${clashing.join(", ")}, which the strategy manages itself`,
    );
  }
  if (config.keys.length > 0) await checkKeys(job, config.keys);
  return { target, source, rows: await job.rowCount(job.stage) };
}

/**
 * NULL keys are refused: NULL never equals NULL, so such a row could never be matched again and
 * would be inserted anew on every run. Duplicate keys are refused, naming the values.
 */
async function checkKeys(job: Job, keys: string[]): Promise<void> {
  const { d } = job;
  const nulls = await job.countWhere(
    job.stage,
    "s",
    join(keys.map((k) => sql`${d.col("s", k)} IS NULL`), " OR "),
  );
  if (nulls > 0) {
    job.fail(
      `${nulls} source row(s) have a NULL in uniqueKey (${
        keys.join(", ")
      }); a NULL key can never ` +
        "match, so filter those rows out or COALESCE the key in sourceQuery",
    );
  }
  const list = d.list(keys, "s");
  const dups = await job.run(
    sql`SELECT ${list}, count(*) AS n FROM ${
      d.table(job.stage)
    } AS s GROUP BY ${list} HAVING count(*) > 1 ORDER BY n DESC, ${list} LIMIT 5`,
  );
  if (dups.length > 0) {
    const shown = dups.map((row) =>
      `${keys.map((k) => `${k}=${JSON.stringify(row[k] ?? null)}`).join(", ")} (${
        Number(row.n)
      } rows)`
    );
    job.fail(
      `the source has more than one row per uniqueKey (${keys.join(", ")}): ${shown.join("; ")}`,
    );
  }
}

/**
 * Applies onSchemaChange to an existing target and returns the source columns to write.
 * `managed` columns (SCD2 validity, snapshot ids) are the engine's and never count as drift.
 */
export async function reconcile(
  job: Job,
  staged: Staged,
  managed: string[] = [],
): Promise<string[]> {
  const { d } = job;
  const mode = "onSchemaChange" in job.config ? job.config.onSchemaChange : "append_new_columns";
  const ours = new Set(managed);
  const targetNames = new Set(staged.target.map((c) => c.name).filter((n) => !ours.has(n)));
  const sourceNames = new Set(staged.source.map((c) => c.name));
  const added = staged.source.filter((c) => !targetNames.has(c.name));
  const removed = [...targetNames].filter((n) => !sourceNames.has(n));
  if (added.length === 0 && removed.length === 0) return staged.source.map((c) => c.name);
  const describe = () =>
    [
      added.length > 0 ? `new column(s) ${added.map((c) => c.name).join(", ")}` : "",
      removed.length > 0 ? `missing column(s) ${removed.join(", ")}` : "",
    ].filter(Boolean).join(" and ");
  switch (mode) {
    case "fail":
      return job.fail(
        `the source's columns changed (${describe()}); set onSchemaChange to "append_new_columns", ` +
          '"sync_all_columns" or "ignore" to accept it',
      );
    case "ignore": {
      const keep = staged.source.map((c) => c.name).filter((n) => targetNames.has(n));
      const lost = job.config.keys.filter((k) => !targetNames.has(k));
      if (lost.length > 0) job.fail(`uniqueKey column ${lost.join(", ")} is not in the target`);
      return keep;
    }
    case "append_new_columns":
    case "sync_all_columns":
      for (const column of added) await job.run(d.addColumn(job.target, column.name, column.type));
      if (mode === "sync_all_columns") {
        for (const column of removed) await job.run(d.dropColumn(job.target, column));
      }
      return staged.source.map((c) => c.name);
  }
}
