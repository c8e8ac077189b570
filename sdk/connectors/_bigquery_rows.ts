/**
 * BigQuery query parameters (typed from JS values, or from a column's inferred kind for loads)
 * and decoding of the REST API's `{f: [{v}]}` rows with the result schema.
 *
 * @module
 */
import { type ColumnKind, sqlType } from "./_columns.ts";
import { base64 } from "./_rs256.ts";
import { exactInteger, textOf } from "./_warehouse.ts";
import { ConnectorError, type Row } from "./types.ts";

/** `QueryParameterType` of the REST API (scalars and arrays). */
export interface ParameterType {
  type: string;
  arrayType?: ParameterType;
}

/** `QueryParameterValue` of the REST API; a missing or null `value` is SQL NULL. */
export interface ParameterValue {
  value?: string | null;
  arrayValues?: ParameterValue[];
}

/** `QueryParameter` of the REST API. */
export interface QueryParameter {
  name?: string;
  parameterType: ParameterType;
  parameterValue: ParameterValue;
}

/** A column of the result schema. */
export interface SchemaField {
  name: string;
  type: string;
  mode?: string;
  fields?: SchemaField[];
}

/** `{f: [{v}]}`: one row as the REST API sends it. */
export interface ApiRow {
  f: { v: unknown }[];
}

/** A Date as BigQuery's canonical timestamp text, in UTC. */
function timestampText(date: Date): string {
  return date.toISOString().replace("T", " ").replace("Z", "+00:00");
}

function typeOf(value: unknown): ParameterType {
  if (typeof value === "boolean") return { type: "BOOL" };
  if (typeof value === "bigint") return { type: "INT64" };
  if (typeof value === "number") return { type: Number.isSafeInteger(value) ? "INT64" : "FLOAT64" };
  if (value instanceof Date) return { type: "TIMESTAMP" };
  if (value instanceof Uint8Array) return { type: "BYTES" };
  if (Array.isArray(value)) {
    const element = value.find((v) => v !== null && v !== undefined);
    return {
      type: "ARRAY",
      arrayType: element === undefined ? { type: "STRING" } : typeOf(element),
    };
  }
  if (value !== null && typeof value === "object") return { type: "JSON" };
  return { type: "STRING" };
}

function valueOf(value: unknown, type: ParameterType): ParameterValue {
  if (value === null || value === undefined) return { value: null };
  if (type.type === "ARRAY" && Array.isArray(value)) {
    return { arrayValues: value.map((v) => valueOf(v, type.arrayType as ParameterType)) };
  }
  if (value instanceof Date) return { value: timestampText(value) };
  if (value instanceof Uint8Array) return { value: base64(value) };
  return { value: textOf(value) };
}

/** One parameter typed from its JS value (null is a NULL STRING: cast it in SQL if needed). */
export function parameter(value: unknown, name?: string): QueryParameter {
  const parameterType = typeOf(value);
  const out: QueryParameter = { parameterType, parameterValue: valueOf(value, parameterType) };
  return name === undefined ? out : { name, ...out };
}

/** Request fields for `params`: an array binds `?` (POSITIONAL), an object binds `@name` (NAMED). */
export function parameterFields(
  params: unknown[] | Record<string, unknown> | undefined,
  label: string,
): { parameterMode?: "POSITIONAL" | "NAMED"; queryParameters?: QueryParameter[] } {
  if (params === undefined) return {};
  if (Array.isArray(params)) {
    if (params.length === 0) return {};
    return { parameterMode: "POSITIONAL", queryParameters: params.map((v) => parameter(v)) };
  }
  const entries = Object.entries(params);
  if (entries.length === 0) return {};
  for (const [name] of entries) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
      throw new ConnectorError(`${label}: parameter name "${name}" is not an identifier`);
    }
  }
  return {
    parameterMode: "NAMED",
    queryParameters: entries.map(([name, value]) => parameter(value, name)),
  };
}

/**
 * A positional parameter for a value of a column whose type was inferred as `kind`; `type` is
 * the parameter's type when the column's is narrower (a decimal staged as `NUMERIC(p, s)`).
 */
export function columnParameter(
  kind: ColumnKind,
  value: unknown,
  // An unconstrained decimal binds as BIGNUMERIC, the widest BigQuery has.
  type = kind === "decimal" ? "BIGNUMERIC" : sqlType("bigquery", { kind }),
): QueryParameter {
  let text: string | null;
  if (kind === "json") text = JSON.stringify(value);
  else if (kind === "timestamp" && value instanceof Date) text = timestampText(value);
  else if (kind === "date" && value instanceof Date) text = value.toISOString().slice(0, 10);
  else text = textOf(value);
  return { parameterType: { type }, parameterValue: { value: text } };
}

/** Microseconds since the epoch (`useInt64Timestamp`) as ISO 8601 UTC with 6 decimals. */
export function microsToIso(micros: string): string {
  const us = BigInt(micros);
  let ms = us / 1000n;
  let rest = us % 1000n;
  if (rest < 0n) {
    ms -= 1n;
    rest += 1000n;
  }
  const iso = new Date(Number(ms)).toISOString();
  return `${iso.slice(0, -1)}${String(rest).padStart(3, "0")}Z`;
}

function scalar(field: SchemaField, v: unknown): unknown {
  if (v === null || v === undefined) return null;
  switch (field.type) {
    case "INTEGER":
    case "INT64":
      return exactInteger(String(v));
    case "FLOAT":
    case "FLOAT64":
      return Number(v);
    case "BOOLEAN":
    case "BOOL":
      return v === "true";
    case "TIMESTAMP": {
      const text = String(v);
      // Integer microseconds as requested; float seconds from servers that ignore the option.
      return /^-?\d+$/.test(text) ? microsToIso(text) : new Date(Number(text) * 1000).toISOString();
    }
    case "JSON":
      return typeof v === "string" ? JSON.parse(v) : v;
    case "RECORD":
    case "STRUCT":
      return decodeRow(field.fields ?? [], v as ApiRow);
    default:
      // STRING, BYTES (base64), NUMERIC/BIGNUMERIC (exact text), DATE, TIME, DATETIME, …
      return v;
  }
}

function decodeValue(field: SchemaField, v: unknown): unknown {
  if (field.mode === "REPEATED") {
    return Array.isArray(v) ? v.map((item: { v: unknown }) => scalar(field, item.v)) : [];
  }
  return scalar(field, v);
}

/** One API row as an object keyed by column name. */
export function decodeRow(fields: SchemaField[], row: ApiRow): Row {
  const out: Row = {};
  fields.forEach((field, i) => out[field.name] = decodeValue(field, row.f[i]?.v));
  return out;
}
