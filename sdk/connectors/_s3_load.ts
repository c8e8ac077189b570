/** `load` of the s3 connector: one object per call, replace or create-only. */
import { type Connection, isNotFound, s3Error, statusOf } from "./_s3_client.ts";
import { CONTENT_TYPES, formatOf, type S3Format } from "./_s3_format.ts";
import { type Bucket, targetOf } from "./_s3_objects.ts";
import type { S3LoadOptions } from "./_s3_options.ts";
import { encodeRows, MIN_PART_SIZE, upload } from "./_s3_write.ts";
import { batches } from "./_sql.ts";
import { ConnectorError, type Row, type RowSource } from "./types.ts";

const ENCODE_BATCH = 10_000;
const DEFAULT_PART_SIZE = 8 * 1024 * 1024;

/** Writes `rows` as one object and resolves to the number of rows in it. */
export async function loadObject(
  bucket: Bucket,
  rows: RowSource,
  options: S3LoadOptions,
): Promise<number> {
  const mode = options.mode ?? "append";
  if (mode === "upsert" || options.mergeKey !== undefined) {
    throw new ConnectorError(
      `s3: upsert is not possible on object storage; write the whole object with mode "replace"`,
    );
  }
  if (mode !== "append" && mode !== "replace") {
    throw new ConnectorError(`s3: unknown mode ${JSON.stringify(mode)}; use "replace" or "append"`);
  }
  let key: string;
  let format: S3Format;
  if (options.key !== undefined) {
    key = options.key;
    format = formatOf(key, options.format);
  } else if (options.table !== undefined) {
    format = formatOf("", options.format ?? "jsonl");
    key = `${options.table}.${format}`;
  } else {
    throw new ConnectorError("s3: load needs key (the object to write)");
  }
  if (format === "parquet") {
    throw new ConnectorError(
      "s3: writing Parquet is not supported; write jsonl or csv (Parquet is read through DuckDB)",
    );
  }
  const partSize = options.partSize ?? DEFAULT_PART_SIZE;
  if (!Number.isFinite(partSize) || partSize < MIN_PART_SIZE) {
    throw new ConnectorError(`s3: partSize must be at least ${MIN_PART_SIZE} bytes (5 MiB)`);
  }
  const fullKey = bucket.prefix + key;
  const target = targetOf(bucket, fullKey);
  const connection = await bucket.connect();
  if (mode === "append" && await exists(connection, bucket.name, fullKey, target)) {
    throw appendRefused(target);
  }

  const counter = { rows: 0 };
  const chunks = encodeRows(batches(rows, ENCODE_BATCH), {
    target,
    format,
    delimiter: options.delimiter ?? ",",
    columns: options.columns ??
      (format === "csv" && Array.isArray(rows) ? allColumns(rows) : undefined),
  }, counter);
  try {
    await upload(connection, chunks, {
      bucket: bucket.name,
      key: fullKey,
      target,
      contentType: CONTENT_TYPES[format],
      partSize,
      createOnly: mode === "append",
    });
  } catch (err) {
    // Another writer created the key between the existence check and this write.
    if (statusOf((err as Error).cause) === 412) throw appendRefused(target);
    throw err;
  }
  return counter.rows;
}

async function exists(
  { sdk, client }: Connection,
  bucket: string,
  key: string,
  target: string,
): Promise<boolean> {
  try {
    await client.send(new sdk.HeadObjectCommand({ Bucket: bucket, Key: key }));
    return true;
  } catch (err) {
    if (isNotFound(err)) return false;
    throw s3Error("HeadObject", target, err);
  }
}

function appendRefused(target: string): ConnectorError {
  return new ConnectorError(
    `s3: ${target} already exists and objects cannot be appended to; ` +
      `use mode: "replace" to overwrite it, or write a new key`,
  );
}

/** Every column of an array of rows, in first-seen order. */
function allColumns(rows: Row[]): string[] {
  const seen = new Set<string>();
  for (const row of rows) for (const name of Object.keys(row)) seen.add(name);
  return [...seen];
}
