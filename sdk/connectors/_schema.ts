/**
 * The one schema-change policy every connector's `load` follows: compare the rows' columns with
 * the target table's, decide from `onSchemaChange` what to add, drop, widen or refuse, and say
 * so in the load result or in a {@link SchemaChangeError}. Pure: the connectors read the target's
 * columns and run the DDL this plan lists.
 *
 * @module
 */
import { fits, type InferredColumn, parseSqlType, sqlType, widen } from "./_columns.ts";
import { quoteIdent } from "./_sql.ts";
import {
  ConnectorError,
  type Dialect,
  type LoadMode,
  type LoadOptions,
  type OnSchemaChange,
  type SchemaChanges,
} from "./types.ts";

/** A column of the existing target table, with the engine's own type text. */
export interface TargetColumn {
  name: string;
  type: string;
}

export interface SchemaPlan {
  /** The source columns to write (all of them, less those `ignore` leaves out). */
  write: InferredColumn[];
  /** Columns to add to the target before writing. */
  add: InferredColumn[];
  /** Target columns to drop (`sync_all_columns`). */
  drop: string[];
  /** Target columns to change to a wider type (`sync_all_columns`): name → new column type. */
  alter: InferredColumn[];
  changes: SchemaChanges;
}

const MODES: readonly OnSchemaChange[] = [
  "fail",
  "append_new_columns",
  "sync_all_columns",
  "ignore",
];

/** Raised when a load would change the target's columns and `onSchemaChange` does not allow it. */
export class SchemaChangeError extends ConnectorError {
  /** Stable code of this error: the run fails with error kind `schema_change`. */
  readonly code = "schema_change";
  /**
   * Makes the error. `hint` says what to change (usually the `onSchemaChange` that allows the
   * load); `details` names the table, the `onSchemaChange` in force and every column difference.
   */
  constructor(
    message: string,
    readonly hint: string,
    readonly details: { table: string; on_schema_change: OnSchemaChange } & SchemaChanges,
  ) {
    super(message);
    this.name = "SchemaChangeError";
  }
}

/** `onSchemaChange` of load options, checked. @default {"append_new_columns"} */
export function onSchemaChangeOf(options: LoadOptions): OnSchemaChange {
  const value = options.onSchemaChange ?? "append_new_columns";
  if (!MODES.includes(value)) {
    throw new ConnectorError(
      `Cannot load into ${options.table}: unknown onSchemaChange ${JSON.stringify(value)} ` +
        `(${MODES.map((m) => `"${m}"`).join(", ")})`,
    );
  }
  return value;
}

/** No change at all. */
export function noChanges(): SchemaChanges {
  return { added: [], missing: [], dropped: [], ignored: [], type_changes: [] };
}

/**
 * Decides what a load does to the target's columns. `target` is null when the table does not
 * exist yet. A replace rebuilds the table from the rows, so it only reports (or, with `fail`,
 * refuses) the difference; append and upsert evolve the existing table as `onSchemaChange` says.
 * An upsert never touches the target columns the rows lack.
 */
export function planSchema(input: {
  dialect: Dialect;
  table: string;
  mode: LoadMode;
  onSchemaChange: OnSchemaChange;
  source: InferredColumn[];
  target: TargetColumn[] | null;
  keys: string[];
}): SchemaPlan {
  const { dialect, table, mode, onSchemaChange: option, source, target, keys } = input;
  const plan: SchemaPlan = { write: source, add: [], drop: [], alter: [], changes: noChanges() };
  if (target === null) return plan;
  // MySQL, DuckDB and BigQuery match column names without regard to case.
  const fold = (name: string) =>
    dialect === "mysql" || dialect === "duckdb" || dialect === "bigquery"
      ? name.toLowerCase()
      : name;
  const targetByName = new Map(target.map((c) => [fold(c.name), c]));
  const sourceNames = new Set(source.map((c) => fold(c.name)));
  const added = source.filter((c) => !targetByName.has(fold(c.name)));
  const missing = target.filter((c) => !sourceNames.has(fold(c.name))).map((c) => c.name);
  const changed = source.flatMap((c) => {
    const old = targetByName.get(fold(c.name));
    if (!old) return [];
    if (mode === "replace") {
      const now = sqlType(dialect, c);
      const before = parseSqlType(old.type);
      const same = before !== null && c.known && before.kind === c.kind && fits(c, before);
      return same || !c.known ? [] : [{ column: c, from: old.type, to: now, carries: c.kind }];
    }
    const before = parseSqlType(old.type);
    if (before === null || fits(c, before)) return [];
    const wider = { ...c, ...widen(before, c) };
    return [{ column: wider, from: old.type, to: sqlType(dialect, wider), carries: c.kind }];
  });
  const changes = plan.changes;
  changes.missing = missing;
  const typeChanges = changed.map(({ column, from, to }) => ({ column: column.name, from, to }));
  const anything = added.length > 0 || missing.length > 0 || changed.length > 0;
  const carried = changed.map((c) => c.carries);

  if (anything && option === "fail") {
    refuse(table, option, "fail", added, missing, typeChanges, carried, dialect);
  }
  if (mode === "replace") {
    changes.added = added.map((c) => ({ column: c.name, type: sqlType(dialect, c) }));
    changes.missing = [];
    changes.dropped = missing;
    changes.type_changes = typeChanges;
    return plan;
  }
  if (changed.length > 0 && option !== "sync_all_columns") {
    refuse(table, option, "types", added, missing, typeChanges, carried, dialect);
  }
  if (option === "ignore") {
    const lost = keys.filter((k) => !targetByName.has(fold(k)));
    if (lost.length > 0) {
      throw new SchemaChangeError(
        `Cannot upsert into ${table}: mergeKey ${lost.join(", ")} is not a column of the table`,
        `with onSchemaChange "ignore" the table's columns stay as they are; use "append_new_columns" to add ${
          lost.join(", ")
        }`,
        { table, on_schema_change: option, ...changes },
      );
    }
    plan.write = source.filter((c) => targetByName.has(fold(c.name)));
    changes.ignored = added.map((c) => c.name);
    return plan;
  }
  plan.add = added;
  changes.added = added.map((c) => ({ column: c.name, type: sqlType(dialect, c) }));
  if (option === "sync_all_columns") {
    plan.drop = missing;
    changes.dropped = missing;
    plan.alter = changed.map((c) => c.column);
    changes.type_changes = typeChanges;
  }
  return plan;
}

