/**
 * PostgreSQL and Amazon Redshift connectors, on the postgres.js driver (loaded on first use).
 * Pipelines import them from `tau/connectors`, where {@link postgres} shows one at work.
 *
 * @module
 */
import type pg from "postgres";
import { withColumnTypes } from "./_columns.ts";
import { pgColumnTypes } from "./_declared.ts";
import { quoteIdent } from "./_sql.ts";
import { loadRows, type PgSql } from "./_postgres_load.ts";
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

/** How to reach a PostgreSQL or Redshift database: a `dsn`, or `host`/`user`/… fields. */
export interface PostgresOptions {
  /**
   * Connection URL, `postgres://user:password@host:port/database?sslmode=require`. Fields given
   * separately (`host`, `password`, …) take precedence over the URL's. The only query parameter
   * understood is `sslmode` (`disable`, `allow`, `prefer`, `require`, `verify-ca`, `verify-full`).
   */
  dsn?: string;
  /** Server host name or IP address (required unless the `dsn` has one). */
  host?: string;
  /**
   * Server port.
   * @default {the `dsn`'s port, else 5432 (5439 for `redshift`)}
   */
  port?: number;
  /** User name (required unless the `dsn` has one). */
  user?: string;
  /**
   * Password, usually from `ctx.secret(...)`. Never read from the environment.
   * @default {the `dsn`'s password, else ""}
   */
  password?: string;
  /**
   * Database name.
   * @default {the `dsn`'s database, else the user name}
   */
  database?: string;
  /**
   * TLS: `false` plain, `"prefer"` TLS when the server offers it (unverified), `"require"` TLS
   * without certificate verification, `true` or `"verify-full"` TLS with the certificate checked
   * against the host name.
   * @default {the `dsn`'s `sslmode`, else "prefer"}
   */
  ssl?: boolean | "prefer" | "require" | "verify-full";
  /**
   * Schema used for unqualified names: the session's `search_path`, and where `load` puts an
   * unqualified `table` (created if missing).
   * @default {the server's search_path}
   */
  schema?: string;
  /**
   * Maximum number of pooled connections.
   * @default {4}
   */
  max?: number;
  /**
   * Connection name reported as `connector.name`.
   * @default {"postgres" ("redshift" for `redshift`)}
   */
  name?: string;
}

type Flavor = "postgres" | "redshift";
type TlsMode = false | "prefer" | "require" | "verify-full";

/** Connection fields after merging the DSN with explicit options. */
interface Endpoint {
  host: string;
  port: number;
  user: string;
  password: string;
  database: string;
  ssl: TlsMode;
}

const SSLMODES: Record<string, TlsMode> = {
  disable: false,
  allow: "prefer",
  prefer: "prefer",
  require: "require",
  "verify-ca": "verify-full",
  "verify-full": "verify-full",
};

/** Merges `dsn` and explicit fields. Errors name the field but never show the password. */
function endpoint(options: PostgresOptions, flavor: Flavor): Endpoint {
  let url: URL | null = null;
  if (options.dsn !== undefined) {
    try {
      url = new URL(options.dsn);
    } catch {
      throw new ConnectorError(`${flavor}: dsn is not a valid URL (postgres://user@host/db)`);
    }
    if (!/^(postgres|postgresql|redshift):$/.test(url.protocol)) {
      throw new ConnectorError(`${flavor}: dsn must start with postgres:// or postgresql://`);
    }
    for (const key of url.searchParams.keys()) {
      if (key !== "sslmode") {
        throw new ConnectorError(
          `${flavor}: dsn parameter "${key}" is not supported (only sslmode is)`,
        );
      }
    }
  }
  const fromUrl = (part: string | undefined) => part ? decodeURIComponent(part) : undefined;
  // `new URL` keeps IPv6 brackets in hostname; the socket wants the bare address.
  const host = options.host ?? fromUrl(url?.hostname.replace(/^\[(.*)\]$/, "$1"));
  const user = options.user ?? fromUrl(url?.username);
  if (!host) throw new ConnectorError(`${flavor}: no host given (set host or dsn)`);
  if (!user) throw new ConnectorError(`${flavor}: no user given (set user or dsn)`);
  const port = options.port ?? (url?.port ? Number(url.port) : flavor === "redshift" ? 5439 : 5432);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new ConnectorError(`${flavor}: port must be an integer from 1 to 65535`);
  }
  const sslmode = url?.searchParams.get("sslmode");
  if (sslmode && !(sslmode in SSLMODES)) {
    throw new ConnectorError(`${flavor}: unknown sslmode "${sslmode}"`);
  }
  const ssl: TlsMode = options.ssl === true
    ? "verify-full"
    : options.ssl ?? (sslmode ? SSLMODES[sslmode] as TlsMode : "prefer");
  return {
    host,
    port,
    user,
    password: options.password ?? fromUrl(url?.password) ?? "",
    database: options.database ?? fromUrl(url?.pathname.slice(1)) ?? user,
    ssl,
  };
}

