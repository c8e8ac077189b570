/**
 * Materialization configs: what to build, declared; {@link parseConfig} validates them with zod
 * (strict keys, so a misspelt option is an error rather than silently ignored).
 */
import { z } from "zod";

/** What happens when the source's columns differ from the target's (dbt's meanings). */
export type OnSchemaChange = "fail" | "append_new_columns" | "sync_all_columns" | "ignore";

/** Fields every strategy takes. */
export interface BaseConfig {
  /** Table (or view) to build, optionally qualified: `analytics.orders`. */
  targetTable: string;
  /** The SELECT whose rows the target should hold. */
  sourceQuery: string;
  /** SQL run before the materialization, inside its transaction where the engine allows. */
  preHook?: string | string[];
  /** SQL run after the materialization, inside its transaction where the engine allows. */
  postHook?: string | string[];
}

/**
 * The {@link BaseConfig} fields plus the one every strategy that keeps its target from run to
 * run needs: what to do when the source's columns change. All strategies but `full_refresh` and
 * `view` (which rebuild the target) take it.
 */
export interface EvolvingConfig extends BaseConfig {
  /**
   * `fail` stops on any difference; `append_new_columns` adds new source columns to the
   * target; `sync_all_columns` also drops target columns the source no longer has; `ignore`
   * writes only the columns both have.
   * @default {"append_new_columns"}
   */
  onSchemaChange?: OnSchemaChange;
}

/**
 * Rebuilds the whole table on every run and swaps it in atomically. Also takes the
 * {@link BaseConfig} fields.
 */
export interface FullRefreshConfig extends BaseConfig {
  /** Selects this strategy. */
  strategy: "full_refresh";
}

/**
 * Brings new and changed source rows into the target. Also takes the {@link EvolvingConfig}
 * fields.
 */
export interface IncrementalConfig extends EvolvingConfig {
  /** Selects this strategy. */
  strategy: "incremental";
  /** Column(s) identifying a row; required for `merge` and `delete+insert`. */
  uniqueKey?: string | string[];
  /**
   * Only source rows whose value here is greater than the target's maximum are read; not
   * allowed with `insert_overwrite`.
   * @default {every source row is read}
   */
  incrementalColumn?: string;
  /**
   * How the rows read reach the target: `merge` updates the rows whose key matches and inserts
   * the others; `delete+insert` deletes the target rows whose key matches, then inserts;
   * `insert_overwrite` replaces the whole table's contents; `append` inserts every row.
   * @default {"merge"}
   */
  incrementalStrategy?: "merge" | "delete+insert" | "insert_overwrite" | "append";
  /**
   * Columns a `merge` updates on matched rows (the others keep their values).
   * @default {every non-key column written}
   */
  mergeUpdateColumns?: string[];
}

/**
 * Replaces the target's partitions that the source holds rows for. Also takes the
 * {@link EvolvingConfig} fields.
 */
export interface PartitionedConfig extends EvolvingConfig {
  /** Selects this strategy. */
  strategy: "partitioned";
  /** A date or timestamp column. */
  partitionBy: string;
  /**
   * Size of one partition of `partitionBy`.
   * @default {"day"}
   */
  partitionGranularity?: "hour" | "day" | "month" | "year";
  /** Columns to cluster (BigQuery, Snowflake) or order (ClickHouse) the table by. */
  clusterBy?: string[];
  /**
   * Partitions older than this many days are removed.
   * @default {kept forever}
   */
  partitionExpirationDays?: number;
  /** If given, the source must hold at most one row per key. */
  uniqueKey?: string | string[];
}

/**
 * Overwrites rows whose tracked columns changed and inserts new keys; keeps no history. Also
 * takes the {@link EvolvingConfig} fields.
 */
export interface ScdType1Config extends EvolvingConfig {
  /** Selects this strategy. */
  strategy: "scd_type_1";
  /** Column(s) identifying a row. */
  uniqueKey: string | string[];
  /** Columns whose change overwrites the row (all its non-key columns then take new values). */
  trackedColumns: string[];
}

/**
 * Keeps every version of a row, with validity columns and one current row per key: when a
 * tracked column changes, the key's current row is closed and a new one opened. Also takes the
 * {@link EvolvingConfig} fields.
 */
