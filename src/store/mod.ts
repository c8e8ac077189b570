/**
 * The metadata store: the only module the rest of Tau imports from `src/store/`. Callers get
 * a `Store` and never see which engine is behind it.
 */

import { dirname } from "node:path";
import { errorText, TauError } from "../core/errors.ts";
import { isPostgresUrl, redactUrl } from "./postgres/url.ts";
import { SqliteStore } from "./sqlite/sqlite_store.ts";
import type { PipelineRecord, Store } from "./types.ts";

export * from "./types.ts";
export { referAttempts, referSteps } from "./error_refs.ts";

/** Where the metadata lives: a SQLite file (`path`) or a PostgreSQL database (`url`). */
export type StoreOptions =
  | {
    /** SQLite database file path, or ":memory:". */
    path: string;
    url?: undefined;
  }
  | {
    /**
     * `postgres://user:password@host:5432/database` (or `postgresql://`). Query parameters
     * other than postgres.js's own (`sslmode`, `prepare`, …) are sent as session settings,
     * e.g. `?search_path=tau` to keep Tau's tables in a schema of their own.
     */
    url: string;
    path?: undefined;
    /** Connection pool size. @default {10} */
    max?: number;
  };

/**
 * Opens the store and applies pending migrations: with `path`, the SQLite file (creating its
 * directory); with `url`, the PostgreSQL database (several daemons may start at once).
 */
export async function openStore(options: StoreOptions): Promise<Store> {
  const store = options.url !== undefined
    ? await postgresStore(options.url, options.max)
    : await sqliteStore(options.path);
  try {
    await store.migrate();
  } catch (err) {
    await store.close().catch(() => {});
    if (store.kind === "postgres" && !(err instanceof TauError)) {
      // Unreachable server, refused login, missing database: say which store, never the password.
      const reason = errorText(err);
      throw new TauError(
        "internal",
        `Cannot open the PostgreSQL store at ${redactUrl(options.url ?? "")}: ${reason}`,
        {
          hint:
            "check [database] url (or TAU_DATABASE_URL) and that the server accepts connections",
          cause: err,
        },
      );
    }
    throw err;
  }
  return store;
}

async function sqliteStore(path: string): Promise<Store> {
  if (path !== ":memory:" && !path.startsWith("file:")) {
    await Deno.mkdir(dirname(path), { recursive: true });
  }
  return new SqliteStore(path);
}

async function postgresStore(url: string, max: number | undefined): Promise<Store> {
  if (!isPostgresUrl(url)) {
    const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(url)?.[1];
    throw new TauError(
      "invalid_config",
      scheme
        ? `The database URL scheme ${scheme}: is not supported`
        : "The database URL is not a URL",
      {
        hint: "use postgres://user:password@host:5432/database for PostgreSQL, " +
          "or leave [database] url unset for SQLite in TAU_HOME",
      },
    );
  }
  // Loaded only when asked for: SQLite users never load the driver.
  const { PostgresStore } = await import("./postgres/postgres_store.ts");
  try {
    return new PostgresStore(url, { max });
  } catch (err) {
    if (err instanceof TauError) throw err;
    throw new TauError("invalid_config", `The database URL ${redactUrl(url)} cannot be used`, {
      hint: "use postgres://user:password@host:5432/database",
      cause: err,
    });
  }
}

/** The pipeline named `name`, or a `not_found` error that says what to do. */
export async function requirePipeline(store: Store, name: string): Promise<PipelineRecord> {
  const pipeline = await store.getPipeline(name);
  if (!pipeline) {
    throw new TauError("not_found", `No pipeline named ${name}`, {
      hint: "list deployed pipelines with tau list, or deploy one with tau deploy FILE",
    });
  }
  return pipeline;
}