/**
 * Every postgres.js option is passed explicitly: the driver falls back to `PG*` environment
 * variables for any option left out, and the sandbox grants no such access.
 */
function driverOptions(e: Endpoint, options: PostgresOptions, flavor: Flavor) {
  const password = e.password;
  const types = {
    // bigint/count(*) as numbers when exact (text otherwise) instead of always text.
    int8: {
      to: 20,
      from: [20],
      serialize: (x: unknown) => String(x),
      parse: (x: string) => Number.isSafeInteger(Number(x)) ? Number(x) : x,
    },
    // A date has no time zone: keep "2024-05-01" rather than a Date at local midnight.
    date: {
      to: 1082,
      from: [1082],
      serialize: (x: unknown) => x instanceof Date ? x.toISOString() : String(x),
      parse: (x: string) => x,
    },
    // JSON text goes to the server as it is (the default would re-encode it as a JSON string).
    json: {
      to: 3802,
      from: [114, 3802],
      serialize: (x: unknown) => typeof x === "string" ? x : JSON.stringify(x),
      parse: (x: string) => JSON.parse(x),
    },
    // Strings go to the server as they are (the default re-parses them with `new Date`).
    timestamp: {
      to: 1184,
      from: [1114, 1184],
      serialize: (x: unknown) => x instanceof Date ? x.toISOString() : String(x),
      parse: (x: string) => new Date(x),
    },
  };
  const typed = {
    host: e.host,
    port: e.port,
    user: e.user,
    // A function, because an empty string would fall through to $PGPASSWORD.
    pass: () => password,
    database: e.database,
    ssl: e.ssl,
    max: options.max ?? 4,
    idle_timeout: undefined,
    connect_timeout: 30,
    max_lifetime: undefined,
    backoff: (retries: number) => (0.5 + Math.random() / 2) * Math.min(3 ** retries / 100, 20),
    keep_alive: 60,
    prepare: true,
    debug: false,
    // Redshift's pg_type predates array types; the lookup would fail there.
    fetch_types: flavor === "postgres",
    publications: "alltables",
    target_session_attrs: undefined,
    connection: {
      application_name: "tau",
      ...(options.schema ? { search_path: quoteIdent(flavor, options.schema) } : {}),
    },
    transform: { undefined: null },
    onnotice: () => {},
    types,
  } satisfies pg.Options<typeof types>;
  // Read by the driver (from $PG<NAME> when absent) but missing from its type definitions.
  return Object.assign(typed, { sslnegotiation: null, max_pipeline: 100 });
}