export interface ScdType2Config extends EvolvingConfig {
  /** Selects this strategy. */
  strategy: "scd_type_2";
  /** Column(s) identifying a row. */
  uniqueKey: string | string[];
  /** Columns whose change makes a new version of the row. */
  trackedColumns: string[];
  /** Close the current row of a key that disappeared from the source. @default {false} */
  invalidateHardDeletes?: boolean;
  /**
   * Column holding when a version became current (the run's time).
   * @default {"valid_from"}
   */
  validFromColumn?: string;
  /**
   * Column holding when a version was closed; NULL while it is current.
   * @default {"valid_to"}
   */
  validToColumn?: string;
  /**
   * Column that is TRUE on the current version of each key.
   * @default {"is_current"}
   */
  isCurrentColumn?: string;
  /**
   * Column holding a hash of the tracked columns, compared to detect a change.
   * @default {"row_hash"}
   */
  hashColumn?: string;
}

/**
 * Appends a point-in-time copy of the source on every run. Also takes the
 * {@link EvolvingConfig} fields.
 */
export interface SnapshotConfig extends EvolvingConfig {
  /** Selects this strategy. */
  strategy: "snapshot";
  /** Keep only the newest N snapshots. @default {all} */
  retainSnapshots?: number;
  /**
   * Column numbering the snapshots: 1, 2, 3, and so on.
   * @default {"snapshot_id"}
   */
  snapshotIdColumn?: string;
  /**
   * Column holding when the snapshot was taken (the run's time).
   * @default {"snapshot_at"}
   */
  snapshotAtColumn?: string;
}

/**
 * Inserts every source row; never updates or deletes. Also takes the {@link EvolvingConfig}
 * fields.
 */
export interface AppendOnlyConfig extends EvolvingConfig {
  /** Selects this strategy. */
  strategy: "append_only";
}

/** A view over the source query; stores nothing. Also takes the {@link BaseConfig} fields. */
export interface ViewConfig extends BaseConfig {
  /** Selects this strategy. */
  strategy: "view";
}

/**
 * What `materialize` builds: one config per strategy, told apart by `strategy`. Configs are
 * checked strictly when the materialization runs: an unknown or misspelt field is an error.
 */
export type MaterializationConfig =
  | FullRefreshConfig
  | IncrementalConfig
  | PartitionedConfig
  | ScdType1Config
  | ScdType2Config
  | SnapshotConfig
  | AppendOnlyConfig
  | ViewConfig;

/** The name of a materialization strategy. */
export type Strategy = MaterializationConfig["strategy"];

const name = z.string().trim().min(1, "must not be empty");
const table = name.refine(
  (t: string) => t.split(".").every((part) => part.length > 0) && t.split(".").length <= 3,
  "must be `table`, `schema.table` or `project.dataset.table`",
);
const keys = z.union([name, z.array(name).min(1)]);
const hooks = z.union([z.string(), z.array(z.string())]);

const base = {
  targetTable: table,
  sourceQuery: z.string().trim().min(1, "must not be empty"),
  preHook: hooks.optional(),
  postHook: hooks.optional(),
};
const evolving = {
  ...base,
  onSchemaChange: z.enum(["fail", "append_new_columns", "sync_all_columns", "ignore"])
    .default("append_new_columns"),
};

