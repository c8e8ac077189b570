/**
 * Snowflake SQL API values: bindings (`{type, value}` with text values) and decoding of the
 * `jsonv2` result format, where every value is text: numbers as decimal text, DATE as days
 * since the epoch, TIME/TIMESTAMP_* as seconds since the epoch with 9 decimals, TIMESTAMP_TZ
 * followed by a space and the zone offset in minutes plus 1440.
 *
 * @module
 */
import type { ColumnKind } from "./_columns.ts";
import { exactInteger, textOf } from "./_warehouse.ts";
import type { Row } from "./types.ts";

/** One bind variable. */
export interface Binding {
  type: string;
  value: string | null;
}

/** A column of `resultSetMetaData.rowType`. */
export interface RowType {
  name: string;
  type: string;
  scale?: number | null;
}

/** A binding typed from a JS value (Dates and objects as text, which Snowflake casts). */
export function binding(value: unknown): Binding {
  if (typeof value === "bigint") return { type: "FIXED", value: String(value) };
  if (typeof value === "number") {
    return { type: Number.isSafeInteger(value) ? "FIXED" : "REAL", value: String(value) };
  }
  if (typeof value === "boolean") return { type: "BOOLEAN", value: String(value) };
  return { type: "TEXT", value: textOf(value) };
}

const KIND_BINDINGS: Record<ColumnKind, string> = {
  bigint: "FIXED",
  decimal: "TEXT", // exact text, converted by the column's NUMBER(p, s)
  double: "REAL",
  boolean: "BOOLEAN",
  date: "TEXT",
  timestamp: "TEXT",
  json: "TEXT",
  text: "TEXT",
};

/** A binding for a value of a column whose type was inferred as `kind`. */
export function columnBinding(kind: ColumnKind, value: unknown): Binding {
  const text = kind === "json" ? JSON.stringify(value) : textOf(value);
  return { type: KIND_BINDINGS[kind], value: text };
}

/** The select-list expression that turns bound text into the column's type. */
export function columnExpression(kind: ColumnKind, position: number): string {
  if (kind === "json") return `PARSE_JSON($${position})`;
  if (kind === "timestamp") return `TO_TIMESTAMP_TZ($${position})`;
  if (kind === "date") return `TO_DATE($${position})`;
  return `$${position}`;
}

const pad = (n: number | bigint, width = 2) => String(n).padStart(width, "0");

/** `"<seconds>.<fraction>"` as whole seconds (floored) and the fraction's digits. */
function splitSeconds(text: string): { seconds: bigint; fraction: string } | null {
  const m = /^(-?)(\d+)(?:\.(\d+))?$/.exec(text);
  if (!m) return null;
  const digits = m[3] ?? "";
  const scale = 10n ** BigInt(digits.length);
  let total = BigInt(m[2] as string) * scale + BigInt(digits || "0");
  if (m[1] === "-") total = -total;
  let seconds = total / scale;
  let rest = total % scale;
  if (rest < 0n) {
    seconds -= 1n;
    rest += scale;
  }
  return { seconds, fraction: digits === "" ? "" : pad(rest, digits.length) };
}

/** `YYYY-MM-DDTHH:MM:SS[.fraction]` for seconds since the epoch, shifted by `offsetMinutes`. */
function dateTime(text: string, offsetMinutes = 0): string | null {
  const parts = splitSeconds(text);
  if (!parts) return null;
  const ms = Number(parts.seconds + BigInt(offsetMinutes * 60)) * 1000;
  const base = new Date(ms).toISOString().slice(0, 19);
  return parts.fraction ? `${base}.${parts.fraction}` : base;
}

function zone(offsetMinutes: number): string {
  if (offsetMinutes === 0) return "Z";
  const abs = Math.abs(offsetMinutes);
  return `${offsetMinutes < 0 ? "-" : "+"}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
}

/** One jsonv2 value as JS: see `snowflake()` for the mapping. Unexpected shapes stay text. */
export function decodeValue(column: RowType, value: string | null): unknown {
  if (value === null) return null;
  switch (column.type.toLowerCase()) {
    case "fixed":
      // NUMBER(p, 0) is an integer; with a scale it stays exact text.
      return (column.scale ?? 0) === 0 ? exactInteger(value) : value;
    case "real":
      return value === "inf" ? Infinity : value === "-inf" ? -Infinity : Number(value);
    case "boolean":
      return value === "true" || value === "1" || value === "TRUE";
    case "date": {
      if (!/^-?\d+$/.test(value)) return value;
      return new Date(Number(value) * 86_400_000).toISOString().slice(0, 10);
    }
    case "time":
      return dateTime(value)?.slice(11) ?? value;
    case "timestamp_ntz":
      return dateTime(value) ?? value;
    case "timestamp_ltz":
      return dateTime(value)?.concat("Z") ?? value;
    case "timestamp_tz": {
      const [seconds, offset] = value.split(" ");
      const minutes = offset === undefined ? 0 : Number(offset) - 1440;
      const local = dateTime(seconds as string, minutes);
      return local && Number.isInteger(minutes) ? local + zone(minutes) : value;
    }
    case "variant":
    case "object":
    case "array":
      try {
        return JSON.parse(value);
      } catch {
        return value;
      }
    default:
      return value;
  }
}

/** One row of `data` as an object keyed by column name. */
export function decodeRow(rowType: RowType[], values: (string | null)[]): Row {
  const out: Row = {};
  rowType.forEach((column, i) => out[column.name] = decodeValue(column, values[i] ?? null));
  return out;
}
