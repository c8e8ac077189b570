/**
 * Google BigQuery connector over the REST API v2 with `fetch`: no client library, no
 * metadata server, nothing read from the environment or from files. Pipelines import
 * {@link bigquery} from `tau/connectors`.
 *
 * @module
 */
import { type ServiceAccountKey, tokenSource } from "./_google_auth.ts";
import { loadBigQuery } from "./_bigquery_load.ts";
import {
  type ApiRow,
  decodeRow,
  parameterFields,
  type QueryParameter,
  type SchemaField,
} from "./_bigquery_rows.ts";
import { quoteTable } from "./_sql.ts";
import { batchSizeOf, HttpWarehouse, queryOf, readText, rebatch } from "./_warehouse.ts";
import {
  type Connector,
  ConnectorError,
  type ExecuteResult,
  type ExtractOptions,
  type LoadOptions,
  type LoadResult,
  type Row,
  type RowSource,
  type SqlSession,
} from "./types.ts";

export type { ServiceAccountKey } from "./_google_auth.ts";

/** How to reach BigQuery. Give `credentials` (a service-account key) or `accessToken`. */
export interface BigQueryOptions {
  /** Project that runs (and is billed for) the queries. */
  project: string;
  /**
   * Dataset for unqualified table names (`orders` means `dataset.orders`).
   * @default {none: names must be `dataset.table`}
   */
  dataset?: string;
  /**
   * Location of the jobs (`US`, `EU`, `europe-west1`, …).
   * @default {inferred by BigQuery from the tables used}
   */
  location?: string;
  /**
   * A service-account key: the parsed JSON key file, or its text (e.g. `ctx.secret("GCP_SA_KEY")`).
   * It is exchanged for an access token at `tokenEndpoint`, cached until shortly before expiry.
   */
  credentials?: ServiceAccountKey | string;
  /** A ready OAuth 2.0 access token (used instead of `credentials`; not renewed). */
  accessToken?: string;
  /**
   * Base URL of the BigQuery API.
   * @default {"https://bigquery.googleapis.com"}
   */
  apiEndpoint?: string;
  /**
   * Token endpoint for service-account keys.
   * @default {the key's token_uri, else "https://oauth2.googleapis.com/token"}
   */
  tokenEndpoint?: string;
  /**
   * Connection name reported as `connector.name`.
   * @default {"bigquery"}
   */
  name?: string;
}

/** The parts of a `QueryResponse`/`GetQueryResultsResponse` that are used. */
interface QueryResponse {
  jobComplete?: boolean;
  jobReference?: { projectId: string; jobId: string; location?: string };
  schema?: { fields?: SchemaField[] };
  rows?: ApiRow[];
  pageToken?: string;
  numDmlAffectedRows?: string;
}

/** How a request binds values. */
type Parameters = { parameterMode?: "POSITIONAL" | "NAMED"; queryParameters?: QueryParameter[] };

/** An API error with its HTTP status and BigQuery's reason (`notFound`, `invalidQuery`, …). */
class BigQueryError extends ConnectorError {
  constructor(message: string, readonly status: number, readonly reason: string | undefined) {
    super(message);
  }
}

const DEFAULT_API = "https://bigquery.googleapis.com";

function checkUrl(value: string, field: string, label: string): void {
  if (!/^https?:\/\/[^/@]+(\/|$)/.test(value)) {
    throw new ConnectorError(`${label}: ${field} must be an http(s) URL without credentials`);
  }
}
/** How long one getQueryResults call waits server-side for a running job. */
const POLL_MS = "10000";

class BigQuery extends HttpWarehouse implements Connector {
  readonly type = "bigquery";
  readonly dialect = "bigquery" as const;
  readonly #options: BigQueryOptions;
  readonly #api: string;
  readonly #token: () => Promise<string>;

