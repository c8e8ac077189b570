/**
 * The SQL each engine receives, statement by statement, for every strategy, checked against the
 * golden files in tests/materialize/golden/. Redshift, Snowflake, BigQuery and ClickHouse are
 * only checked this way (no engine runs here); PostgreSQL, MySQL and DuckDB are also executed
 * for real by the other tests. Regenerate after an intended change with
 * `UPDATE_GOLDEN=1 deno test -A tests/materialize/golden_test.ts` and review the diff.
 */
import type { Dialect, ExecuteResult, Row, SqlSession } from "../../sdk/connectors/types.ts";
import { type MaterializationConfig, parseConfig } from "../../sdk/materialize/config.ts";
import { dialectFor } from "../../sdk/materialize/dialects/mod.ts";
import { runMaterialization } from "../../sdk/materialize/engine.ts";
import { assertEquals } from "../helpers/assert.ts";

const DIALECTS: Dialect[] = [
  "redshift",
  "snowflake",
  "bigquery",
  "clickhouse",
  "postgres",
  "mysql",
  "duckdb",
];
const NOW = new Date("2026-03-01T06:00:00Z");
const SOURCE = [
  { name: "id", type: "INT64" },
  { name: "name", type: "STRING" },
  { name: "event_date", type: "DATE" },
  { name: "updated_at", type: "TIMESTAMP" },
];

const base = { targetTable: "analytics.target", sourceQuery: "SELECT * FROM raw.source" };
const SCENARIOS: Record<string, { config: MaterializationConfig; exists: boolean }> = {
  full_refresh_first: { config: { strategy: "full_refresh", ...base }, exists: false },
  full_refresh: {
    config: {
      strategy: "full_refresh",
      ...base,
      preHook: "SELECT 'pre'",
      postHook: "SELECT 'post'",
    },
    exists: true,
  },
  incremental_merge: {
    config: {
      strategy: "incremental",
      ...base,
      uniqueKey: "id",
      incrementalColumn: "updated_at",
    },
    exists: true,
  },
  incremental_delete_insert: {
    config: {
      strategy: "incremental",
      ...base,
      uniqueKey: ["id", "name"],
      incrementalStrategy: "delete+insert",
    },
    exists: true,
  },
  incremental_insert_overwrite: {
    config: { strategy: "incremental", ...base, incrementalStrategy: "insert_overwrite" },
    exists: true,
  },
  incremental_append: {
    config: {
      strategy: "incremental",
      ...base,
      incrementalStrategy: "append",
      incrementalColumn: "updated_at",
    },
    exists: true,
  },
  partitioned_first: {
    config: {
      strategy: "partitioned",
      ...base,
      partitionBy: "event_date",
      clusterBy: ["id"],
      partitionExpirationDays: 90,
    },
    exists: false,
  },
  partitioned: {
    config: {
      strategy: "partitioned",
      ...base,
      partitionBy: "event_date",
      partitionExpirationDays: 90,
    },
    exists: true,
  },
  scd_type_1: {
    config: { strategy: "scd_type_1", ...base, uniqueKey: "id", trackedColumns: ["name"] },
    exists: true,
  },
  scd_type_2_first: {
    config: {
      strategy: "scd_type_2",
      ...base,
      uniqueKey: "id",
      trackedColumns: ["name", "event_date"],
    },
    exists: false,
  },
  scd_type_2: {
    config: {
      strategy: "scd_type_2",
      ...base,
      uniqueKey: "id",
      trackedColumns: ["name", "event_date"],
      invalidateHardDeletes: true,
    },
    exists: true,
  },
  snapshot: {
    config: { strategy: "snapshot", ...base, retainSnapshots: 3 },
    exists: true,
  },
  append_only_new_column: {
    config: { strategy: "append_only", ...base },
    exists: true,
  },
  view: { config: { strategy: "view", ...base }, exists: true },
};

/** Answers the engine's catalog and count queries from a fixed catalog, recording everything. */
class RecordingSession implements SqlSession {
  readonly log: string[] = [];

  constructor(private readonly exists: boolean, private readonly scenario: string) {}

  execute(sql: string, params: unknown[] = []): Promise<ExecuteResult> {
    this.log.push(params.length > 0 ? `${sql}\n-- params: ${JSON.stringify(params)}` : sql);
    return Promise.resolve({ rowCount: 0, rows: this.#answer(sql, params) });
  }

  executeScript(statements: string[], params: unknown[]): Promise<void> {
    this.log.push(
      `-- one request:\n${statements.join(";\n")}\n-- params: ${JSON.stringify(params)}`,
    );
    return Promise.resolve();
  }

  #answer(sql: string, params: unknown[]): Row[] {
    const stage = params.some((p) => String(p).includes("__tau_stage")) ||
      /__tau_stage/.test(sql.split(" WHERE ")[0] ?? "") && /SHOW COLUMNS|attname/.test(sql);
    if (/\bAS "?kind"?\b/.test(sql)) {
      return this.exists ? [{ kind: this.scenario === "view" ? "view" : "table" }] : [];
    }
    if (/\bAS "?name"?\b|system\.columns|SHOW COLUMNS/.test(sql)) {
      if (stage) {
        return SOURCE.concat(
          this.scenario.endsWith("new_column") ? [{ name: "extra", type: "STRING" }] : [],
        );
      }
      return this.exists ? SOURCE.concat(this.#managed()) : [];
    }
    if (/\bAS marked\b/.test(sql)) return [{ marked: 1 }];
    if (/\bAS hwm\b/.test(sql)) return [{ hwm: "2026-02-28 00:00:00.123456+00" }];
    if (/IS NULL/.test(sql)) return [{ n: 0 }];
    if (/count\(\*\) AS n|AS n FROM/.test(sql) && !/HAVING/.test(sql)) return [{ n: 4 }];
    return [];
  }

  #managed(): { name: string; type: string }[] {
    const names = this.scenario.startsWith("scd_type_2")
      ? ["row_hash", "valid_from", "valid_to", "is_current"]
      : this.scenario === "snapshot"
      ? ["snapshot_id", "snapshot_at"]
      : [];
    return names.map((name) => ({ name, type: "STRING" }));
  }
}

const GOLDEN = new URL("./golden/", import.meta.url);

for (const dialect of DIALECTS) {
  Deno.test(`golden SQL for ${dialect}`, async () => {
    for (const [scenario, { config, exists }] of Object.entries(SCENARIOS)) {
      const session = new RecordingSession(exists, scenario);
      await runMaterialization(session, dialectFor(dialect), parseConfig(config), {
        now: NOW,
        stageId: "0001",
      });
      const actual = `-- ${dialect}: ${scenario}\n\n${session.log.join(";\n\n")};\n`;
      const file = new URL(`${dialect}/${scenario}.sql`, GOLDEN);
      if (Deno.env.get("UPDATE_GOLDEN")) {
        await Deno.mkdir(new URL(`${dialect}/`, GOLDEN), { recursive: true });
        await Deno.writeTextFile(file, actual);
      }
      assertEquals(actual, await Deno.readTextFile(file), `${dialect}/${scenario}.sql`);
    }
  });
}