function create(options: PostgresOptions, flavor: Flavor): Connector {
  const where = endpoint(options, flavor);
  const name = options.name ?? flavor;
  if (options.max !== undefined && !(Number.isInteger(options.max) && options.max > 0)) {
    throw new ConnectorError(`${name}: max must be a positive integer`);
  }
  let client: Promise<PgSql> | null = null;

  function connect(): Promise<PgSql> {
    client ??= import("postgres").then((mod) =>
      mod.default(driverOptions(where, options, flavor)) as unknown as PgSql
    );
    return client;
  }

  const run = (sql: PgSql, query: string, params: unknown[], simple: boolean) =>
    sql.unsafe(query, params as never[], { simple } as pg.UnsafeQueryOptions);

  async function executeOn(sql: PgSql, query: string, params: unknown[]): Promise<ExecuteResult> {
    // Without parameters the simple protocol runs scripts of several statements.
    const result: unknown = await run(sql, query, params, params.length === 0);
    const results = isResultList(result) ? result : [result as Result];
    const last = results[results.length - 1];
    const rowCount = results.reduce((n, r) => n + (r.count ?? r.length), 0);
    return { rowCount, rows: last ? typed(last) : [] };
  }

  const connector: Connector = {
    name,
    type: flavor,
    dialect: flavor,

    async extract({ query, params = [] }: ExtractOptions): Promise<Row[]> {
      const sql = await connect();
      const rows = await run(sql, requireQuery(query, name), positional(params, name), false);
      return typed(rows as unknown as Result);
    },

    async *extractStream({ query, params = [], batchSize = 10_000 }: ExtractOptions) {
      if (!Number.isInteger(batchSize) || batchSize < 1) {
        throw new ConnectorError(`${name}: batchSize must be a positive integer`);
      }
      const sql = await connect();
      const text = requireQuery(query, name);
      const cursor = run(sql, text, positional(params, name), false).cursor(batchSize);
      for await (const rows of cursor) yield typed(rows as unknown as Result);
    },

    async load(rows: RowSource, loadOptions: LoadOptions): Promise<LoadResult> {
      return loadRows(await connect(), flavor, options.schema ?? null, rows, loadOptions);
    },

    async execute(query: string, params: unknown[] = []): Promise<ExecuteResult> {
      return executeOn(await connect(), query, params);
    },

    async session<T>(work: (session: SqlSession) => Promise<T>): Promise<T> {
      const reserved = await (await connect()).reserve();
      try {
        return await work({ execute: (query, params = []) => executeOn(reserved, query, params) });
      } finally {
        reserved.release();
      }
    },

    async ping(): Promise<void> {
      const sql = await connect();
      await sql.unsafe("select 1");
    },

    async close(): Promise<void> {
      const pending = client;
      client = null;
      const sql = await pending?.catch(() => null); // a failed import left nothing open
      await sql?.end({ timeout: 5 });
    },

    [Symbol.asyncDispose]() {
      return connector.close();
    },
  };
  return connector;
}

function requireQuery(query: string | undefined, name: string): string {
  if (typeof query !== "string" || query.trim() === "") {
    throw new ConnectorError(`${name}: extract needs a query`);
  }
  return query;
}

function positional(params: ExtractOptions["params"], name: string): unknown[] {
  if (!Array.isArray(params)) {
    throw new ConnectorError(`${name}: params must be an array, bound to $1, $2, …`);
  }
  return params;
}

type Result = Row[] & { count: number | null; columns?: { name: string; type: number }[] };

/** A plain copy of a result's rows carrying its column types, for `load`. */
function typed(result: Result): Row[] {
  return withColumnTypes(result.slice() as Row[], pgColumnTypes(result.columns));
}

/** A multi-statement script returns one result per statement. */
function isResultList(result: unknown): result is Result[] {
  return Array.isArray(result) && result.length > 0 && Array.isArray(result[0]);
}

/**
 * A PostgreSQL connector. Connects on first use; `load` uses `COPY … FROM STDIN` inside one
 * transaction. Values read back: `bigint` as a number when it fits exactly (text otherwise),
 * `numeric` as text, `date` as `"YYYY-MM-DD"`, timestamps as `Date`, `json`/`jsonb` parsed.
 * Parameters bind `$1`, `$2`, … and must be an array.
 *
 * @example Copy a day of orders, inline (a named connection needs no `net` or password)
 * ```ts
 * import { pipeline } from "tau";
 * import { postgres } from "tau/connectors";
 *
 * export default pipeline({
 *   name: "orders_copy",
 *   net: ["db.internal:5432"],
 *   secrets: ["PG_PASSWORD"],
 * }, async (ctx) => {
 *   await using db = postgres({
 *     dsn: "postgres://etl@db.internal:5432/warehouse?sslmode=require",
 *     password: ctx.secret("PG_PASSWORD"),
 *     schema: "raw",
 *   });
 *   const rows = await db.extract({
 *     query: "SELECT * FROM orders WHERE day = $1",
 *     params: [ctx.params.day ?? "2024-05-01"],
 *   });
 *   const loaded = await db.load(rows, { table: "orders_copy", mode: "upsert", mergeKey: "id" });
 *   return { rows: loaded.rows };
 * });
 * ```
 */
export function postgres(options: PostgresOptions): Connector {
  return create(options, "postgres");
}

/**
 * An Amazon Redshift connector (PostgreSQL protocol, port 5439). `load` uses multi-row
 * parameterized INSERTs, since Redshift has no `COPY FROM STDIN`; for large volumes stage files
 * in S3 and run Redshift's `COPY` with `execute`.
 */
export function redshift(options: PostgresOptions): Connector {
  return create(options, "redshift");
}