  constructor(options: BigQueryOptions) {
    super(options.name ?? "bigquery");
    if (typeof options.project !== "string" || options.project === "") {
      throw new ConnectorError(`${this.name}: project is required`);
    }
    this.#options = options;
    this.#api = (options.apiEndpoint ?? DEFAULT_API).replace(/\/+$/, "");
    checkUrl(this.#api, "apiEndpoint", this.name);
    if (options.tokenEndpoint !== undefined) {
      checkUrl(options.tokenEndpoint, "tokenEndpoint", this.name);
    }
    this.#token = tokenSource(options, this.http, this.name);
  }

  /** One API call with the bearer token; errors carry BigQuery's message. */
  async #call(method: string, path: string, query: Record<string, string>, body?: unknown) {
    const url = new URL(this.#api + path);
    for (const [key, value] of Object.entries(query)) url.searchParams.set(key, value);
    const headers: Record<string, string> = { Authorization: `Bearer ${await this.#token()}` };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    const response = await this.http.fetch(url, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = response.ok ? await response.text() : await readText(response);
    let parsed: unknown = undefined;
    try {
      parsed = JSON.parse(text);
    } catch {
      // reported below
    }
    if (!response.ok) {
      const error = (parsed as { error?: { message?: string; errors?: { reason?: string }[] } })
        ?.error;
      const reason = error?.errors?.[0]?.reason;
      const message = error?.message ?? (text.trim().slice(0, 2_000) || response.statusText);
      throw new BigQueryError(
        `${this.name}: BigQuery error (HTTP ${response.status}${
          reason ? ` ${reason}` : ""
        }): ${message}`,
        response.status,
        reason,
      );
    }
    if (parsed === undefined) {
      throw new ConnectorError(
        `${this.name}: BigQuery answered HTTP ${response.status} without JSON`,
      );
    }
    return parsed as QueryResponse;
  }

  #projectPath(project = this.#options.project): string {
    return `/bigquery/v2/projects/${encodeURIComponent(project)}/queries`;
  }

  /** `jobs.query`, then `jobs.getQueryResults` until the job is complete. */
  async #start(sql: string, parameters: Parameters, maxResults?: number): Promise<QueryResponse> {
    const o = this.#options;
    let response = await this.#call("POST", this.#projectPath(), {}, {
      query: sql,
      useLegacySql: false,
      ...parameters,
      ...(o.dataset ? { defaultDataset: { projectId: o.project, datasetId: o.dataset } } : {}),
      ...(o.location ? { location: o.location } : {}),
      ...(maxResults ? { maxResults } : {}),
      formatOptions: { useInt64Timestamp: true },
    });
    while (!response.jobComplete) response = await this.#results(response, undefined, maxResults);
    return response;
  }

  /** `jobs.getQueryResults`: waits for the job (no `pageToken`) or reads the next page. */
  #results(previous: QueryResponse, pageToken?: string, maxResults?: number) {
    const job = previous.jobReference;
    if (!job) throw new ConnectorError(`${this.name}: BigQuery answered without a jobReference`);
    const query: Record<string, string> = { "formatOptions.useInt64Timestamp": "true" };
    const location = job.location ?? this.#options.location;
    if (location) query.location = location;
    if (maxResults) query.maxResults = String(maxResults);
    if (pageToken) query.pageToken = pageToken;
    else query.timeoutMs = POLL_MS;
    const path = `${this.#projectPath(job.projectId)}/${encodeURIComponent(job.jobId)}`;
    return this.#call("GET", path, query).then((r) => ({
      ...r,
      jobReference: r.jobReference ?? job,
    }));
  }

  /** Every page of a query's result, decoded. */
  async *#pages(sql: string, parameters: Parameters, size: number): AsyncGenerator<Row[]> {
    let response = await this.#start(sql, parameters, size);
    while (true) {
      const fields = response.schema?.fields ?? [];
      yield (response.rows ?? []).map((row) => decodeRow(fields, row));
      if (!response.pageToken) return;
      response = await this.#results(response, response.pageToken, size);
    }
  }

  async #execute(sql: string, parameters: Parameters = {}) {
    let response = await this.#start(sql, parameters);
    const rows: Row[] = [];
    const fields = response.schema?.fields ?? [];
    while (true) {
      for (const row of response.rows ?? []) rows.push(decodeRow(fields, row));
      if (!response.pageToken) break;
      response = await this.#results(response, response.pageToken);
    }
    const affected = Number(response.numDmlAffectedRows ?? NaN);
    return { rows, rowCount: Number.isFinite(affected) ? affected : rows.length };
  }

  async extract(options: ExtractOptions): Promise<Row[]> {
    const rows: Row[] = [];
    for await (const batch of this.extractStream(options)) rows.push(...batch);
    return rows;
  }

  extractStream(options: ExtractOptions): AsyncIterable<Row[]> {
    const query = queryOf(options.query, this.name);
    const size = batchSizeOf(options.batchSize, this.name);
    const parameters = parameterFields(options.params, this.name);
    return rebatch(this.#pages(query, parameters, size), size);
  }

  load(rows: RowSource, options: LoadOptions): Promise<LoadResult> {
    return loadBigQuery(
      {
        run: async (sql, params = []) => {
          await this.#execute(
            sql,
            params.length > 0 ? { parameterMode: "POSITIONAL", queryParameters: params } : {},
          );
        },
        query: async (sql) => (await this.#execute(sql)).rows,
        emptyTable: async (table) => {
          try {
            await this.#execute(`TRUNCATE TABLE ${quoteTable("bigquery", table)}`);
          } catch (error) {
            if (!(error instanceof BigQueryError && error.reason === "notFound")) throw error;
          }
        },
      },
      rows,
      options,
    );
  }

  execute(sql: string, params?: unknown[]): Promise<ExecuteResult> {
    return this.#execute(sql, parameterFields(params, this.name));
  }

  /** Each statement is its own request; BigQuery runs a transactional script as one job. */
  session<T>(work: (session: SqlSession) => Promise<T>): Promise<T> {
    return work(this);
  }
}

