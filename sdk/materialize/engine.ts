/**
 * Runs a materialization: validate the config, take the dialect from the connector, hold a
 * session with a lock on the target, run the strategy, and report what changed.
 */
import type { Connector, SqlSession } from "../connectors/types.ts";
import {
  type MaterializationConfig,
  MaterializationError,
  parseConfig,
  type ParsedConfig,
  type Strategy,
} from "./config.ts";
import { dialectFor, type SqlDialect } from "./dialects/mod.ts";
import { type Counts, Job } from "./job.ts";
import { appendOnly, incremental } from "./strategies/incremental.ts";
import { partitioned } from "./strategies/partitioned.ts";
import { fullRefresh, type Kind, view } from "./strategies/rebuild.ts";
import { scdType1, scdType2 } from "./strategies/scd.ts";
import { snapshot } from "./strategies/snapshot.ts";
import type { Sql } from "./sql.ts";
import { errorText } from "../_error_text.ts";

/** What a materialization did. */
export interface MaterializeResult {
  /** The strategy that ran. */
  strategy: Strategy;
  /** The target, as configured. */
  table: string;
  /** True when this run created the target. */
  first_run: boolean;
  /** Rows written as new rows (new versions, for SCD2). */
  rows_inserted: number;
  /** Rows overwritten (merge, SCD1) or closed because they changed (SCD2). */
  rows_updated: number;
  /** Rows removed: replaced, expired, overwritten, or closed as hard deletes (SCD2). */
  rows_deleted: number;
  /** Milliseconds it took, waiting for the lock on the target included. */
  duration_ms: number;
  /** Every statement executed, in order (values are bound, never part of the text). */
  statements: string[];
}

/** Where {@link materialize} runs. */
export interface MaterializeOptions {
  /**
   * A SQL connector (one with a `dialect`): the engine writes that dialect's SQL and runs it on
   * a session of its own. Materializations through one connector run one at a time.
   */
  connection: Connector;
}

const STRATEGIES: Record<Strategy, (job: Job, kind: Kind) => Promise<Counts>> = {
  full_refresh: fullRefresh,
  view,
  incremental,
  append_only: appendOnly,
  partitioned,
  scd_type_1: scdType1,
  scd_type_2: scdType2,
  snapshot,
};

/** Materializations through one connector run one at a time within a run. */
const queues = new WeakMap<Connector, Promise<unknown>>();

/**
 * Builds `config.targetTable` from `config.sourceQuery` on the connection's engine, under a
 * lock on the target, and resolves to what changed. The config is checked first: a bad one
 * throws {@link MaterializationError} naming every problem, before any SQL runs. In a pipeline,
 * `ctx.materialize` does the same, also takes a connection's name and logs the result.
 *
 * @example Keep the history of customers (SCD type 2) on a connection the run holds
 * ```ts
 * import { pipeline } from "tau";
 * import { materialize } from "tau/materializations";
 *
 * export default pipeline({ name: "customers_history", connections: ["warehouse"] }, async (ctx) => {
 *   await using db = await ctx.connection("warehouse");
 *   const result = await materialize({
 *     strategy: "scd_type_2",
 *     targetTable: "analytics.customers_history",
 *     sourceQuery: "SELECT id, email, plan FROM raw.customers",
 *     uniqueKey: "id",
 *     trackedColumns: ["email", "plan"],
 *   }, { connection: db });
 *   return { new_versions: result.rows_inserted, closed: result.rows_updated };
 * });
 * ```
 */
export async function materialize(
  config: MaterializationConfig,
  options: MaterializeOptions,
): Promise<MaterializeResult> {
  const parsed = parseConfig(config);
  const connection = options?.connection;
  if (!connection || typeof connection !== "object") {
    throw new MaterializationError("materialize needs { connection }: a SQL connector");
  }
  const { dialect } = connection;
  if (!dialect || !connection.session) {
    throw new MaterializationError(
      `Connection ${connection.name} (${connection.type}) does not speak SQL; materializations need a SQL database`,
    );
  }
  const previous = queues.get(connection) ?? Promise.resolve();
  const run = (s: SqlSession) => runMaterialization(s, dialectFor(dialect), parsed);
  const mine = previous.catch(() => {}).then(() => connection.session!(run));
  queues.set(connection, mine);
  return await mine;
}

/** Internal: one materialization on an open session (tests inject the clock and stage id). */
export async function runMaterialization(
  session: SqlSession,
  d: SqlDialect,
  config: ParsedConfig,
  options: { now?: Date; stageId?: string } = {},
): Promise<MaterializeResult> {
  const started = performance.now();
  const job = new Job(session, d, config, options.now ?? new Date(), options.stageId ?? stageId());
  let release: Sql[] = [];
  try {
    if (d.atomicity === "ddl") await job.run(d.begin());
    let kind = await job.kind();
    const lock = d.lock(job.target, kind !== null);
    release = lock.release;
    for (const statement of lock.acquire) {
      const [row] = await job.run(statement);
      if (row && "acquired" in row && Number(row.acquired) !== 1) {
        job.fail("another materialization holds the lock on this table; try again later");
      }
    }
    // A run that held the lock before us may have just created the target.
    if (lock.acquire.length > 0) kind = await job.kind();
    const counts = await STRATEGIES[config.strategy](job, kind);
    if (job.staged) {
      await job.run(d.dropTable(job.stage));
      job.staged = false;
    }
    if (d.atomicity === "ddl") await job.run(d.commit());
    return {
      strategy: config.strategy,
      table: config.targetTable,
      first_run: counts.firstRun,
      rows_inserted: counts.inserted,
      rows_updated: counts.updated,
      rows_deleted: counts.deleted,
      duration_ms: Math.round(performance.now() - started),
      statements: job.statements,
    };
  } catch (err) {
    const failed = job.statements[job.statements.length - 1];
    if (d.atomicity === "ddl") await job.run(d.rollback()).catch(() => {});
    throw describeFailure(err, config, failed);
  } finally {
    if (job.staged) await job.run(d.dropTable(job.stage)).catch(() => {});
    for (const statement of release) await job.run(statement).catch(() => {});
  }
}

function describeFailure(err: unknown, config: ParsedConfig, statement: string | undefined) {
  if (err instanceof MaterializationError) return err;
  const message = errorText(err);
  const shown = statement && statement.length > 500 ? `${statement.slice(0, 500)}…` : statement;
  return new MaterializationError(
    `${config.targetTable}: ${config.strategy} failed, nothing was changed where the engine has transactions: ${message}${
      shown ? `\nStatement: ${shown}` : ""
    }`,
    { cause: err },
  );
}

function stageId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(4));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}
