/**
 * Column types as `load` sees them: the types a query result declares (attached to its rows by
 * the SQL connectors), else the types its values suggest; the engine type each dialect creates
 * for them; and which existing column types can take them without changing a value.
 *
 * @module
 */
import type { Dialect, Row } from "./types.ts";

/** The types `load` distinguishes. `bigint` is any integer of at most 64 bits. */
export type ColumnKind =
  | "bigint"
  | "decimal"
  | "double"
  | "boolean"
  | "date"
  | "timestamp"
  | "json"
  | "text";

/** A column type. `precision` and `scale` are a decimal's; no precision means unconstrained. */
export interface ColumnType {
  /** The type, as `load` distinguishes it. */
  kind: ColumnKind;
  /** Total digits of a `decimal`. */
  precision?: number;
  /** Digits after the point of a `decimal`. */
  scale?: number;
}

/** A source column: its name, its type, and whether that type is known at all. */
export interface InferredColumn extends ColumnType {
  name: string;
  /** False when no row has a value and no type was declared (the column is created as text). */
  known: boolean;
}

const DECLARED = Symbol.for("tau.columnTypes");

/**
 * Attaches the column types a query declared to its rows (a non-enumerable property, so the rows
 * print and serialize as before); `load` prefers them to guessing from the values. The SQL
 * connectors attach them to what `extract` returns; call it yourself for rows you built, e.g. to
 * keep a price a `decimal` rather than a `double`.
 *
 * @example Declare the types of rows built in code
 * ```ts
 * import assert from "node:assert/strict";
 * import { columnTypes, withColumnTypes } from "tau/connectors";
 *
 * const rows = withColumnTypes([{ id: 1, price: "9.90" }], {
 *   id: { kind: "bigint" },
 *   price: { kind: "decimal", precision: 10, scale: 2 },
 * });
 * assert.equal(columnTypes(rows)?.price?.kind, "decimal");
 * assert.equal(JSON.stringify(rows), '[{"id":1,"price":"9.90"}]');
 * // A new array (map, filter, slice) carries no types: attach them again.
 * assert.equal(columnTypes(rows.map((row) => row)), undefined);
 * ```
 */
export function withColumnTypes<T extends Row[]>(rows: T, types: Record<string, ColumnType>): T {
  Object.defineProperty(rows, DECLARED, { value: types, enumerable: false, configurable: true });
  return rows;
}

/** The column types a connector attached to these rows, if any (lost by `map`, `filter`…). */
export function columnTypes(rows: Row[]): Record<string, ColumnType> | undefined {
  return (rows as unknown as Record<symbol, Record<string, ColumnType> | undefined>)[DECLARED];
}

const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;
const ISO_TIMESTAMP = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$/;
const DECIMAL_TEXT = /^[+-]?(\d*)(?:\.(\d*))?$/;

function kindOf(value: unknown): ColumnKind | null {
  if (value === null || value === undefined) return null;
  if (typeof value === "boolean") return "boolean";
  if (typeof value === "bigint") return "bigint";
  if (typeof value === "number") return Number.isSafeInteger(value) ? "bigint" : "double";
  if (value instanceof Date) return "timestamp";
  if (typeof value === "string") {
    if (ISO_DATE.test(value)) return "date";
    if (ISO_TIMESTAMP.test(value)) return "timestamp";
    return "text";
  }
  return "json";
}

function widenKind(a: ColumnKind | null, b: ColumnKind | null): ColumnKind | null {
  if (a === null) return b;
  if (b === null || a === b) return a;
  const pair = new Set([a, b]);
  if (pair.has("bigint") && pair.has("double")) return "double";
  if (pair.has("date") && pair.has("timestamp")) return "timestamp";
  return "text";
}

/** Digits after the point of a decimal value (0 for integers, null when not decimal text). */
function scaleOf(value: unknown): number | null {
  if (typeof value === "bigint") return 0;
  if (typeof value !== "string" && typeof value !== "number") return null;
  const match = DECIMAL_TEXT.exec(String(value));
  return match ? (match[2] ?? "").length : null;
}