/**
 * A BigQuery connector (GoogleSQL, `useLegacySql: false`). Nothing is sent until first use.
 *
 * - Parameters: an array binds `?` placeholders (positional), an object binds `@name`. Types
 *   come from the JS values: integers → INT64, other numbers → FLOAT64, booleans → BOOL,
 *   strings → STRING, `Date` → TIMESTAMP, arrays → ARRAY, other objects → JSON, null → a NULL
 *   STRING (write `CAST(? AS INT64)` where another type is needed).
 * - Values read back: INT64 as a number when exact (text otherwise), FLOAT64 as a number,
 *   BOOL as a boolean, TIMESTAMP as ISO 8601 UTC text with microseconds, JSON parsed,
 *   NUMERIC/BIGNUMERIC as exact text, DATE/TIME/DATETIME as BigQuery's text, BYTES as base64,
 *   RECORD as an object and REPEATED as an array.
 * - `extractStream` pages through `jobs.getQueryResults` (`maxResults` = `batchSize`).
 * - `load` stages rows with DML and changes the target in one atomic statement (see
 *   `_bigquery_load.ts`); `batchSize` (a load option, default 1,000, capped at 10,000
 *   parameters per statement) sets rows per INSERT. Each statement is a BigQuery job.
 * - The sandbox must allow `bigquery.googleapis.com` and, for keys, `oauth2.googleapis.com`.
 *
 * @example Copy a day of orders with a service-account key, inline
 * ```ts
 * import { pipeline } from "tau";
 * import { bigquery } from "tau/connectors";
 *
 * export default pipeline({
 *   name: "bq_orders_copy",
 *   net: ["bigquery.googleapis.com", "oauth2.googleapis.com"],
 *   secrets: ["GCP_SA_KEY"],
 * }, async (ctx) => {
 *   await using bq = bigquery({
 *     project: "acme-data",
 *     dataset: "raw",
 *     credentials: ctx.secret("GCP_SA_KEY"),
 *   });
 *   const rows = await bq.extract({
 *     query: "SELECT * FROM orders WHERE day = @day",
 *     params: { day: "2024-05-01" },
 *   });
 *   const loaded = await bq.load(rows, { table: "orders_copy", mode: "upsert", mergeKey: "id" });
 *   return { rows: loaded.rows };
 * });
 * ```
 */
export function bigquery(options: BigQueryOptions): Connector {
  return new BigQuery(options);
}