const schema = z.discriminatedUnion("strategy", [
  z.strictObject({ strategy: z.literal("full_refresh"), ...base }),
  z.strictObject({
    strategy: z.literal("incremental"),
    ...evolving,
    uniqueKey: keys.optional(),
    incrementalColumn: name.optional(),
    incrementalStrategy: z.enum(["merge", "delete+insert", "insert_overwrite", "append"])
      .default("merge"),
    mergeUpdateColumns: z.array(name).min(1).optional(),
  }),
  z.strictObject({
    strategy: z.literal("partitioned"),
    ...evolving,
    partitionBy: name,
    partitionGranularity: z.enum(["hour", "day", "month", "year"]).default("day"),
    clusterBy: z.array(name).min(1).optional(),
    partitionExpirationDays: z.number().int().positive().optional(),
    uniqueKey: keys.optional(),
  }),
  z.strictObject({
    strategy: z.literal("scd_type_1"),
    ...evolving,
    uniqueKey: keys,
    trackedColumns: z.array(name).min(1),
  }),
  z.strictObject({
    strategy: z.literal("scd_type_2"),
    ...evolving,
    uniqueKey: keys,
    trackedColumns: z.array(name).min(1),
    invalidateHardDeletes: z.boolean().default(false),
    validFromColumn: name.default("valid_from"),
    validToColumn: name.default("valid_to"),
    isCurrentColumn: name.default("is_current"),
    hashColumn: name.default("row_hash"),
  }),
  z.strictObject({
    strategy: z.literal("snapshot"),
    ...evolving,
    retainSnapshots: z.number().int().positive().optional(),
    snapshotIdColumn: name.default("snapshot_id"),
    snapshotAtColumn: name.default("snapshot_at"),
  }),
  z.strictObject({ strategy: z.literal("append_only"), ...evolving }),
  z.strictObject({ strategy: z.literal("view"), ...base }),
]).superRefine((config: Filled, issue: IssueSink) => {
  if (config.strategy !== "incremental") return;
  const needsKey = config.incrementalStrategy === "merge" ||
    config.incrementalStrategy === "delete+insert";
  if (needsKey && config.uniqueKey === undefined) {
    issue.addIssue({
      code: "custom",
      path: ["uniqueKey"],
      message: `incrementalStrategy "${config.incrementalStrategy}" needs uniqueKey`,
    });
  }
  if (config.incrementalStrategy === "insert_overwrite" && config.incrementalColumn) {
    issue.addIssue({
      code: "custom",
      path: ["incrementalColumn"],
      message: "insert_overwrite replaces the whole table, so it cannot read only new rows; " +
        'use strategy "partitioned" to replace single partitions',
    });
  }
  if (config.mergeUpdateColumns && config.incrementalStrategy !== "merge") {
    issue.addIssue({
      code: "custom",
      path: ["mergeUpdateColumns"],
      message: 'mergeUpdateColumns only applies to incrementalStrategy "merge"',
    });
  }
});

// The parsed types are spelt out rather than read from zod (`z.output`): the deploy-time check
// sees zod through an any-typed stand-in (sdk/_typecheck), and the SDK must type-check there too.
// `deno task check`, against the real zod, proves the schema's output fits them (parseConfig).

/** The fields the schema fills in when a config leaves them out. */
type Defaulted =
  | "onSchemaChange"
  | "incrementalStrategy"
  | "partitionGranularity"
  | "invalidateHardDeletes"
  | "validFromColumn"
  | "validToColumn"
  | "isCurrentColumn"
  | "hashColumn"
  | "snapshotIdColumn"
  | "snapshotAtColumn";
/** A config of one strategy with its defaulted fields present (distributes over a union). */
type WithDefaults<C> = C extends unknown
  ? Omit<C, Defaulted> & Required<Pick<C, Extract<keyof C, Defaulted>>>
  : never;
/** A config after parsing. */
type Filled = WithDefaults<MaterializationConfig>;
/** Where a refinement reports a problem (zod's refinement context, as far as it is used). */
interface IssueSink {
  addIssue(issue: { code: "custom"; path: string[]; message: string }): void;
}

/** A validated config with every default filled in and keys as arrays. */
export type ParsedConfig = Filled & { keys: string[]; hooks: Hooks };
export interface Hooks {
  pre: string[];
  post: string[];
}

/** Thrown for an invalid config or a source the strategy cannot apply. */
export class MaterializationError extends Error {
  /** Makes the error; `options.cause` keeps the engine's own error. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "MaterializationError";
  }
}

/** Validates a config, naming every problem at once. */
export function parseConfig(input: unknown): ParsedConfig {
  const parsed = schema.safeParse(input);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i: { path: PropertyKey[]; message: string }) =>
      i.path.length > 0 ? `${i.path.join(".")}: ${i.message}` : i.message
    );
    throw new MaterializationError(`Invalid materialization config: ${problems.join("; ")}`);
  }
  const config: Filled = parsed.data;
  const key = "uniqueKey" in config ? config.uniqueKey : undefined;
  const list = (hook: string | string[] | undefined) =>
    hook === undefined ? [] : Array.isArray(hook) ? hook : [hook];
  return {
    ...config,
    keys: key === undefined ? [] : Array.isArray(key) ? key : [key],
    hooks: { pre: list(config.preHook), post: list(config.postHook) },
  };
}
