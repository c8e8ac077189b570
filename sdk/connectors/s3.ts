/**
 * Object storage (AWS S3 and S3-compatible stores such as MinIO or R2) through
 * `@aws-sdk/client-s3`: read JSON / JSON Lines / CSV objects as rows, write rows as one object.
 * Pipelines import {@link s3} from `tau/connectors`.
 *
 * Parquet is not parsed here: it is read through the run's DuckDB, and never written.
 *
 * @module
 */
import { connect, type Connection, s3Error, statusOf } from "./_s3_client.ts";
import { loadObject } from "./_s3_load.ts";
import { type Bucket, extractObjects, listObjects } from "./_s3_objects.ts";
import type { S3ExtractOptions, S3LoadOptions, S3Options } from "./_s3_options.ts";
import {
  type Connector,
  ConnectorError,
  type ExecuteResult,
  type LoadResult,
  type Row,
  type RowSource,
} from "./types.ts";

export { S3_ENV_PROBES } from "./_s3_client.ts";
export type { S3Format } from "./_s3_format.ts";
export type { S3ExtractOptions, S3LoadOptions, S3Options } from "./_s3_options.ts";

/** An s3 connector: `extract`/`load` take keys; `execute` only knows `"list"`. */
export interface S3Connector extends Connector {
  /** Reads the rows of `key`, or of every object under `prefix`, into memory. */
  extract(options: S3ExtractOptions): Promise<Row[]>;
  /** Reads rows in batches of at most `batchSize`; JSON Lines and CSV are streamed. */
  extractStream(options: S3ExtractOptions): AsyncIterable<Row[]>;
  /** Writes one object and resolves to the number of rows in it. */
  load(rows: RowSource, options: S3LoadOptions): Promise<LoadResult>;
  /**
   * `execute("list", [prefix?])` lists keys under the connector's `prefix` (+ `prefix`) as rows
   * `{ key, size, last_modified, etag }`, `key` relative to the connector's `prefix`. Any other
   * statement throws: S3 runs no SQL.
   */
  execute(statement: string, params?: unknown[]): Promise<ExecuteResult>;
}

/**
 * An S3 connector. Nothing connects until first use; `@aws-sdk/client-s3` is loaded then.
 * Needs network access to the endpoint's host (or `<bucket>.s3.<region>.amazonaws.com`).
 *
 * @example Turn a JSON Lines object into a CSV one, on MinIO
 * ```ts
 * import { pipeline } from "tau";
 * import { s3 } from "tau/connectors";
 *
 * export default pipeline({
 *   name: "lake_orders_csv",
 *   net: ["minio.internal:9000"],
 *   secrets: ["S3_KEY_ID", "S3_SECRET"],
 * }, async (ctx) => {
 *   await using lake = s3({
 *     bucket: "lake",
 *     endpoint: "https://minio.internal:9000",
 *     accessKeyId: ctx.secret("S3_KEY_ID"),
 *     secretAccessKey: ctx.secret("S3_SECRET"),
 *     prefix: "raw/",
 *   });
 *   const orders = await lake.extract({ key: "orders/2024-06-01.jsonl" });
 *   const written = await lake.load(orders, { key: "clean/orders.csv", mode: "replace" });
 *   return { rows: written.rows };
 * });
 * ```
 */
export function s3(options: S3Options): S3Connector {
  return new S3Store(options);
}

const DEFAULT_BATCH = 10_000;
/** Required credential options and their tau.toml names. */
const CREDENTIAL_FIELDS = [
  ["accessKeyId", "access_key_id"],
  ["secretAccessKey", "secret_access_key"],
] as const;

class S3Store implements S3Connector {
  readonly name: string;
  readonly type = "s3";
  readonly dialect = null;
  readonly #options: S3Options;
  readonly #bucket: Bucket;
  #connection: Promise<Connection> | null = null;

  constructor(options: S3Options) {
    if (!options?.bucket) throw new ConnectorError("s3: option bucket is required");
    for (const [field, toml] of CREDENTIAL_FIELDS) {
      if (!options[field]) {
        throw new ConnectorError(
          `s3: ${field} is required (${toml} in tau.toml); credentials are never read from ` +
            `the environment or ~/.aws`,
        );
      }
    }
    if (options.endpoint !== undefined && !/^https?:\/\/[^/]+/.test(options.endpoint)) {
      throw new ConnectorError(
        `s3: endpoint must be an http(s) URL such as "http://127.0.0.1:9000", got ${
          JSON.stringify(options.endpoint)
        }`,
      );
    }
    this.#options = options;
    this.#bucket = {
      name: options.bucket,
      prefix: options.prefix ?? "",
      connect: () => this.#connect(),
    };
    this.name = options.name ?? "s3";
  }

  #connect(): Promise<Connection> {
    const o = this.#options;
    this.#connection ??= connect({
      region: o.region ?? "us-east-1",
      endpoint: o.endpoint,
      forcePathStyle: o.forcePathStyle ?? o.endpoint !== undefined,
      accessKeyId: o.accessKeyId,
      secretAccessKey: o.secretAccessKey,
      sessionToken: o.sessionToken,
    }).catch((err) => {
      this.#connection = null;
      throw err;
    });
    return this.#connection;
  }

  async ping(): Promise<void> {
    const { sdk, client } = await this.#connect();
    try {
      await client.send(new sdk.HeadBucketCommand({ Bucket: this.#options.bucket }));
    } catch (err) {
      if (statusOf(err) === 404) {
        const where = this.#options.endpoint ?? `AWS region ${this.#options.region ?? "us-east-1"}`;
        throw new ConnectorError(`s3: bucket ${this.#options.bucket} does not exist at ${where}`);
      }
      throw s3Error("HeadBucket", `s3://${this.#options.bucket}`, err);
    }
  }

  async extract(options: S3ExtractOptions): Promise<Row[]> {
    const rows: Row[] = [];
    for await (const batch of this.extractStream(options)) {
      for (const row of batch) rows.push(row);
    }
    return rows;
  }

  extractStream(options: S3ExtractOptions): AsyncIterable<Row[]> {
    return extractObjects(this.#bucket, options, DEFAULT_BATCH);
  }

  async load(rows: RowSource, options: S3LoadOptions): Promise<LoadResult> {
    return { rows: await loadObject(this.#bucket, rows, options), schema_changes: null };
  }

  async execute(statement: string, params: unknown[] = []): Promise<ExecuteResult> {
    if (statement.trim().toLowerCase() !== "list") {
      throw new ConnectorError(
        `s3 runs no statements: read objects with extract({ key }) or extractStream, write them ` +
          `with load(rows, { key }), and list keys with execute("list", [prefix])`,
      );
    }
    const prefix = params[0] ?? "";
    if (typeof prefix !== "string") {
      throw new ConnectorError(`s3: execute("list", [prefix]) needs a string prefix`);
    }
    const rows: Row[] = [];
    for await (const info of listObjects(this.#bucket, this.#bucket.prefix + prefix)) {
      rows.push({ ...info });
    }
    return { rowCount: rows.length, rows };
  }

  async close(): Promise<void> {
    const connection = this.#connection;
    this.#connection = null;
    if (connection) (await connection.catch(() => null))?.client.destroy();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
