/** Parses an object body into batches of rows: JSON, JSON Lines (streamed) and CSV (streamed). */
import { csvValue, type S3Format } from "./_s3_format.ts";
import { ConnectorError, type Row } from "./types.ts";

export interface ReadSettings {
  /** `s3://bucket/key`, for error messages. */
  target: string;
  format: S3Format;
  batchSize: number;
  /** Dot-separated path to the array inside a JSON object (`data.items`). */
  path: string | undefined;
  csvTypes: boolean;
  delimiter: string;
}

/** Rows of one object, `batchSize` at a time. Only `json` holds the whole body in memory. */
export function readRows(body: ReadableStream<Uint8Array>, s: ReadSettings): AsyncIterable<Row[]> {
  // csv-parse decodes bytes itself (it needs Buffer/Uint8Array chunks, not strings).
  if (s.format === "csv") return csvRows(body, s);
  const text = body.pipeThrough(new TextDecoderStream());
  return s.format === "jsonl" ? jsonlRows(text, s) : jsonRows(text, s);
}

function isRow(value: unknown): value is Row {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

async function* jsonlRows(text: ReadableStream<string>, s: ReadSettings): AsyncIterable<Row[]> {
  let batch: Row[] = [];
  let rest = "";
  let lineNo = 0;
  const parseLine = (line: string) => {
    lineNo++;
    if (line.trim() === "") return;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (err) {
      throw new ConnectorError(
        `s3: line ${lineNo} of ${s.target} is not valid JSON: ${(err as Error).message}`,
      );
    }
    if (!isRow(value)) {
      throw new ConnectorError(`s3: line ${lineNo} of ${s.target} is not a JSON object`);
    }
    batch.push(value);
  };
  for await (const chunk of text) {
    const lines = (rest + chunk).split("\n");
    rest = lines.pop() as string;
    for (const line of lines) {
      parseLine(line);
      if (batch.length >= s.batchSize) {
        yield batch;
        batch = [];
      }
    }
  }
  parseLine(rest);
  if (batch.length > 0) yield batch;
}

async function* jsonRows(text: ReadableStream<string>, s: ReadSettings): AsyncIterable<Row[]> {
  let whole = "";
  for await (const chunk of text) whole += chunk;
  let value: unknown;
  try {
    value = JSON.parse(whole);
  } catch (err) {
    throw new ConnectorError(`s3: ${s.target} is not valid JSON: ${(err as Error).message}`);
  }
  const rows = select(value, s);
  rows.forEach((row, i) => {
    if (!isRow(row)) {
      throw new ConnectorError(`s3: element ${i} of the array in ${s.target} is not an object`);
    }
  });
  for (let i = 0; i < rows.length; i += s.batchSize) {
    yield rows.slice(i, i + s.batchSize) as Row[];
  }
}

function select(value: unknown, s: ReadSettings): unknown[] {
  let current = value;
  for (const part of s.path === undefined ? [] : s.path.split(".")) {
    if (!isRow(current) || !Object.hasOwn(current, part)) {
      throw new ConnectorError(
        `s3: ${s.target} has nothing at path "${s.path}" (missing "${part}")`,
      );
    }
    current = current[part];
  }
  if (Array.isArray(current)) return current;
  const arrays = isRow(current)
    ? Object.keys(current).filter((k) => Array.isArray(current[k]))
    : [];
  const where = s.path === undefined ? "" : ` at path "${s.path}"`;
  throw new ConnectorError(
    `s3: ${s.target} holds no array of rows${where}` +
      (arrays.length > 0
        ? `; arrays found at: ${arrays.map((k) => JSON.stringify(k)).join(", ")}`
        : "") +
      `; pass path: "a.b" to pick the array inside an object`,
  );
}

async function* csvRows(bytes: ReadableStream<Uint8Array>, s: ReadSettings): AsyncIterable<Row[]> {
  const { parse } = await import("./_s3_csv.ts");
  const parser = parse({
    columns: true,
    bom: true,
    delimiter: s.delimiter,
    skip_empty_lines: true,
    cast: s.csvTypes
      ? (value, field) => field.header || field.quoting ? value : csvValue(value)
      : false,
  });
  const records = bytes.pipeThrough(parser);
  let batch: Row[] = [];
  try {
    for await (const record of records) {
      batch.push(record);
      if (batch.length >= s.batchSize) {
        yield batch;
        batch = [];
      }
    }
  } catch (err) {
    // Parse errors carry a CSV_* code; anything else (e.g. the connection) passes through.
    const code = (err as { code?: unknown } | null)?.code;
    if (typeof code !== "string" || !code.startsWith("CSV_")) throw err;
    throw new ConnectorError(`s3: cannot parse ${s.target} as CSV: ${(err as Error).message}`, {
      cause: err,
    });
  }
  if (batch.length > 0) yield batch;
}
