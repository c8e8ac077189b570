/**
 * `[connections.NAME]` in tau.toml: one zod schema per connector type, snake_case as written in
 * TOML. Errors name the connection and the field.
 */
import { z } from "zod";

const port = z.number().int().min(1).max(65535);

function urlWith(protocols: string[], what: string) {
  return z.string().superRefine((value, ctx) => {
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      ctx.addIssue({ code: "custom", message: `is not a valid ${what} URL` });
      return;
    }
    if (!protocols.includes(url.protocol)) {
      ctx.addIssue({
        code: "custom",
        message: `must start with ${protocols.map((p) => p + "//").join(" or ")}`,
      });
    } else if (!url.hostname) {
      ctx.addIssue({ code: "custom", message: "has no host" });
    }
  });
}

const sqlServer = (protocols: string[], what: string) =>
  z.strictObject({
    dsn: urlWith(protocols, what).optional(),
    host: z.string().min(1).optional(),
    port: port.optional(),
    user: z.string().optional(),
    password: z.string().optional(),
    database: z.string().optional(),
    ssl: z.union([z.boolean(), z.enum(["require", "verify-full"])]).optional(),
    schema: z.string().optional(),
  }).refine((c) => c.dsn !== undefined || c.host !== undefined, {
    message: "needs dsn or host",
    path: ["dsn"],
  });

const httpAuth = z.discriminatedUnion("type", [
  z.strictObject({ type: z.literal("bearer"), token: z.string().min(1) }),
  z.strictObject({
    type: z.literal("api_key"),
    header: z.string().optional(),
    value: z.string().min(1),
  }),
  z.strictObject({ type: z.literal("basic"), username: z.string(), password: z.string() }),
]);

export const connectionSchemas = {
  postgres: sqlServer(["postgres:", "postgresql:"], "PostgreSQL"),
  redshift: sqlServer(["postgres:", "postgresql:", "redshift:"], "Redshift"),
  mysql: sqlServer(["mysql:"], "MySQL"),
  duckdb: z.strictObject({
    path: z.string().min(1).default(":memory:"),
    allowed_directories: z.array(z.string().min(1)).default([]),
    read_only: z.boolean().default(false),
  }),
  motherduck: z.strictObject({
    database: z.string().min(1),
    token: z.string().min(1),
  }),
  clickhouse: z.strictObject({
    url: urlWith(["http:", "https:"], "ClickHouse HTTP"),
    user: z.string().optional(),
    password: z.string().optional(),
    database: z.string().optional(),
  }),
  bigquery: z.strictObject({
    project: z.string().min(1),
    dataset: z.string().optional(),
    location: z.string().optional(),
    credentials_path: z.string().optional(),
    credentials_json: z.string().optional(),
    access_token: z.string().optional(),
    api_endpoint: urlWith(["https:", "http:"], "BigQuery API").optional(),
    token_endpoint: urlWith(["https:", "http:"], "OAuth token").optional(),
  }),
  snowflake: z.strictObject({
    account: z.string().regex(/^[A-Za-z0-9_.-]+$/, {
      message: "must be an account identifier like xy12345.eu-west-1",
    }),
    user: z.string().min(1),
    warehouse: z.string().optional(),
    database: z.string().optional(),
    schema: z.string().optional(),
    role: z.string().optional(),
    private_key: z.string().optional(),
    private_key_path: z.string().optional(),
    token: z.string().optional(),
    base_url: urlWith(["https:", "http:"], "Snowflake").optional(),
  }),
  s3: z.strictObject({
    bucket: z.string().min(1),
    region: z.string().default("us-east-1"),
    endpoint: urlWith(["http:", "https:"], "S3 endpoint").optional(),
    force_path_style: z.boolean().optional(),
    access_key_id: z.string().optional(),
    secret_access_key: z.string().optional(),
    session_token: z.string().optional(),
    prefix: z.string().optional(),
  }),
  http_api: z.strictObject({
    base_url: urlWith(["http:", "https:"], "HTTP"),
    headers: z.record(z.string(), z.string()).optional(),
    auth: httpAuth.optional(),
    timeout_ms: z.number().int().positive().optional(),
    max_retries: z.number().int().min(0).max(20).optional(),
    max_pages: z.number().int().positive().optional(),
  }),
} as const;

export type ConnectionType = keyof typeof connectionSchemas;
export const CONNECTION_TYPES = Object.keys(connectionSchemas) as ConnectionType[];
