/** Options of the s3 connector (re-exported by s3.ts, where pipeline authors read them). */
import type { S3Format } from "./_s3_format.ts";
import type { ExtractOptions, LoadMode } from "./types.ts";

/** Where the bucket is and how to sign requests. Credentials are always explicit. */
export interface S3Options {
  /** Bucket name. */
  bucket: string;
  /**
   * Region used for signing (and for the AWS endpoint when `endpoint` is not set).
   * @default {"us-east-1"}
   */
  region?: string;
  /**
   * Base URL of an S3-compatible store, e.g. `http://127.0.0.1:9000`. With an endpoint,
   * checksums are only sent when an operation requires them (many stores reject the SDK's
   * default CRC32 headers).
   * @default {AWS, in `region`}
   */
  endpoint?: string;
  /**
   * Address buckets as `endpoint/bucket/key` rather than `bucket.endpoint/key`.
   * @default {true when `endpoint` is set, else false}
   */
  forcePathStyle?: boolean;
  /** Access key id (never read from the environment or `~/.aws`). */
  accessKeyId: string;
  /** Secret access key. */
  secretAccessKey: string;
  /** Session token of temporary credentials. */
  sessionToken?: string;
  /**
   * Prepended as is to every key read, written or listed (include the trailing `/`).
   * @default {""}
   */
  prefix?: string;
  /**
   * Connection name reported in `name`.
   * @default {"s3"}
   */
  name?: string;
}

/**
 * What `extract`/`extractStream` read: one `key`, or every object under `prefix` (`key` wins
 * when both are given). JSON Lines and CSV are streamed; a JSON document is parsed whole.
 * Batches never span two objects.
 */
export interface S3ExtractOptions extends ExtractOptions {
  /** Object key (after the connector's `prefix`). */
  key?: string;
  /**
   * Read every object whose key starts with this (after the connector's `prefix`), in key order;
   * keys ending in `/` are skipped. No object under it gives no rows.
   */
  prefix?: string;
  /**
   * Format of the object(s); `parquet` needs a Tau run (it is read through the run's DuckDB).
   * @default {from each key's extension: .json, .jsonl/.ndjson, .csv, .parquet}
   */
  format?: S3Format;
  /** JSON only: dot-separated path to the array of rows inside an object (`"data.items"`). */
  path?: string;
  /**
   * CSV only: unquoted fields become numbers, booleans (`true`/`false`) and null (empty);
   * without it every value is a string.
   * @default {false}
   */
  csvTypes?: boolean;
  /**
   * CSV field delimiter.
   * @default {","}
   */
  delimiter?: string;
}

/** How `load` writes one object. */
export interface S3LoadOptions {
  /** Object key (after the connector's `prefix`); its extension gives the default format. */
  key?: string;
  /**
   * Used when `key` is absent (generic code that only knows tables): the key becomes
   * `<table>.<format>`, format `jsonl` unless given.
   */
  table?: string;
  /**
   * Output format; `parquet` is refused (it cannot be written).
   * @default {from the key's extension; "jsonl" when only `table` is given}
   */
  format?: S3Format;
  /**
   * `replace` overwrites the object (readers see the old or the new one, never a mix). `append`
   * only creates a new object: S3 objects cannot be appended to, so an existing key is refused
   * (also checked with a conditional write where the store supports it). `upsert` is refused.
   * @default {"append"}
   */
  mode?: LoadMode;
  /** Not supported by object storage. */
  mergeKey?: string | string[];
  /**
   * CSV only: the header, in this order.
   * @default {the columns of all rows for an array, of the first batch for a stream}
   */
  columns?: string[];
  /**
   * CSV field delimiter.
   * @default {","}
   */
  delimiter?: string;
  /**
   * Bytes buffered per multipart part; bodies larger than this are sent as a multipart upload,
   * so memory stays around one part. At least 5 MiB (S3's minimum).
   * @default {8 MiB}
   */
  partSize?: number;
  /** Other `LoadOptions` fields pass through unused. */
  [option: string]: unknown;
}
