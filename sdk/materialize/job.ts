/**
 * One materialization in progress: the session it runs on, the statements it has executed, and
 * the few primitives every strategy needs (run, count, describe a table, apply atomically).
 */
import type { Row, SqlSession } from "../connectors/types.ts";
import { bindValue } from "../connectors/_sql.ts";
import { MaterializationError, type ParsedConfig, type Strategy } from "./config.ts";
import type { SqlDialect, TableRef } from "./dialects/mod.ts";
import { raw, render, type Sql, sql } from "./sql.ts";

export interface Column {
  name: string;
  type: string;
}

/** Counts a strategy reports. */
export interface Counts {
  firstRun: boolean;
  inserted: number;
  updated: number;
  deleted: number;
}

export class Job {
  readonly statements: string[] = [];
  readonly target: TableRef;
  readonly stage: TableRef;
  /** Set once the staging table exists, so cleanup knows to drop it. */
  staged = false;

  constructor(
    readonly session: SqlSession,
    readonly d: SqlDialect,
    readonly config: ParsedConfig,
    /** One timestamp for the whole materialization (SCD2 validity, snapshots). */
    readonly now: Date,
    stageId: string,
  ) {
    this.target = config.targetTable.split(".");
    this.stage = d.stageRef(this.target, stageId);
  }

  /** Executes one statement and returns its rows. */
  async run(fragment: Sql): Promise<Row[]> {
    const { sql: text, params } = render(fragment, (i) => this.d.placeholder(i));
    this.statements.push(text);
    const result = await this.session.execute(text, params.map(bindValue));
    return result.rows;
  }

  /** Runs a `SELECT count(*) AS n …` and returns n. */
  async count(fragment: Sql): Promise<number> {
    const [row] = await this.run(fragment);
    return Number(row ? firstValue(row) : 0);
  }

  /** The number of rows in a table. */
  async rowCount(table: TableRef): Promise<number> {
    return await this.count(sql`SELECT count(*) AS n FROM ${this.d.table(table)}`);
  }

  async countWhere(table: TableRef, alias: string, where: Sql): Promise<number> {
    return await this.count(
      sql`SELECT count(*) AS n FROM ${this.d.table(table)} AS ${raw(alias)} WHERE ${where}`,
    );
  }

  /** The columns of a table, or an empty list if it does not exist. */
  async columns(ref: TableRef, stage = false): Promise<Column[]> {
    const rows = await this.run(this.d.columns(ref, stage));
    return rows.map((r) => ({
      name: String(r.name ?? r.NAME ?? r.Field),
      type: String(r.type ?? r.TYPE ?? r.Type),
    }));
  }

  /** `table`, `view`, or null when nothing has the target's name. */
  async kind(): Promise<"table" | "view" | null> {
    const [row] = await this.run(this.d.kind(this.target));
    const kind = row ? String(row.kind ?? row.KIND) : null;
    return kind === "view" ? "view" : kind === null ? null : "table";
  }

  /** The source query as a subquery, with trailing semicolons removed. */
  source(): Sql {
    return raw(`(${this.config.sourceQuery.replace(/[\s;]+$/, "")})`);
  }

  /**
   * The changes of a materialization, with the pre- and post-hooks around them, applied all or
   * nothing where the engine can. `ddl` marks DDL, which commits implicitly where DDL is not
   * transactional, so there it runs statement by statement (each one atomic by itself).
   */
  async atomic(fragments: Sql[], options: { ddl?: boolean } = {}): Promise<void> {
    const all = [
      ...this.config.hooks.pre.map(raw),
      ...fragments,
      ...this.config.hooks.post.map(raw),
    ];
    const mode = options.ddl && this.d.atomicity !== "ddl" ? "none" : this.d.atomicity;
    switch (mode) {
      case "ddl": // already inside the transaction opened at the start
      case "none":
        for (const fragment of all) await this.run(fragment);
        return;
      case "dml":
        await this.run(this.d.begin());
        try {
          for (const fragment of all) await this.run(fragment);
          await this.run(this.d.commit());
        } catch (err) {
          await this.run(this.d.rollback()).catch(() => {});
          throw err;
        }
        return;
      case "script": {
        // Rendered one by one: `?` placeholders bind in order across the whole script.
        const rendered = [this.d.begin(), ...all, this.d.commit()].map((f) =>
          render(f, (i) => this.d.placeholder(i))
        );
        const texts = rendered.map((r) => r.sql);
        const params = rendered.flatMap((r) => r.params).map(bindValue);
        this.statements.push(texts.join(";\n"));
        if (this.session.executeScript) await this.session.executeScript(texts, params);
        else await this.session.execute(texts.join(";\n"), params);
        return;
      }
    }
  }

  /** The config, narrowed to the strategy that is running. */
  configOf<S extends Strategy>(strategy: S): Extract<ParsedConfig, { strategy: S }> {
    if (this.config.strategy !== strategy) throw new Error(`not a ${strategy} materialization`);
    return this.config as Extract<ParsedConfig, { strategy: S }>;
  }

  fail(message: string): never {
    throw new MaterializationError(`${this.config.targetTable}: ${message}`);
  }
}

function firstValue(row: Row): unknown {
  return "n" in row ? row.n : "N" in row ? row.N : Object.values(row)[0];
}
