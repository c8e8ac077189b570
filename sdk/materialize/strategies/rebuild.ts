/** Strategies that rebuild from the source query directly, with no staging: full_refresh, view. */
import type { Counts, Job } from "../job.ts";
import { sql } from "../sql.ts";

export type Kind = "table" | "view" | null;

/** Builds a new table and swaps it in; readers see the old table until the swap commits. */
export async function fullRefresh(job: Job, kind: Kind): Promise<Counts> {
  const { d, target } = job;
  if (kind === "view") job.fail('is a view; drop it, or materialize it with strategy "view"');
  const select = sql`SELECT * FROM ${job.source()} AS src`;
  if (kind === null) {
    const schema = d.createSchema(target);
    if (schema) await job.run(schema);
    await job.atomic([d.createTableAs(target, select)], { ddl: true });
    return { firstRun: true, inserted: await job.rowCount(target), updated: 0, deleted: 0 };
  }
  const deleted = await job.rowCount(target);
  const name = target[target.length - 1];
  const sibling = (suffix: string) => [...target.slice(0, -1), `${name}${suffix}`];
  await job.atomic(d.replaceTable(target, select, sibling("__tau_new"), sibling("__tau_old")), {
    ddl: true,
  });
  return { firstRun: false, inserted: await job.rowCount(target), updated: 0, deleted };
}

/** Creates or redefines a view; never replaces a table. */
export async function view(job: Job, kind: Kind): Promise<Counts> {
  const { d, target } = job;
  if (kind === "table") {
    job.fail("is a table; a view cannot replace it (drop the table, or pick a table strategy)");
  }
  if (kind === null) {
    const schema = d.createSchema(target);
    if (schema) await job.run(schema);
  }
  const select = sql`SELECT * FROM ${job.source()} AS src`;
  await job.atomic(d.createView(target, select, kind === "view"), { ddl: true });
  return { firstRun: kind === null, inserted: 0, updated: 0, deleted: 0 };
}
