/**
 * ClickHouse connector over the HTTP interface (port 8123, or 8443 with TLS), with `fetch`
 * only: no driver, nothing read from the environment. Pipelines import {@link clickhouse} from
 * `tau/connectors`.
 *
 * @module
 */
import { loadClickHouse } from "./_clickhouse_load.ts";
import { jsonEachRowLine, paramText, RESULT_FORMAT, ResultDecoder } from "./_clickhouse_rows.ts";
import { quoteTable } from "./_sql.ts";
import { batchSizeOf, HttpWarehouse, lines, queryOf, readText } from "./_warehouse.ts";
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

/** How to reach a ClickHouse server. Credentials travel in headers only, never in the URL. */
export interface ClickHouseOptions {
  /**
   * Base URL of the HTTP interface, without credentials (`https://host:8443`).
   * @default {"http://localhost:8123"}
   */
  url?: string;
  /**
   * User name, sent as the `X-ClickHouse-User` header.
   * @default {"default"}
   */
  user?: string;
  /**
   * Password, usually from `ctx.secret(...)`, sent as the `X-ClickHouse-Key` header.
   * @default {""}
   */
  password?: string;
  /**
   * Database for unqualified table names (the `database` setting).
   * @default {the user's default database}
   */
  database?: string;
  /**
   * Connection name reported as `connector.name`.
   * @default {"clickhouse"}
   */
  name?: string;
}

/** Settings on every query that returns rows: typed output, ISO timestamps, exact decimals. */
const OUTPUT_SETTINGS = {
  default_format: RESULT_FORMAT,
  date_time_output_format: "iso",
  output_format_json_quote_decimals: "1",
};

/** Settings on every insert: ISO timestamps parse, unknown columns are errors (not dropped). */
const INSERT_SETTINGS = {
  date_time_input_format: "best_effort",
  input_format_skip_unknown_fields: "0",
};

function parseUrl(raw: string | undefined, label: string): URL {
  let url: URL;
  try {
    url = new URL(raw ?? "http://localhost:8123");
  } catch {
    throw new ConnectorError(`${label}: url is not a valid URL (http://host:8123)`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new ConnectorError(`${label}: url must start with http:// or https://`);
  }
  if (url.username !== "" || url.password !== "") {
    // The URL itself is not echoed: it holds a secret.
    throw new ConnectorError(
      `${label}: url must not contain credentials; set the user and password options`,
    );
  }
  return url;
}

/** `params[i]` binds the placeholder `{p<i+1>:Type}`; `params.name` binds `{name:Type}`. */
function paramSettings(
  params: unknown[] | Record<string, unknown> | undefined,
  label: string,
): Record<string, string> {
  const entries = Array.isArray(params)
    ? params.map((value, i) => [`p${i + 1}`, value] as const)
    : Object.entries(params ?? {});
  const out: Record<string, string> = {};
  for (const [name, value] of entries) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
      throw new ConnectorError(`${label}: parameter name "${name}" is not an identifier`);
    }
    out[`param_${name}`] = paramText(value);
  }
  return out;
}

class ClickHouse extends HttpWarehouse implements Connector {
  readonly type = "clickhouse";
  readonly dialect = "clickhouse" as const;
  readonly #base: URL;
  readonly #headers: Record<string, string>;
  readonly #database: string | undefined;

