/** Listing and reading objects of one bucket under the connector's key prefix. */
import { type Connection, s3Error } from "./_s3_client.ts";
import { formatOf, type S3Format } from "./_s3_format.ts";
import type { S3ExtractOptions } from "./_s3_options.ts";
import { readRows } from "./_s3_read.ts";
import { readParquet } from "./_s3_parquet.ts";
import { ConnectorError, type Row } from "./types.ts";

/** The bucket a connector works on, and its (lazy) connection. */
export interface Bucket {
  name: string;
  /** The connector's `prefix`, prepended to every key. */
  prefix: string;
  connect(): Promise<Connection>;
}

/** `s3://bucket/key` for messages. */
export function targetOf(bucket: Bucket, fullKey: string): string {
  return `s3://${bucket.name}/${fullKey}`;
}

/** One listed object; `key` is relative to the connector's prefix. */
export interface ObjectInfo {
  key: string;
  size: number;
  last_modified: string | null;
  etag: string | null;
}

/** Objects whose full key starts with `fullPrefix`, in key order, page by page. */
export async function* listObjects(bucket: Bucket, fullPrefix: string): AsyncIterable<ObjectInfo> {
  const { sdk, client } = await bucket.connect();
  let token: string | undefined;
  do {
    let page;
    try {
      page = await client.send(
        new sdk.ListObjectsV2Command({
          Bucket: bucket.name,
          Prefix: fullPrefix,
          ContinuationToken: token,
        }),
      );
    } catch (err) {
      throw s3Error("ListObjectsV2", targetOf(bucket, fullPrefix), err);
    }
    for (const item of page.Contents ?? []) {
      if (item.Key === undefined) continue;
      yield {
        key: item.Key.slice(bucket.prefix.length),
        size: item.Size ?? 0,
        last_modified: item.LastModified?.toISOString() ?? null,
        etag: item.ETag ?? null,
      };
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token !== undefined);
}

/** Rows of `key`, or of every object under `prefix`, in batches of at most `batchSize`. */
export async function* extractObjects(
  bucket: Bucket,
  options: S3ExtractOptions,
  defaultBatch: number,
): AsyncIterable<Row[]> {
  const batchSize = options.batchSize ?? defaultBatch;
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new ConnectorError(`s3: batchSize must be a positive integer, got ${batchSize}`);
  }
  let keys: string[];
  if (options.key !== undefined) {
    keys = [bucket.prefix + options.key];
  } else if (options.prefix !== undefined) {
    keys = [];
    for await (const info of listObjects(bucket, bucket.prefix + options.prefix)) {
      // "folder/" placeholder objects hold no rows.
      if (!info.key.endsWith("/")) keys.push(bucket.prefix + info.key);
    }
  } else {
    throw new ConnectorError(
      "s3: extract needs key (one object) or prefix (every object under it)",
    );
  }
  // Check every format before reading anything.
  const formats = keys.map((key) => formatOf(key, options.format));
  const { sdk, client } = await bucket.connect();
  for (const [i, key] of keys.entries()) {
    const target = targetOf(bucket, key);
    let body: ReadableStream<Uint8Array>;
    try {
      const res = await client.send(new sdk.GetObjectCommand({ Bucket: bucket.name, Key: key }));
      if (!res.Body) throw new ConnectorError(`s3: ${target} has no body`);
      body = res.Body.transformToWebStream() as ReadableStream<Uint8Array>;
    } catch (err) {
      throw err instanceof ConnectorError ? err : s3Error("GetObject", target, err);
    }
    const rows = formats[i] === "parquet" ? readParquet(body, target, batchSize) : readRows(body, {
      target,
      format: formats[i] as S3Format,
      batchSize,
      path: options.path,
      csvTypes: options.csvTypes ?? false,
      delimiter: options.delimiter ?? ",",
    });
    try {
      yield* rows;
    } catch (err) {
      throw err instanceof ConnectorError ? err : s3Error("GetObject (reading)", target, err);
    }
  }
}
