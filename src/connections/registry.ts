/**
 * The connection registry: validated `[connections.*]` from tau.toml, and what each connection
 * means for a run — the hosts it grants, the values to redact, and the options handed to the
 * connector inside the sandbox.
 */
import { TauError } from "../core/errors.ts";
import { CONNECTION_TYPES, connectionSchemas, type ConnectionType } from "./schemas.ts";
import { DEFAULT_WAREHOUSE_PATH } from "./default_warehouse.ts";

export interface Connection {
  name: string;
  type: ConnectionType;
  /** Validated fields, snake_case as in tau.toml. */
  fields: Record<string, unknown>;
}

const NAME = /^[a-zA-Z][a-zA-Z0-9_-]{0,62}$/;

/**
 * Connections every daemon has unless tau.toml defines the same name: `warehouse`, an embedded
 * DuckDB database in TAU_HOME (see default_warehouse.ts), so the examples run with no
 * configuration at all.
 */
export const DEFAULT_CONNECTIONS: Readonly<Record<string, Record<string, unknown>>> = {
  warehouse: { type: "duckdb", path: DEFAULT_WAREHOUSE_PATH },
};

/**
 * The connections a daemon has, and the tau.toml they were read from (null: it started without
 * one), which errors about a missing connection name.
 */
export type ConnectionRegistry = Map<string, Connection> & { file?: string | null };

/**
 * Validates every `[connections.NAME]` table; the first problem is thrown, naming it. `place`
 * turns a key into where it is (`FILE:LINE: KEY`).
 */
export function parseConnections(
  raw: Record<string, Record<string, unknown>>,
  place: (key: string) => string = (key) => `tau.toml: ${key}`,
): Map<string, Connection> {
  const out = new Map<string, Connection>();
  for (const [name, table] of Object.entries(raw)) {
    if (!NAME.test(name)) {
      throw new TauError("invalid_config", `${place(`connections.${name}`)}: invalid name`, {
        hint: "a connection name is a letter, then up to 62 letters, digits, _ or -",
      });
    }
    const { type, ...fields } = table;
    if (typeof type !== "string" || !(type in connectionSchemas)) {
      throw new TauError(
        "invalid_config",
        `${place(`connections.${name}.type`)}: unknown type ${JSON.stringify(type)}`,
        {
          hint: `one of: ${CONNECTION_TYPES.join(", ")}`,
        },
      );
    }
    const parsed = connectionSchemas[type as ConnectionType].safeParse(fields);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const field = issue?.path.map(String).join(".") || "(table)";
      throw new TauError(
        "invalid_config",
        `${place(`connections.${name}.${field}`)}: ${issue?.message}`,
        {
          hint: "see tau.toml.example for the fields of each connection type",
        },
      );
    }
    out.set(name, {
      name,
      type: type as ConnectionType,
      fields: parsed.data as Record<string, unknown>,
    });
  }
  return out;
}

const DEFAULT_PORTS: Record<string, number> = {
  "postgres:": 5432,
  "postgresql:": 5432,
  "redshift:": 5439,
  "mysql:": 3306,
  "http:": 80,
  "https:": 443,
};

/** `host:port` of a URL, with the scheme's default port. */
export function hostPort(url: string, fallbackPort?: number): string {
  const u = new URL(url);
  const port = u.port ? Number(u.port) : fallbackPort ?? DEFAULT_PORTS[u.protocol] ?? 443;
  return `${u.hostname}:${port}`;
}

/** The exact hosts:ports a run needs for this connection (empty for trusted-side engines). */
export function hostsFor(c: Connection): string[] {
  const f = c.fields as Record<string, string | number | undefined>;
  switch (c.type) {
    case "postgres":
    case "redshift":
    case "mysql": {
      const fallback = c.type === "redshift" ? 5439 : c.type === "mysql" ? 3306 : 5432;
      if (f.dsn) return [hostPort(String(f.dsn), fallback)];
      const host = String(f.host);
      return [`${host.includes(":") ? `[${host}]` : host}:${f.port ?? fallback}`];
    }
    case "clickhouse":
      return [hostPort(String(f.url), String(f.url).startsWith("https:") ? 8443 : 8123)];
    case "bigquery":
      return [
        hostPort(String(f.api_endpoint ?? "https://bigquery.googleapis.com")),
        ...(f.access_token
          ? []
          : [hostPort(String(f.token_endpoint ?? "https://oauth2.googleapis.com"))]),
      ];
    case "snowflake":
      return [hostPort(String(f.base_url ?? `https://${f.account}.snowflakecomputing.com`))];
    case "s3":
      return f.endpoint
        ? [hostPort(String(f.endpoint))]
        : [`${f.bucket}.s3.${f.region}.amazonaws.com:443`, `s3.${f.region}.amazonaws.com:443`];
    case "http_api":
      return [hostPort(String(f.base_url))];
    case "duckdb":
    case "motherduck":
      return [];
  }
}

/** Engines that run on the trusted side behind the run's channel (native code). */
export function runsOnTrustedSide(c: Connection): boolean {
  return c.type === "duckdb" || c.type === "motherduck";
}

const SECRET_FIELDS = new Set([
  "password",
  "token",
  "access_token",
  "secret_access_key",
  "session_token",
  "private_key",
  "credentials_json",
]);

/** Every credential value of a connection, to be redacted from what a run stores. */
export function secretValues(
  c: Connection,
  resolved: Record<string, unknown> = c.fields,
): string[] {
  const values: string[] = [];
  for (const [key, value] of Object.entries(resolved)) {
    if (SECRET_FIELDS.has(key) && typeof value === "string") values.push(value);
    if (key === "dsn" && typeof value === "string") {
      const url = new URL(value);
      if (url.password) values.push(value, decodeURIComponent(url.password), url.password);
    }
    if (key === "headers" && value && typeof value === "object") {
      for (const v of Object.values(value)) {
        if (typeof v === "string") values.push(v, v.replace(/^\S+\s+/, ""));
      }
    }
    if (key === "auth" && value && typeof value === "object") {
      const auth = value as Record<string, unknown>;
      for (const k of ["token", "value", "password"]) {
        if (typeof auth[k] === "string") values.push(auth[k] as string);
      }
    }
    if (key === "credentials" && value && typeof value === "object") {
      const key = (value as Record<string, unknown>).private_key;
      if (typeof key === "string") values.push(key);
    }
  }
  return values.filter((v) => v.length > 0);
}

/** What `tau connections` shows: never a credential. */
export function publicView(c: Connection) {
  return { name: c.name, type: c.type, hosts: hostsFor(c), trusted_side: runsOnTrustedSide(c) };
}