  constructor(options: ClickHouseOptions) {
    super(options.name ?? "clickhouse");
    this.#base = parseUrl(options.url, this.name);
    this.#database = options.database;
    this.#headers = {
      "X-ClickHouse-User": options.user ?? "default",
      "X-ClickHouse-Key": options.password ?? "",
      "Content-Type": "text/plain; charset=utf-8",
    };
  }

  /** One POST; the SQL goes in the body unless it is given as the `query` setting. */
  async #post(settings: Record<string, string>, body: string): Promise<Response> {
    const url = new URL(this.#base);
    if (this.#database !== undefined) url.searchParams.set("database", this.#database);
    for (const [key, value] of Object.entries(settings)) url.searchParams.set(key, value);
    const response = await this.http.fetch(url, {
      method: "POST",
      headers: this.#headers,
      body,
    });
    if (!response.ok) {
      const text = (await readText(response)).trim();
      throw new ConnectorError(
        `${this.name}: ClickHouse error (HTTP ${response.status}): ${text || response.statusText}`,
      );
    }
    return response;
  }

  /** A statement run to completion before the answer (errors arrive as HTTP errors). */
  async #run(sql: string, params?: unknown[] | Record<string, unknown>): Promise<ExecuteResult> {
    const named = paramSettings(params, this.name);
    const settings = { ...OUTPUT_SETTINGS, wait_end_of_query: "1", ...named };
    const response = await this.#post(settings, sql);
    const rows = response.body ? await collect(response.body, this.name) : [];
    return { rows, rowCount: rows.length > 0 ? rows.length : writtenRows(response) };
  }

  async *#stream(options: ExtractOptions): AsyncGenerator<Row[]> {
    const query = queryOf(options.query, this.name);
    const size = batchSizeOf(options.batchSize, this.name);
    const named = paramSettings(options.params, this.name);
    const response = await this.#post({ ...OUTPUT_SETTINGS, ...named }, query);
    if (!response.body) return;
    const decoder = new ResultDecoder(this.name);
    let batch: Row[] = [];
    for await (const line of lines(response.body)) {
      const row = decoder.push(line);
      if (row === null) continue;
      batch.push(row);
      if (batch.length === size) {
        yield batch;
        batch = [];
      }
    }
    if (batch.length > 0) yield batch;
  }

  async extract(options: ExtractOptions): Promise<Row[]> {
    const rows: Row[] = [];
    for await (const batch of this.#stream(options)) rows.push(...batch);
    return rows;
  }

  extractStream(options: ExtractOptions): AsyncIterable<Row[]> {
    return this.#stream(options);
  }

  load(rows: RowSource, options: LoadOptions): Promise<LoadResult> {
    return loadClickHouse(
      {
        command: async (sql) => void await this.#run(sql),
        query: async (sql) => (await this.#run(sql)).rows,
        insert: async (table, batch) => {
          const query = `INSERT INTO ${quoteTable("clickhouse", table)} FORMAT JSONEachRow`;
          const body = batch.map(jsonEachRowLine).join("\n") + "\n";
          const response = await this.#post({ ...INSERT_SETTINGS, query }, body);
          await response.body?.cancel();
        },
      },
      rows,
      options,
    );
  }

  execute(sql: string, params?: unknown[]): Promise<ExecuteResult> {
    return this.#run(sql, params);
  }

  /** Each statement is its own request (ClickHouse has no transactions). */
  session<T>(work: (session: SqlSession) => Promise<T>): Promise<T> {
    return work(this);
  }
}

async function collect(body: ReadableStream<Uint8Array>, label: string): Promise<Row[]> {
  const decoder = new ResultDecoder(label);
  const rows: Row[] = [];
  for await (const line of lines(body)) {
    const row = decoder.push(line);
    if (row !== null) rows.push(row);
  }
  return rows;
}

/** `written_rows` from the `X-ClickHouse-Summary` header (INSERT … SELECT and the like). */
function writtenRows(response: Response): number {
  try {
    const summary = JSON.parse(response.headers.get("X-ClickHouse-Summary") ?? "{}");
    const n = Number(summary.written_rows ?? 0);
    return Number.isFinite(n) ? n : 0;
  } catch {
    return 0;
  }
}

/**
 * A ClickHouse connector over HTTP. Nothing is sent until first use.
 *
 * - `extract`/`extractStream`/`execute` bind ClickHouse's server-side placeholders: with an
 *   array, `params[i]` binds `{p<i+1>:Type}` (`{p1:UInt64}`, `{p2:Array(String)}`); with an
 *   object, `params.day` binds `{day:Date}`. Values travel as `param_<name>` in the query
 *   string and never enter the SQL text. Do not add a `FORMAT` clause: rows are read as
 *   `JSONCompactEachRowWithNamesAndTypes`, streamed line by line.
 * - Values read back: 64-bit and wider integers as numbers when exact (text otherwise),
 *   decimals as text, `DateTime`/`DateTime64` as ISO 8601 UTC text, `Date` as `"YYYY-MM-DD"`.
 * - `load`: `INSERT … FORMAT JSONEachRow` in batches of `batchSize` rows (a load option,
 *   default 10,000) into a staging table, then one statement on the target; replace and upsert
 *   end with an atomic `EXCHANGE TABLES`, which needs an Atomic database (the default since
 *   ClickHouse 20.10). New tables are `MergeTree ORDER BY tuple()` with Nullable columns.
 *   ClickHouse has no transactions: rows written by others during an upsert can be lost.
 *
 * @example Copy a day of click events, inline
 * ```ts
 * import { pipeline } from "tau";
 * import { clickhouse } from "tau/connectors";
 *
 * export default pipeline({
 *   name: "clicks_copy",
 *   net: ["ch.internal:8443"],
 *   secrets: ["CH_PASSWORD"],
 * }, async (ctx) => {
 *   await using ch = clickhouse({
 *     url: "https://ch.internal:8443",
 *     user: "etl",
 *     password: ctx.secret("CH_PASSWORD"),
 *   });
 *   const rows = await ch.extract({
 *     query: "SELECT * FROM events WHERE day = {p1:Date} AND kind = {p2:String}",
 *     params: ["2024-05-01", "click"],
 *   });
 *   const loaded = await ch.load(rows, { table: "clicks", mode: "upsert", mergeKey: "id" });
 *   return { rows: loaded.rows };
 * });
 * ```
 */
export function clickhouse(options: ClickHouseOptions = {}): Connector {
  return new ClickHouse(options);
}
