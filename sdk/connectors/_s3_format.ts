/** File formats of the s3 connector: inference from the key, content types, value conversions. */
import { ConnectorError } from "./types.ts";

/**
 * Object formats the s3 connector reads: JSON (one document with an array of rows), JSON
 * Lines, CSV and Parquet. All but Parquet are written too.
 */
export type S3Format = "json" | "jsonl" | "csv" | "parquet";

const FORMATS: readonly S3Format[] = ["json", "jsonl", "csv", "parquet"];

const EXTENSIONS: Record<string, S3Format> = {
  json: "json",
  jsonl: "jsonl",
  ndjson: "jsonl",
  csv: "csv",
  parquet: "parquet",
};

/** The given format (validated), else the one the key's extension names. */
export function formatOf(key: string, format: unknown): S3Format {
  if (format !== undefined) {
    if (FORMATS.includes(format as S3Format)) return format as S3Format;
    throw new ConnectorError(
      `s3: unknown format ${JSON.stringify(format)}; use one of ${FORMATS.join(", ")}`,
    );
  }
  const ext = key.slice(key.lastIndexOf("/") + 1).split(".").slice(1).pop()?.toLowerCase();
  const inferred = ext === undefined ? undefined : EXTENSIONS[ext];
  if (inferred) return inferred;
  throw new ConnectorError(
    `s3: cannot tell the format of ${key} from its extension; pass format: ${
      FORMATS.map((f) => `"${f}"`).join(" | ")
    }`,
  );
}

/** Content-Type stored with written objects. */
export const CONTENT_TYPES: Record<S3Format, string> = {
  json: "application/json; charset=utf-8",
  jsonl: "application/x-ndjson; charset=utf-8",
  csv: "text/csv; charset=utf-8",
  parquet: "application/vnd.apache.parquet",
};

/** JSON.stringify replacer: bigint as a string (lossless; JSON numbers cannot hold it). */
export function jsonReplacer(_key: string, value: unknown): unknown {
  return typeof value === "bigint" ? value.toString() : value;
}

// Integers without leading zeros (so zip codes and ids like "007" stay text) and decimals.
const INTEGER = /^-?(0|[1-9]\d*)$/;
const DECIMAL = /^-?(0|[1-9]\d*)?\.\d+([eE][+-]?\d+)?$|^-?(0|[1-9]\d*)[eE][+-]?\d+$/;

/**
 * `csvTypes` conversion of one unquoted CSV field: numbers, booleans, empty → null. Quoted
 * fields stay text, which is how `load` keeps strings such as "42" or "" from being converted.
 */
export function csvValue(raw: string): unknown {
  if (raw === "") return null;
  if (INTEGER.test(raw)) {
    const n = Number(raw);
    return Number.isSafeInteger(n) ? n : raw;
  }
  if (DECIMAL.test(raw)) return Number(raw);
  const lower = raw.toLowerCase();
  if (lower === "true") return true;
  if (lower === "false") return false;
  return raw;
}

/** True when `csvValue` would not give back this string unchanged, so it must be quoted. */
export function csvNeedsQuotes(text: string): boolean {
  return csvValue(text) !== text;
}
