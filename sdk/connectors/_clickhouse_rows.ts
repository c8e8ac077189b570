/**
 * ClickHouse value encoding (query parameters, JSONEachRow bodies) and result decoding
 * (`JSONCompactEachRowWithNamesAndTypes`: a names line, a types line, then one array per row).
 *
 * @module
 */
import { bindValue } from "./_sql.ts";
import { exactInteger } from "./_warehouse.ts";
import { ConnectorError, type Row } from "./types.ts";

/** The output format asked for; its types line lets 64-bit integers be decoded exactly. */
export const RESULT_FORMAT = "JSONCompactEachRowWithNamesAndTypes";

/**
 * A query parameter in ClickHouse's "escaped" text form, which the server parses as the type
 * named in the `{name:Type}` placeholder: NULL is `\N`; backslash, tab and newline are escaped;
 * arrays are written as `[1,'a']`.
 */
export function paramText(value: unknown): string {
  if (value === null || value === undefined) return "\\N";
  if (Array.isArray(value)) return `[${value.map(literal).join(",")}]`;
  const text = typeof value === "boolean"
    ? String(value)
    : String(bindValue(typeof value === "bigint" ? String(value) : value));
  return text.replace(/[\\\t\n\r]/g, (c) => ESCAPES[c] as string);
}

const ESCAPES: Record<string, string> = { "\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r" };

/** An element inside an array parameter: numbers bare, strings single-quoted. */
function literal(value: unknown): string {
  if (value === null || value === undefined) return "NULL";
  if (Array.isArray(value)) return `[${value.map(literal).join(",")}]`;
  if (typeof value === "number" || typeof value === "bigint") return String(value);
  if (typeof value === "boolean") return String(value);
  const text = String(bindValue(value));
  return `'${text.replace(/[\\']/g, (c) => "\\" + c)}'`;
}

/** One row as a JSONEachRow line: Dates as ISO text, objects as JSON text, bigints as text. */
export function jsonEachRowLine(row: Row): string {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(row)) {
    const bound = bindValue(value);
    out[key] = typeof bound === "bigint" ? String(bound) : bound;
  }
  return JSON.stringify(out);
}

/** Strips `Nullable(…)` and `LowCardinality(…)` wrappers from a type name. */
function baseType(type: string): string {
  let t = type;
  for (
    let m = /^(?:Nullable|LowCardinality)\((.*)\)$/.exec(t);
    m;
    m = /^(?:Nullable|LowCardinality)\((.*)\)$/.exec(t)
  ) {
    t = m[1] as string;
  }
  return t;
}

/** A decoder for one column type: 64-bit and wider integers (sent as JSON strings) become numbers when exact. */
function decoderFor(type: string): (value: unknown) => unknown {
  const base = baseType(type);
  if (/^U?Int(64|128|256)$/.test(base)) {
    return (v) => typeof v === "string" ? exactInteger(v) : v;
  }
  const array = /^Array\((.*)\)$/.exec(base);
  if (array) {
    const inner = decoderFor(array[1] as string);
    return (v) => Array.isArray(v) ? v.map(inner) : v;
  }
  return (v) => v;
}

/** Decodes result lines into rows: the first two lines are column names and types. */
export class ResultDecoder {
  #names: string[] | null = null;
  #decoders: ((value: unknown) => unknown)[] | null = null;

  /** `label` starts error messages. */
  constructor(readonly label: string) {}

  /** Feeds one line; returns the row it holds, or null for the header lines. */
  push(line: string): Row | null {
    const parsed = parseLine(line);
    if (parsed === undefined) throw this.#serverError(line);
    if (this.#names === null) {
      this.#names = parsed.map(String);
      return null;
    }
    if (this.#decoders === null) {
      this.#decoders = parsed.map((t) => decoderFor(String(t)));
      return null;
    }
    const row: Row = {};
    const names = this.#names;
    const decoders = this.#decoders;
    for (let i = 0; i < names.length; i++) {
      row[names[i] as string] = (decoders[i] as (v: unknown) => unknown)(parsed[i]);
    }
    return row;
  }

  /** A line that is not JSON is an exception the server wrote after the rows had started. */
  #serverError(line: string): ConnectorError {
    const text = exceptionText(line).trim();
    return new ConnectorError(`${this.label}: ClickHouse error: ${text.slice(0, 2_000)}`);
  }
}

function parseLine(line: string): unknown[] | undefined {
  try {
    const value: unknown = JSON.parse(line);
    return Array.isArray(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

/** Newer servers write a mid-stream exception as `{"exception": "…"}` in JSON formats. */
function exceptionText(line: string): string {
  try {
    const value = JSON.parse(line) as { exception?: unknown };
    if (typeof value?.exception === "string") return value.exception;
  } catch {
    // plain text
  }
  return line.replace(/^__exception__\s*/, "");
}