/**
 * Column names in first-seen order across all rows, each with its declared type when the rows
 * carry one, else the narrowest type fitting all values. A declared decimal without a scale
 * takes the largest scale its values show.
 */
export function inferColumns(rows: Row[]): InferredColumn[] {
  const declared = columnTypes(rows) ?? {};
  const kinds = new Map<string, ColumnKind | null>();
  const scales = new Map<string, number>();
  for (const row of rows) {
    for (const [name, value] of Object.entries(row)) {
      const type = Object.hasOwn(declared, name) ? declared[name] : undefined;
      if (type) {
        kinds.set(name, type.kind);
        if (type.kind === "decimal" && type.scale === undefined) {
          scales.set(name, Math.max(scales.get(name) ?? 0, scaleOf(value) ?? 0));
        }
      } else {
        kinds.set(name, widenKind(kinds.get(name) ?? null, kindOf(value)));
      }
    }
  }
  return [...kinds].map(([name, kind]) => {
    const type = Object.hasOwn(declared, name) ? declared[name] : undefined;
    if (type) return { name, ...type, scale: type.scale ?? scales.get(name), known: true };
    return { name, kind: kind ?? "text", known: kind !== null };
  });
}

const TYPES: Record<Dialect, Record<Exclude<ColumnKind, "decimal">, string>> = {
  postgres: {
    bigint: "bigint",
    double: "double precision",
    boolean: "boolean",
    date: "date",
    timestamp: "timestamptz",
    json: "jsonb",
    text: "text",
  },
  redshift: {
    bigint: "bigint",
    double: "double precision",
    boolean: "boolean",
    date: "date",
    timestamp: "timestamptz",
    json: "super",
    text: "varchar(65535)",
  },
  mysql: {
    bigint: "BIGINT",
    double: "DOUBLE",
    boolean: "BOOLEAN",
    date: "DATE",
    timestamp: "DATETIME(6)",
    json: "JSON",
    text: "LONGTEXT",
  },
  duckdb: {
    bigint: "BIGINT",
    double: "DOUBLE",
    boolean: "BOOLEAN",
    date: "DATE",
    timestamp: "TIMESTAMPTZ",
    json: "JSON",
    text: "VARCHAR",
  },
  clickhouse: {
    bigint: "Int64",
    double: "Float64",
    boolean: "Bool",
    date: "Date32",
    timestamp: "DateTime64(6, 'UTC')",
    json: "String",
    text: "String",
  },
  bigquery: {
    bigint: "INT64",
    double: "FLOAT64",
    boolean: "BOOL",
    date: "DATE",
    timestamp: "TIMESTAMP",
    json: "JSON",
    text: "STRING",
  },
  snowflake: {
    bigint: "NUMBER(38,0)",
    double: "FLOAT",
    boolean: "BOOLEAN",
    date: "DATE",
    timestamp: "TIMESTAMP_TZ",
    json: "VARIANT",
    text: "VARCHAR",
  },
};

/** Largest decimal precision and scale per engine, and how it spells the type. */
const DECIMALS: Record<Exclude<Dialect, "postgres" | "bigquery">, [number, number, string]> = {
  redshift: [38, 37, "decimal"],
  mysql: [65, 30, "DECIMAL"],
  duckdb: [38, 38, "DECIMAL"],
  clickhouse: [76, 76, "Decimal"],
  snowflake: [38, 37, "NUMBER"],
};

/**
 * The engine type for a decimal. An unconstrained one gets the engine's largest precision (its
 * values' scale is kept); a scale the engine cannot hold falls back to exact text.
 */
function decimalType(dialect: Dialect, type: ColumnType): string {
  const scale = type.scale ?? 0;
  if (dialect === "postgres") {
    return type.precision === undefined ? "numeric" : `numeric(${type.precision},${scale})`;
  }
  if (dialect === "bigquery") {
    const p = type.precision;
    if (p !== undefined && scale <= 9 && p - scale <= 29) return `NUMERIC(${p}, ${scale})`;
    return scale <= 38 ? "BIGNUMERIC" : TYPES.bigquery.text;
  }
  const [maxPrecision, maxScale, name] = DECIMALS[dialect];
  const precision = Math.min(type.precision ?? maxPrecision, maxPrecision);
  if (scale > maxScale || scale > precision) return TYPES[dialect].text;
  return `${name}(${precision},${scale})`;
}