/** The DDL a plan needs on `target` (a quoted table name): additions, widenings, then drops. */
export function schemaDdl(dialect: Dialect, target: string, plan: SchemaPlan): string[] {
  const id = (name: string) => quoteIdent(dialect, name);
  const type = (c: InferredColumn) =>
    dialect === "clickhouse" ? `Nullable(${sqlType(dialect, c)})` : sqlType(dialect, c);
  const alter = (c: InferredColumn) => {
    switch (dialect) {
      case "postgres":
      case "redshift":
        return `ALTER COLUMN ${id(c.name)} TYPE ${type(c)} USING ${id(c.name)}::${type(c)}`;
      case "mysql":
      case "clickhouse":
        return `MODIFY COLUMN ${id(c.name)} ${type(c)}`;
      default:
        return `ALTER COLUMN ${id(c.name)} SET DATA TYPE ${type(c)}`;
    }
  };
  return [
    ...plan.add.map((c) => `ALTER TABLE ${target} ADD COLUMN ${id(c.name)} ${type(c)}`),
    ...plan.alter.map((c) => `ALTER TABLE ${target} ${alter(c)}`),
    ...plan.drop.map((name) => `ALTER TABLE ${target} DROP COLUMN ${id(name)}`),
  ];
}

function refuse(
  table: string,
  option: OnSchemaChange,
  why: "fail" | "types",
  added: InferredColumn[],
  missing: string[],
  typeChanges: SchemaChanges["type_changes"],
  carried: string[],
  dialect: Dialect,
): never {
  const parts = [
    added.length > 0 ? `new column(s) ${added.map((c) => c.name).join(", ")}` : "",
    missing.length > 0 ? `missing column(s) ${missing.join(", ")}` : "",
    ...typeChanges.map((t, i) =>
      `column ${t.column} is ${t.from} in the table but the rows carry ${carried[i]} values`
    ),
  ].filter(Boolean).join("; ");
  const details = {
    table,
    on_schema_change: option,
    added: added.map((c) => ({ column: c.name, type: sqlType(dialect, c) })),
    missing,
    dropped: [],
    ignored: [],
    type_changes: typeChanges,
  };
  if (why === "fail") {
    throw new SchemaChangeError(
      `Cannot load into ${table}: the rows' columns differ from the table's (${parts}) and onSchemaChange is "fail"`,
      'set onSchemaChange in the load options: "append_new_columns" adds new columns, ' +
        '"sync_all_columns" also drops missing ones and widens changed types, "ignore" writes only ' +
        "the columns the table has",
      details,
    );
  }
  const columns = typeChanges.map((t) => t.column).join(", ");
  throw new SchemaChangeError(
    `Cannot load into ${table}: ${parts}; writing would change or refuse values, and onSchemaChange "${option}" does not change column types`,
    `set onSchemaChange: "sync_all_columns" in the load options to change ${columns} to the wider type` +
      (missing.length > 0
        ? ` (it also drops the column(s) the rows lack: ${missing.join(", ")})`
        : "") +
      ", or convert the values in the rows to the table's type",
    details,
  );
}