/** The column type a dialect creates for a column type. */
export function sqlType(dialect: Dialect, type: ColumnType): string {
  return type.kind === "decimal" ? decimalType(dialect, type) : TYPES[dialect][type.kind];
}

const NAMED: [RegExp, ColumnKind][] = [
  [/^(bool|boolean|tinyint\(1\))$/, "boolean"],
  [
    /^(u?(tiny|small|medium|big|huge)?int(eger)?\d*|int[248]|u?int(8|16|32|64|128|256)|long|serial|bigserial)(\(\d+\))?( unsigned)?$/,
    "bigint",
  ],
  [/^(double( precision)?|float\d*|real)(\(\d+(,\s*\d+)?\))?( unsigned)?$/, "double"],
  [/^(date|date32|newdate)$/, "date"],
  [/^(timestamp|datetime)/, "timestamp"],
  [/^(json|jsonb|variant|super|object)$/, "json"],
  [
    /^(text|varchar|character varying|char|character|string|bpchar|name|tinytext|mediumtext|longtext|fixedstring)/,
    "text",
  ],
];

/** Reads an engine's column type (`numeric(10,2)`, `Nullable(Int64)`…); null when unknown. */
export function parseSqlType(text: string): ColumnType | null {
  let type = text.trim().toLowerCase();
  for (let inner = /^(nullable|lowcardinality)\((.*)\)$/.exec(type); inner;) {
    type = inner[2] as string;
    inner = /^(nullable|lowcardinality)\((.*)\)$/.exec(type);
  }
  const decimal = /^(numeric|decimal|number|bignumeric|bigdecimal)(\((\d+)\s*(,\s*(\d+))?\))?/
    .exec(type);
  if (decimal) {
    if (decimal[3] === undefined) {
      return /^(number|bignumeric|bigdecimal)$/.test(decimal[1] as string)
        ? { kind: "decimal", precision: 38, scale: 0 }
        : { kind: "decimal" };
    }
    return { kind: "decimal", precision: Number(decimal[3]), scale: Number(decimal[5] ?? 0) };
  }
  for (const [pattern, kind] of NAMED) if (pattern.test(type)) return { kind };
  return null;
}

/**
 * Whether a column of type `target` takes the source column's values unchanged. Widening is fine
 * (an integer into a decimal, a date into a timestamp, anything into text); what would round,
 * truncate or be refused is not. A value too large for its column is left to the engine, which
 * refuses it. Unknown types on either side are not second-guessed.
 */
export function fits(source: InferredColumn, target: ColumnType | null): boolean {
  if (target === null || !source.known || target.kind === "text") return true;
  switch (source.kind) {
    case "bigint":
      return ["bigint", "decimal", "double"].includes(target.kind);
    case "decimal":
      if (target.kind === "double") return true;
      return target.kind === "decimal" &&
        (target.precision === undefined || (source.scale ?? 0) <= (target.scale ?? 0));
    case "double":
      return target.kind === "double";
    case "date":
      return target.kind === "date" || target.kind === "timestamp";
    case "text":
      // JSON text into a JSON column: the engine checks it.
      return target.kind === "json";
    default:
      return source.kind === target.kind;
  }
}

/** The narrowest type holding both the target's values and the source's. */
export function widen(target: ColumnType, source: InferredColumn): ColumnType {
  const kinds = new Set([target.kind, source.kind]);
  const numeric = [...kinds].every((k) => k === "bigint" || k === "decimal" || k === "double");
  if (numeric) {
    if (kinds.has("double")) return { kind: "double" };
    return { kind: "decimal", scale: Math.max(target.scale ?? 0, source.scale ?? 0) };
  }
  if (kinds.size === 2 && kinds.has("date") && kinds.has("timestamp")) return { kind: "timestamp" };
  return { kind: "text" };
}
